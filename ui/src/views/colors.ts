// "Like this, in another colour": a row of the engine's palette swatches (and "Any colour") above
// the results. Picking one re-ranks the shortlist the engine already sent towards that colour
// (main.ts, with rerank.ts's towardColor and each hit's `swatches`): instant, no search again.

import { h, mount } from '../dom';
import { PALETTE } from '../generated/contract';

export interface ColorHandlers {
  /** A PALETTE index, or null for the photo's own colours. */
  pick(swatch: number | null): void;
}

export class ColorRow {
  constructor(
    private root: HTMLElement,
    private handlers: ColorHandlers,
  ) {}

  /** `available`: the response carries a shortlist to re-rank (every app search does); `busy`:
   * the first search of a photo runs (the row holds its place, so the results do not move). */
  render(selected: number | null, available: boolean, busy = false): void {
    this.root.hidden = !available;
    if (!available) return;
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.swatch : undefined;
    const any = h(
      'button',
      {
        type: 'button',
        class: 'swatch any',
        'data-swatch': 'any',
        'aria-pressed': String(selected === null),
        'aria-disabled': busy ? 'true' : undefined,
        onclick: () => !busy && selected !== null && this.handlers.pick(null),
      },
      h('span', { class: 'swatch-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'swatch-name' }, 'Any colour'),
    );
    const swatches = PALETTE.map((s, i) =>
      h(
        'button',
        {
          type: 'button',
          class: 'swatch',
          'data-swatch': s.name,
          'aria-pressed': String(selected === i),
          title: `Like this, in ${s.name}`,
          'aria-disabled': busy ? 'true' : undefined,
          onclick: () => !busy && selected !== i && this.handlers.pick(i),
        },
        h('span', { class: 'swatch-dot', style: { background: s.hex }, 'aria-hidden': 'true' }),
        h('span', { class: 'swatch-name' }, s.name),
      ),
    );
    // "Any colour" beside the label, so the 12 colours make two even rows on a phone
    mount(
      this.root,
      h('div', { class: 'colors-head' }, h('p', { class: 'colors-label', id: 'colors-label' }, 'In another colour'), any),
      h('div', { class: 'swatches', role: 'group', 'aria-labelledby': 'colors-label' }, swatches),
    );
    if (focused) this.root.querySelector<HTMLElement>(`[data-swatch="${CSS.escape(focused)}"]`)?.focus();
  }

  hide(): void {
    this.root.hidden = true;
  }
}
