// "Take photo" on a desktop: the webcam in a modal <dialog> (live preview, Take photo, Cancel).
// Phones keep the file input with `capture`, which opens the system camera. Where the browser or
// webview has no camera, or access is refused, `open` rejects with a CameraError that says so;
// the caller shows it and the file picker stays one tap away. The stream is stopped whenever the
// dialog closes.

import { h, icon, ICONS, mount } from '../dom';

export class CameraError extends Error {
  constructor(
    message: string,
    /** 'none': no camera here; 'refused': the person or the system said no. */
    readonly kind: 'none' | 'refused',
  ) {
    super(message);
  }
}

/** Whether this page can ask for a camera at all (a secure context with mediaDevices). */
export function cameraSupported(): boolean {
  return typeof navigator.mediaDevices?.getUserMedia === 'function';
}

export class CameraDialog {
  private video = h('video', { id: 'camera-video', autoplay: true, muted: true, playsinline: true }) as HTMLVideoElement;
  private stream: MediaStream | null = null;
  private settle: ((photo: Blob | null) => void) | null = null;

  constructor(private dialog: HTMLDialogElement) {
    dialog.addEventListener('close', () => this.finish(null));
  }

  /** The photo taken, or null when cancelled; rejects with a CameraError when there is no camera. */
  async open(): Promise<Blob | null> {
    if (!cameraSupported()) throw new CameraError('This window cannot use a camera. Choose a photo instead.', 'none');
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      if (name === 'NotAllowedError' || name === 'SecurityError')
        throw new CameraError('Camera access was refused. Allow it in the system settings, or choose a photo instead.', 'refused');
      throw new CameraError('No camera found on this computer. Choose a photo instead.', 'none');
    }
    this.video.srcObject = this.stream;
    const take = h('button', { type: 'button', class: 'button primary', id: 'camera-take' }, icon([...ICONS.camera]), 'Take photo');
    mount(
      this.dialog,
      h(
        'div',
        { class: 'details-panel camera-panel' },
        h(
          'header',
          { class: 'details-head' },
          h('h2', { id: 'camera-title' }, 'Take a photo'),
          h(
            'button',
            { type: 'button', class: 'icon-button details-close', 'aria-label': 'Cancel', onclick: () => this.dialog.close() },
            icon([...ICONS.close]),
          ),
        ),
        h('div', { class: 'camera-frame' }, this.video),
        h(
          'div',
          { class: 'alert-actions' },
          take,
          h('button', { type: 'button', class: 'button quiet', id: 'camera-cancel', onclick: () => this.dialog.close() }, 'Cancel'),
        ),
      ),
    );
    const photo = new Promise<Blob | null>((resolve) => (this.settle = resolve));
    take.addEventListener('click', () => void this.capture());
    this.dialog.showModal();
    take.focus();
    return photo;
  }

  /** The current frame, full size, as a JPEG. */
  private async capture(): Promise<void> {
    const { videoWidth: w, videoHeight: hh } = this.video;
    if (!w || !hh) return; // no frame yet
    const canvas = h('canvas', { width: w, height: hh }) as HTMLCanvasElement;
    canvas.getContext('2d')?.drawImage(this.video, 0, 0, w, hh);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', 0.92));
    this.finish(blob);
    if (this.dialog.open) this.dialog.close();
  }

  private finish(photo: Blob | null): void {
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    this.video.srcObject = null;
    const settle = this.settle;
    this.settle = null;
    settle?.(photo);
  }
}
