// The top-10 grid under the engine's verdict on it (`match`: "This is it", "Similar products",
// "No close match in this catalog"). A shopper reads each card's closeness in words (from the
// verdict, the rank and the profile's match rule); the designer view adds the raw score and its
// bar. Cards are keyed by product id and moved, not rebuilt, when the designer's sliders re-rank,
// so thumbnails do not flicker and focus stays on the card it was on.

import { thumbnailUrl } from '../api';
import { h, icon, mount } from '../dom';
import { barWidth, categoryLabel, count, formatPrice, formatScore } from '../format';
import type { CatalogInfo, Hit, Match, MatchRule, Sample } from '../generated/contract';

/** What a shopper is told about the whole list (the CLI prints the same words). */
export const VERDICT_TITLE: Record<Match, string> = {
  same: 'This is it',
  similar: 'Similar products',
  none: 'No close match in this catalog',
};

const VERDICT_ICON: Record<Match, string[]> = {
  same: ['M5 12.5l4.5 4.5L19 7.5'],
  similar: ['M9 4.5a5 5 0 1 0 0 10 5 5 0 0 0 0-10z', 'M15 9.5a5 5 0 1 0 0 10 5 5 0 0 0 0-10z'],
  none: ['M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14z', 'M16 16l4.5 4.5', 'M8 11h6'],
};

/** The line under the verdict's title; `scope`: the one category searched (the person's choice). */
function verdictNote(verdict: Match, hits: Hit[], scope?: string): string {
  const top = hits[0];
  if (!top) return scope ? `${scope} has nothing to compare with.` : 'The catalog has nothing to compare with.';
  if (verdict === 'same') return `${top.name} is very likely the product in your photo. Lookalikes follow.`;
  if (verdict === 'similar') return 'These look like your photo, but none is surely the same product.';
  return scope ? `Nothing close in ${scope}; the nearest products there are below.` : 'Nothing close; the nearest products are below.';
}

/**
 * A card's closeness in words. The first card carries the verdict ("Same product" only when the
 * engine says `same`, beside the "This is it" badge; else "Closest" or "Nearest, not close"); under
 * `none` the others are "Not close", else "Similar" while their semantic score stays at or above
 * the rule's `none_semantic` (below it the engine would call the list "no close match") and "Less
 * alike" under it. Without a rule nothing is claimed beyond the order.
 */
export function closeness(hit: Hit, index: number, verdict: Match, rule: MatchRule | null): { word: string; tone: 'it' | 'close' | 'far' } {
  if (index === 0 && verdict === 'same') return { word: 'Same product', tone: 'it' };
  if (verdict === 'none') return { word: index === 0 ? 'Nearest, not close' : 'Not close', tone: 'far' };
  if (index === 0) return { word: 'Closest', tone: 'close' };
  if (rule && hit.semantic < Math.fround(rule.none_semantic)) return { word: 'Less alike', tone: 'far' };
  return { word: 'Similar', tone: 'close' };
}

export interface ResultsHandlers {
  open(hit: Hit, trigger: HTMLElement): void;
  /** The shopper tapped one of the empty state's sample products. */
  sample(sample: Sample): void;
}

interface Card {
  li: HTMLLIElement;
  rank: HTMLElement;
  badge: HTMLElement;
  word: HTMLElement;
  score: HTMLElement;
  meter: HTMLElement;
  other: HTMLElement;
}

export class ResultsView {
  private cards = new Map<string, Card>();
  private hits = new Map<string, Hit>();
  private banner = h('div', { class: 'match', id: 'match' });
  private grid = h('ol', { class: 'grid', id: 'results-grid', 'aria-labelledby': 'results-heading match-title' });

  /** `between`: shown between the verdict and the grid (the colour row), hidden by its owner. */
  constructor(
    private root: HTMLElement,
    private handlers: ResultsHandlers,
    private between: HTMLElement | null = null,
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
        this.samples(catalog?.samples ?? []),
      ),
    );
  }

  /** A few of the shop's own product photos to try the search with (none: nothing shown). */
  private samples(samples: Sample[]): HTMLElement | null {
    if (samples.length === 0) return null;
    return h(
      'div',
      { class: 'samples', id: 'samples' },
      h('p', { class: 'samples-title', id: 'samples-title' }, 'No photo at hand? Try one of these:'),
      h(
        'ul',
        { class: 'samples-list', 'aria-labelledby': 'samples-title' },
        ...samples.map((s) =>
          h(
            'li',
            null,
            h(
              'button',
              { type: 'button', class: 'sample', 'data-id': s.id, title: s.name, onclick: () => this.handlers.sample(s) },
              h('img', { src: thumbnailUrl(s.id), alt: '', loading: 'lazy', decoding: 'async' }),
              h('span', { class: 'sample-name' }, s.name),
            ),
          ),
        ),
      ),
    );
  }

  /** Placeholder cards while the first search of a photo runs (keeps the layout still). */
  skeleton(count = 10): void {
    this.reset();
    const ol = h('ol', { class: 'grid skeleton', 'aria-hidden': 'true' });
    const nbsp = '\u00a0';
    // the verdict's box too, so the grid does not move down when the answer arrives
    const banner = h(
      'div',
      { class: 'match skeleton', 'aria-hidden': 'true' },
      h('span', { class: 'match-mark' }),
      h(
        'span',
        { class: 'match-text' },
        h('span', { class: 'match-title' }, h('span', { class: 'line short' }, nbsp)),
        h('span', { class: 'match-note' }, h('span', { class: 'line' }, nbsp)),
      ),
    );
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
              h('span', { class: 'card-word' }, h('span', { class: 'line short' }, nbsp)),
              h('span', { class: 'card-score designer-only' }, h('span', { class: 'meter' })),
              h('span', { class: 'card-category' }, nbsp),
            ),
          ),
        ),
      );
    }
    mount(this.root, banner, this.between, ol);
  }

  /**
   * The ranked list under its verdict. The banner is not a live region: main.ts announces the
   * verdict in the status line, once. `scope`: the category searched alone, if the person chose one.
   */
  render(hits: Hit[], verdict: Match, rule: MatchRule | null, scope?: string): void {
    if (!this.root.contains(this.grid)) {
      this.reset();
      mount(this.root, this.banner, this.between, this.grid);
    }
    this.banner.className = `match match-${verdict}`;
    this.banner.dataset.match = verdict;
    mount(
      this.banner,
      h('span', { class: 'match-mark' }, icon(VERDICT_ICON[verdict])),
      h(
        'div',
        { class: 'match-text' },
        h('h3', { class: 'match-title', id: 'match-title' }, VERDICT_TITLE[verdict]),
        h('p', { class: 'match-note', id: 'match-note' }, verdictNote(verdict, hits, scope)),
      ),
    );
    // "none": the nearest products are still listed, dimmed
    this.grid.classList.toggle('far', verdict === 'none');

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
      const isIt = verdict === 'same' && i === 0;
      card.badge.hidden = !isIt;
      card.li.classList.toggle('is-match', isIt);
      const near = closeness(hit, i, verdict, rule);
      card.word.textContent = near.word;
      card.word.dataset.tone = near.tone;
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
    const badge = h('span', { class: 'match-badge', hidden: true }, 'This is it');
    const word = h('span', { class: 'card-word' });
    const other = h('span', { class: 'tag', title: 'Not in the category the router picked' }, 'other category');
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
        badge,
      ),
      h(
        'span',
        { class: 'card-body' },
        h('span', { class: 'card-name', title: hit.name }, hit.name),
        h('span', { class: 'card-price' }, formatPrice(hit.price, hit.currency)),
        word,
        h(
          'span',
          { class: 'card-score designer-only' },
          h('span', { class: 'visually-hidden' }, 'Score '),
          h('span', { class: 'meter', 'aria-hidden': 'true' }, meter),
          score,
        ),
        h('span', { class: 'card-category' }, categoryLabel(hit.category), ' ', other),
      ),
    );
    const li = h('li', { class: 'card', dataset: { id: hit.id } }, button);
    const card = { li, rank, badge, word, score, meter, other };
    this.cards.set(hit.id, card);
    return card;
  }

  private reset(): void {
    this.cards.clear();
    this.hits.clear();
    this.grid.replaceChildren();
  }
}
