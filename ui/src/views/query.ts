// The query: the photo as taken, the engine's cut-out, the detected category with its score and
// the other categories as chips (tap one to search that category instead). Over the photo, the
// objects the segmenter found (`SearchResponse.objects`) as outlines: tap one, or drag a box with
// a finger or the mouse, to search just that part of the photo.

import { h, mount } from '../dom';
import { categoryLabel, formatPercent } from '../format';
import type { CatalogInfo, DetectedObject, Region, SearchResponse } from '../generated/contract';

export interface QueryHandlers {
  /** null: back to the router's own choice. */
  category(name: string | null): void;
  /** Search this part of the photo (null: all of it). */
  region(region: Region | null): void;
}

/** A drawn box smaller than this share of the photo on a side is a tap, not a box. */
const MIN_BOX = 0.05;

export interface QueryState {
  photoUrl: string;
  photoName: string;
  response: SearchResponse | null;
  override: string | null;
  /** The part searched (null: the whole photo). */
  region: Region | null;
  /** The objects found in the whole photo, largest first. */
  objects: DetectedObject[];
  busy: boolean;
}

export class QueryView {
  private photo = h('img', { alt: 'Your photo', id: 'photo-image' });
  /** Sits exactly over the photo's pixels inside its letterboxed frame. */
  private layer = h('div', { class: 'objects-layer', id: 'objects-layer' });
  private drawn = h('div', { class: 'region-box drawing', hidden: true });
  private photoCaption = h('figcaption', null, 'Your photo');
  private whole = h('button', { type: 'button', class: 'chip whole', id: 'whole-photo', hidden: true }, 'Whole photo');
  private last: QueryState | null = null;
  private cutoutFrame = h('div', { class: 'frame checker' });
  private cutoutCaption = h('figcaption', null, 'Cut-out');
  private cutout = h('img', { alt: 'The product cut out of your photo', id: 'cutout-image' });
  private wait = h('span', { class: 'frame-wait' });
  private category: HTMLElement = h('div', { class: 'category-block pending' });
  /** Whether the less likely categories are shown (kept while the same photo is searched again). */
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
        h('figure', null, h('div', { class: 'frame photo-frame' }, this.photo, this.layer), this.photoCaption, this.whole),
        h('figure', null, this.cutoutFrame, this.cutoutCaption),
      ),
      this.category,
    );
    this.photo.addEventListener('load', () => this.fitLayer());
    this.whole.addEventListener('click', () => {
      if (this.last && !this.last.busy) this.handlers.region(null);
    });
    this.dragToSelect();
  }

  /** The layer over the photo's own box: the frame is 4:3 and the photo `contain`ed in it. */
  private fitLayer(): void {
    const { naturalWidth: w, naturalHeight: hgt } = this.photo;
    if (!w || !hgt) return;
    const frame = 4 / 3;
    const aspect = w / hgt;
    const [fw, fh] = aspect > frame ? [100, (frame / aspect) * 100] : [(aspect / frame) * 100, 100];
    Object.assign(this.layer.style, {
      left: `${(100 - fw) / 2}%`,
      top: `${(100 - fh) / 2}%`,
      width: `${fw}%`,
      height: `${fh}%`,
    });
  }

  /** Pointer drag on the photo draws a box; releasing it searches that box. */
  private dragToSelect(): void {
    let start: { x: number; y: number; id: number } | null = null;
    const at = (e: PointerEvent) => {
      const b = this.layer.getBoundingClientRect();
      const clamp = (v: number) => Math.min(1, Math.max(0, v));
      return { x: clamp((e.clientX - b.left) / b.width), y: clamp((e.clientY - b.top) / b.height) };
    };
    const boxOf = (e: PointerEvent): Region | null => {
      if (!start) return null;
      const p = at(e);
      return {
        x: Math.min(start.x, p.x),
        y: Math.min(start.y, p.y),
        w: Math.abs(p.x - start.x),
        h: Math.abs(p.y - start.y),
      };
    };
    this.layer.addEventListener('pointerdown', (e) => {
      if (!this.last?.response || this.last.busy || e.button !== 0) return;
      if (e.target instanceof HTMLElement && e.target.closest('.object-outline')) return;
      const p = at(e);
      start = { ...p, id: e.pointerId };
      this.layer.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    this.layer.addEventListener('pointermove', (e) => {
      const box = start && e.pointerId === start.id ? boxOf(e) : null;
      if (!box) return;
      this.drawn.hidden = false;
      place(this.drawn, box);
    });
    const end = (e: PointerEvent, search: boolean) => {
      if (!start || e.pointerId !== start.id) return;
      const box = boxOf(e);
      start = null;
      this.drawn.hidden = true;
      if (search && box && box.w >= MIN_BOX && box.h >= MIN_BOX) this.handlers.region(box);
    };
    this.layer.addEventListener('pointerup', (e) => end(e, true));
    this.layer.addEventListener('pointercancel', (e) => end(e, false));
  }

  /** The outlines of the objects found, the region searched, and the caption that says what to do. */
  private renderObjects(q: QueryState): void {
    const ready = q.response !== null;
    const outlines = ready
      ? q.objects.map((o, i) => {
          const active = q.region !== null && sameRegion(q.region, o.region);
          const b = h('button', {
            type: 'button',
            class: active ? 'object-outline active' : 'object-outline',
            'data-object': String(i),
            'aria-pressed': String(active),
            'aria-label': `Search object ${i + 1} of ${q.objects.length} only`,
            'aria-disabled': q.busy ? 'true' : undefined,
            onclick: () => {
              if (!q.busy && !active) this.handlers.region(o.region);
            },
          });
          place(b, o.region);
          return b;
        })
      : [];
    const drawnActive = ready && q.region !== null && !q.objects.some((o) => sameRegion(o.region, q.region!));
    const searchedBox = drawnActive ? h('div', { class: 'region-box active', id: 'searched-region' }) : null;
    if (searchedBox && q.region) place(searchedBox, q.region);
    mount(this.layer, outlines, searchedBox, this.drawn);
    this.layer.classList.toggle('pickable', ready);
    this.whole.hidden = q.region === null;
    this.whole.setAttribute('aria-disabled', String(q.busy));
    this.photoCaption.textContent = !ready
      ? 'Your photo'
      : q.region
        ? 'Searching the marked part'
        : q.objects.length > 1
          ? `${q.objects.length} things found: tap one, or drag a box`
          : 'Drag a box to search part of it';
  }

  render(q: QueryState, catalog: CatalogInfo | null): void {
    this.root.hidden = false;
    this.last = q;
    if (this.photo.getAttribute('src') !== q.photoUrl) {
      this.photo.src = q.photoUrl;
      this.chipsOpen.value = false;
    }
    this.renderObjects(q);
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

/** Positions `el` over the photo at `r` (shares of the photo's width and height). */
function place(el: HTMLElement, r: Region): void {
  Object.assign(el.style, {
    left: `${r.x * 100}%`,
    top: `${r.y * 100}%`,
    width: `${r.w * 100}%`,
    height: `${r.h * 100}%`,
  });
}

function sameRegion(a: Region, b: Region): boolean {
  const eps = 1e-6;
  return Math.abs(a.x - b.x) < eps && Math.abs(a.y - b.y) < eps && Math.abs(a.w - b.w) < eps && Math.abs(a.h - b.h) < eps;
}

/** Chips shown before "More": the likeliest categories, at most this many (the searched ones
 * always show)... */
const FIRST_CHIPS = 4;
/** ...and only those the router gives at least this share (the top one always shows). */
const LIKELY = 0.05;

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
    const likely = i === 0 || (i < FIRST_CHIPS && (score ?? 0) >= LIKELY);
    const more = !likely && !active && !(r.route.reason !== 'unsure' && searched.has(name));
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
