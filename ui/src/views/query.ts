// The query: the photo as taken, the engine's cut-out, the detected category with its score and
// the other categories as chips (tap one to search that category instead).

import { h, mount } from '../dom';
import { categoryLabel, formatPercent } from '../format';
import type { CatalogInfo, SearchResponse } from '../generated/contract';

export interface QueryHandlers {
  /** null: back to the router's own choice. */
  category(name: string | null): void;
}

export interface QueryState {
  photoUrl: string;
  photoName: string;
  response: SearchResponse | null;
  override: string | null;
  busy: boolean;
}

export class QueryView {
  private photo = h('img', { alt: 'Your photo', id: 'photo-image' });
  private cutoutFrame = h('div', { class: 'frame checker' });
  private cutoutCaption = h('figcaption', null, 'Cut-out');
  private cutout = h('img', { alt: 'The product cut out of your photo', id: 'cutout-image' });
  private wait = h('span', { class: 'frame-wait' });
  private category: HTMLElement = h('div', { class: 'category-block pending' });
  /** Whether the less likely categories are shown (kept across searches). */
  private chipsOpen = { value: false };

  constructor(
    private root: HTMLElement,
    private handlers: QueryHandlers,
  ) {
    mount(
      root,
      h(
        'div',
        { class: 'query-images' },
        h('figure', null, h('div', { class: 'frame' }, this.photo), h('figcaption', null, 'Your photo')),
        h('figure', null, this.cutoutFrame, this.cutoutCaption),
      ),
      this.category,
    );
  }

  render(q: QueryState, catalog: CatalogInfo | null): void {
    this.root.hidden = false;
    if (this.photo.getAttribute('src') !== q.photoUrl) this.photo.src = q.photoUrl;
    this.photo.alt = `Your photo${q.photoName ? ` (${q.photoName})` : ''}`;
    const r = q.response;
    if (r) {
      if (this.cutout.getAttribute('src') !== r.cutout) this.cutout.src = r.cutout;
      if (!this.cutoutFrame.contains(this.cutout)) mount(this.cutoutFrame, this.cutout);
    } else {
      this.wait.textContent = q.busy ? 'Cutting out…' : 'No cut-out';
      mount(this.cutoutFrame, this.wait);
    }
    this.cutoutCaption.textContent =
      r?.segmentation.used === 'fallback' ? 'Whole photo (no clear product found)' : 'Cut-out';
    const next = r
      ? categoryBlock(r, q, catalog, this.handlers, this.chipsOpen)
      : h('div', { class: `category-block ${q.busy ? 'pending' : 'idle'}` });
    // keep keyboard focus on the chip that was used (the block is rebuilt)
    const focused = document.activeElement;
    const focusedChip =
      focused instanceof HTMLElement && this.category.contains(focused) ? focused.dataset.category : undefined;
    this.category.replaceWith(next);
    this.category = next;
    if (focusedChip !== undefined) {
      const again =
        next.querySelector<HTMLElement>(`[data-category="${CSS.escape(focusedChip)}"]`) ??
        next.querySelector<HTMLElement>('.chip[aria-pressed="true"]');
      again?.focus();
    }
  }

  hide(): void {
    this.root.hidden = true;
  }
}

/** Chips shown before "More": the likeliest categories (the searched ones always show). */
const FIRST_CHIPS = 4;

function categoryBlock(
  r: SearchResponse,
  q: QueryState,
  catalog: CatalogInfo | null,
  handlers: QueryHandlers,
  open: { value: boolean },
): HTMLElement {
  const top = r.categories[0];
  const scores = new Map(r.categories.map((c) => [c.name, c.score]));
  // every catalog category gets a chip, in the router's order, then any it did not score
  const names = [
    ...r.categories.map((c) => c.name),
    ...(catalog?.categories.map((c) => c.name) ?? []).filter((n) => !scores.has(n)),
  ];
  const searched = new Set(r.route.searched);
  let line: (Node | string)[];
  if (r.route.reason === 'override') {
    line = [
      'Searching ',
      h('strong', { id: 'detected-category' }, categoryLabel(r.route.searched[0] ?? '')),
      ' (your choice)',
      top ? ` · detected ${categoryLabel(top.name)} ${formatPercent(top.score)}` : '',
    ];
  } else if (r.route.reason === 'unsure' || !top) {
    line = [
      h('strong', { id: 'detected-category' }, 'Not sure what this is'),
      top ? ` (best guess ${categoryLabel(top.name)} ${formatPercent(top.score)})` : '',
      ': searched every category. Tap one to narrow it down.',
    ];
  } else {
    const second = r.route.reason === 'top2' ? r.route.searched.find((n) => n !== top.name) : undefined;
    line = [
      'Detected ',
      h('strong', { id: 'detected-category' }, categoryLabel(top.name)),
      ' ',
      h('span', { class: 'pct', id: 'detected-score' }, formatPercent(top.score)),
      second ? ` · also likely ${categoryLabel(second)}` : '',
    ];
  }
  const extra: HTMLElement[] = [];
  const chips = names.map((name, i) => {
    const active = q.override ? q.override === name : r.route.reason !== 'unsure' && searched.has(name);
    const score = scores.get(name);
    const more = i >= FIRST_CHIPS && !active && !(r.route.reason !== 'unsure' && searched.has(name));
    const chip = h(
      'button',
      {
        type: 'button',
        class: more ? 'chip extra' : 'chip',
        hidden: more && !open.value,
        'aria-pressed': String(active),
        'data-category': name,
        'aria-disabled': q.busy ? 'true' : undefined,
        onclick: () => {
          if (q.busy || q.override === name) return;
          handlers.category(name);
        },
      },
      categoryLabel(name),
      score !== undefined ? [' ', h('span', { class: 'chip-score' }, formatPercent(score))] : null,
    );
    if (more) extra.push(chip);
    return chip;
  });
  if (extra.length) {
    const label = () => (open.value ? 'Fewer' : `More (${extra.length})`);
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'chip more',
        id: 'more-categories',
        'data-category': '__more',
        'aria-expanded': String(open.value),
        onclick: () => {
          open.value = !open.value;
          for (const c of extra) c.hidden = !open.value;
          toggle.setAttribute('aria-expanded', String(open.value));
          toggle.textContent = label();
        },
      },
      label(),
    );
    chips.push(toggle);
  }
  if (q.override) {
    chips.unshift(
      h(
        'button',
        {
          type: 'button',
          class: 'chip auto',
          'data-category': '',
          'aria-disabled': q.busy ? 'true' : undefined,
          onclick: () => {
            if (!q.busy) handlers.category(null);
          },
        },
        'Auto',
      ),
    );
  }
  return h(
    'div',
    { class: 'category-block' },
    h('p', { class: 'detected' }, line),
    h(
      'div',
      { class: 'chips', role: 'group', 'aria-label': 'Search a category' },
      chips,
    ),
  );
}
