// The top-10 grid. Cards are keyed by product id and moved, not rebuilt, when the designer's
// sliders re-rank, so thumbnails do not flicker and focus stays on the card it was on.

import { thumbnailUrl } from '../api';
import { h, mount } from '../dom';
import { barWidth, categoryLabel, count, formatPrice, formatScore } from '../format';
import type { CatalogInfo, Hit } from '../generated/contract';

/** Below this best score the grid says "No close match" (the results are still listed). */
export const MIN_SCORE = 0.35;

export interface ResultsHandlers {
  open(hit: Hit, trigger: HTMLElement): void;
}

interface Card {
  li: HTMLLIElement;
  rank: HTMLElement;
  score: HTMLElement;
  meter: HTMLElement;
  other: HTMLElement;
}

export class ResultsView {
  private cards = new Map<string, Card>();
  private hits = new Map<string, Hit>();
  private notice = h('div', { class: 'no-match', id: 'no-match', hidden: true });
  private grid = h('ol', { class: 'grid', id: 'results-grid', 'aria-labelledby': 'results-heading' });

  constructor(
    private root: HTMLElement,
    private handlers: ResultsHandlers,
  ) {}

  /** Nothing searched yet: a short hint. */
  empty(catalog: CatalogInfo | null): void {
    this.reset();
    const what = catalog
      ? `${count(catalog.size, 'product')} in ${count(catalog.categories.length, 'category', 'categories')} (${catalog.name})`
      : 'the shop’s catalog';
    mount(
      this.root,
      h(
        'div',
        { class: 'empty', id: 'empty-state' },
        h('p', { class: 'empty-title' }, 'Find products that look like your photo'),
        h(
          'p',
          null,
          'Take a photo of a product or pick one from your gallery. Lookalike cuts the product out, works out what it is and finds the 10 closest of ',
          what,
          '. Everything runs on this device.',
        ),
      ),
    );
  }

  /** Placeholder cards while the first search of a photo runs (keeps the layout still). */
  skeleton(count = 10): void {
    this.reset();
    const ol = h('ol', { class: 'grid skeleton', 'aria-hidden': 'true' });
    const nbsp = '\u00a0';
    for (let i = 0; i < count; i++) {
      // the same boxes as a real card, so nothing moves when the results arrive
      ol.append(
        h(
          'li',
          { class: 'card' },
          h(
            'div',
            { class: 'card-button' },
            h('span', { class: 'thumb' }),
            h(
              'span',
              { class: 'card-body' },
              h('span', { class: 'card-name' }, h('span', { class: 'line' }, nbsp)),
              h('span', { class: 'card-price' }, h('span', { class: 'line short' }, nbsp)),
              h('span', { class: 'card-score' }, h('span', { class: 'meter' })),
              h('span', { class: 'card-category' }, nbsp),
            ),
          ),
        ),
      );
    }
    mount(this.root, ol);
  }

  render(hits: Hit[], categoryNote?: string): void {
    if (!this.root.contains(this.grid)) {
      this.reset();
      mount(this.root, this.notice, this.grid);
    }
    const best = hits[0]?.score ?? 0;
    const noMatch = hits.length === 0 || best < MIN_SCORE;
    this.notice.hidden = !noMatch;
    mount(
      this.notice,
      h('strong', null, hits.length === 0 ? 'No products found' : 'No close match'),
      h(
        'span',
        null,
        hits.length === 0
          ? ' The catalog has nothing to compare with.'
          : ` Nothing scores ${formatScore(MIN_SCORE)} or more${categoryNote ? ` in ${categoryNote}` : ''}; these are the nearest products anyway.`,
      ),
    );

    const keep = new Set(hits.map((h) => h.id));
    for (const [id, card] of this.cards) {
      if (!keep.has(id)) {
        card.li.remove();
        this.cards.delete(id);
      }
    }
    this.hits.clear();
    hits.forEach((hit, i) => {
      this.hits.set(hit.id, hit);
      const card = this.cards.get(hit.id) ?? this.createCard(hit);
      card.rank.textContent = String(i + 1);
      card.score.textContent = formatScore(hit.score);
      card.meter.style.width = barWidth(hit.score);
      card.other.hidden = hit.routed;
      card.li.dataset.rank = String(i + 1);
      card.li.dataset.score = hit.score.toFixed(6);
      // appendChild moves an existing node: the grid ends up in `hits` order
      if (this.grid.children[i] !== card.li) this.grid.insertBefore(card.li, this.grid.children[i] ?? null);
    });
  }

  private createCard(hit: Hit): Card {
    const rank = h('span', { class: 'rank', 'aria-hidden': 'true' });
    const score = h('span', { class: 'score-value' });
    const meter = h('span', { class: 'meter-fill' });
    const other = h('span', { class: 'tag', title: 'Topped up from a category the router did not pick' }, 'other category');
    const button = h(
      'button',
      {
        type: 'button',
        class: 'card-button',
        onclick: () => {
          const current = this.hits.get(hit.id);
          if (current) this.handlers.open(current, button);
        },
      },
      h(
        'span',
        { class: 'thumb' },
        h('img', { src: thumbnailUrl(hit.id), alt: '', decoding: 'async' }),
        rank,
      ),
      h(
        'span',
        { class: 'card-body' },
        h('span', { class: 'card-name' }, hit.name),
        h('span', { class: 'card-price' }, formatPrice(hit.price, hit.currency)),
        h(
          'span',
          { class: 'card-score' },
          h('span', { class: 'visually-hidden' }, 'Score '),
          h('span', { class: 'meter', 'aria-hidden': 'true' }, meter),
          score,
        ),
        h('span', { class: 'card-category' }, categoryLabel(hit.category), ' ', other),
      ),
    );
    const li = h('li', { class: 'card', dataset: { id: hit.id } }, button);
    const card = { li, rank, score, meter, other };
    this.cards.set(hit.id, card);
    return card;
  }

  private reset(): void {
    this.cards.clear();
    this.hits.clear();
    this.grid.replaceChildren();
  }
}
