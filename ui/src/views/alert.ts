// The app's alert box: a title from the error code, what to do about it in plain words where the
// code says (the backend's own message then goes to the designer view), else the backend's
// message as it is; Try again / another action / Dismiss. The search side (main.ts, ids
// `alert-*`) and the Catalogs panel (`catalog-alert-*`) both use it.

import { h } from '../dom';
import type { ApiError, ErrorCode } from '../generated/contract';

/** Alert titles by error code (typed: a code that is not in the generated union fails tsc). */
export const TITLES: Partial<Record<ErrorCode, string>> = {
  unsupported_format: 'That file is not a photo Lookalike can read',
  empty_input: 'That file is empty',
  corrupt_image: 'That photo is damaged',
  image_too_large: 'That photo is too large',
  image_too_small: 'That photo is too small',
  engine_not_ready: 'Still loading',
  not_found: 'Not found',
  barcode_not_found: 'Not in this catalog',
  no_barcode: 'No barcode',
  // the Catalogs panel
  bundle: 'That bundle was refused',
  catalog: 'That folder is not a catalog Lookalike can open',
  catalog_mismatch: 'That catalog does not fit the models here',
  products: 'The products file has a problem',
  cancelled: 'Build cancelled',
  busy: 'Another catalog job is running',
  unsupported: 'Not available here',
};

/** What a shopper can do about a photo the engine refused: the same photo will fail again. */
export const PHOTO_HINTS: Partial<Record<ErrorCode, string>> = {
  // the engine's list (`SUPPORTED`, crates/engine/src/stages/decode.rs)
  unsupported_format: 'Choose a photo in JPEG, PNG, WebP, GIF, TIFF or BMP.',
  empty_input: 'The file has nothing in it. Choose another photo.',
  corrupt_image: 'The file is damaged or was cut short. Choose another photo, or take it again.',
  image_too_large: 'Choose a smaller photo, or a screenshot of it.',
  image_too_small: 'It is too small to search. Choose a larger photo.',
};

export interface AlertOptions {
  retry?: () => void;
  /** Plain words on what to do (the backend's message is then for designers only). */
  hint?: string;
  /** Another way forward than trying again, e.g. picking another photo. */
  action?: { label: string; run: () => void };
  /** A note, not an error (amber, role=status). */
  info?: boolean;
  dismiss: () => void;
}

/** An alert box; `prefix` names its ids (`${prefix}-box`, `-message`, `-retry`, `-dismiss`). */
export function alertBox(prefix: string, err: ApiError, opts: AlertOptions): HTMLElement {
  const title = TITLES[err.code] ?? (opts.info ? 'Note' : 'Something went wrong');
  return h(
    'div',
    { class: `alert ${opts.info ? 'info' : 'error'}`, role: opts.info ? 'status' : 'alert', id: `${prefix}-box`, 'data-code': err.code },
    h('p', { class: 'alert-title' }, title),
    opts.hint ? h('p', { class: 'alert-hint', id: `${prefix}-hint` }, opts.hint) : null,
    title === err.message
      ? null
      : h('p', { class: opts.hint ? 'alert-message designer-only' : 'alert-message', id: `${prefix}-message` }, err.message),
    h(
      'div',
      { class: 'alert-actions' },
      opts.action
        ? h('button', { type: 'button', class: 'button small primary', id: `${prefix}-action`, onclick: () => opts.action?.run() }, opts.action.label)
        : null,
      opts.retry
        ? h('button', { type: 'button', class: 'button small', id: `${prefix}-retry`, onclick: () => opts.retry?.() }, 'Try again')
        : null,
      h('button', { type: 'button', class: 'button small quiet', id: `${prefix}-dismiss`, onclick: () => opts.dismiss() }, 'Dismiss'),
    ),
  );
}
