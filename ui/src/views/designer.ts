// Designer view: every stage of the last search. The mask and cut-out, the router's category
// scores, per-stage timings, the top-50 before rerank next to the top-10 after, and the blend
// weights as sliders that re-rank the 50 candidates live in the browser (no new search), with the
// rest of the catalog's scoring (the whole frame's share, the router prior) shown beside them.

import { thumbnailUrl } from '../api';
import { h, mount } from '../dom';
import { barWidth, categoryLabel, count, formatMs, formatPercent, formatScore } from '../format';
import type { BlendWeights, CatalogInfo, Hit, RouteReason, SearchResponse } from '../generated/contract';

export interface DesignerHandlers {
  weights(w: BlendWeights): void;
}

const WEIGHT_KEYS = [
  ['semantic', 'Semantic'],
  ['texture', 'Texture'],
  ['color', 'Colour'],
] as const;

export class DesignerView {
  private sliders = new Map<keyof BlendWeights, { input: HTMLInputElement; output: HTMLOutputElement }>();
  private sum = h('span', { class: 'muted', id: 'weights-sum' });
  private before = h('ol', { class: 'stage-list', id: 'before-list' });
  private after = h('ol', { class: 'stage-list', id: 'after-list' });
  private liveNote = h('p', { class: 'muted live-note', id: 'live-note' });
  private weightsNoteText = h('span', null);
  private normalise = h('button', { type: 'button', class: 'button small', id: 'weights-normalise' }, 'Make them sum to 1');
  private weightsNote = h('p', { class: 'weights-note', id: 'weights-note', role: 'status', hidden: true }, this.weightsNoteText, ' ', this.normalise);
  private response: SearchResponse | null = null;
  /** The catalog's router prior (how much a sum other than 1 changes the order). */
  private prior = 0;

  constructor(
    private root: HTMLElement,
    private handlers: DesignerHandlers,
  ) {}

  empty(): void {
    this.response = null;
    mount(this.root, h('p', { class: 'muted' }, 'Search with a photo to see what each stage did.'));
  }

  render(r: SearchResponse, catalog: CatalogInfo | null, weights: BlendWeights, live: Hit[], searchWeights: BlendWeights): void {
    this.response = r;
    this.prior = catalog?.scoring.route_prior ?? 0;
    this.sliders.clear();
    // the sliders and what they change first, next to the grid they re-rank; then the stages
    mount(
      this.root,
      this.weights(catalog, weights),
      this.lists(),
      this.segmentation(r),
      this.categories(r),
      this.timings(r),
      catalog ? this.models(catalog) : null,
    );
    this.update(weights, live, searchWeights);
  }

  /** Slider moved: outputs and the before/after lists follow; the grid is updated by main. */
  update(weights: BlendWeights, live: Hit[], searchWeights: BlendWeights): void {
    const r = this.response;
    if (!r) return;
    for (const [key] of WEIGHT_KEYS) {
      const s = this.sliders.get(key);
      if (!s) continue;
      if (Math.abs(Number(s.input.value) - weights[key]) > 1e-9) s.input.value = String(weights[key]);
      s.output.value = weights[key].toFixed(2);
    }
    const total = weights.semantic + weights.texture + weights.color;
    this.sum.textContent = `sum ${total.toFixed(2)}`;
    // not silent: all zero ranks nothing; another sum than 1 changes the scale (and how much the
    // router prior counts against the blend), so say so and offer the same mix summing to 1
    const zero = total <= 0;
    const off = !zero && Math.abs(total - 1) > 0.005;
    this.sum.classList.toggle('warn', zero || off);
    this.weightsNote.hidden = !(zero || off);
    this.normalise.hidden = !off;
    this.weightsNoteText.textContent = zero
      ? 'All three at 0 rank nothing: the list stays as it was.'
      : off
        ? `The weights sum to ${total.toFixed(2)}, not 1: every score is ${total.toFixed(2)} times as large${
            this.prior > 0 ? `, so the router prior counts ${total > 1 ? 'less' : 'more'} against them` : ' (the order is the same as with them summing to 1)'
          }.`
        : '';
    this.normalise.onclick = () =>
      this.handlers.weights({ semantic: weights.semantic / total, texture: weights.texture / total, color: weights.color / total });
    const changed =
      Math.abs(weights.semantic - searchWeights.semantic) > 1e-9 ||
      Math.abs(weights.texture - searchWeights.texture) > 1e-9 ||
      Math.abs(weights.color - searchWeights.color) > 1e-9;
    this.liveNote.textContent = changed
      ? `Re-ranked here from the ${r.candidates.length} candidates with ${weights.semantic.toFixed(2)} / ${weights.texture.toFixed(2)} / ${weights.color.toFixed(2)}.`
      : 'As ranked by the engine.';

    const liveRank = new Map(live.map((hit, i) => [hit.id, i + 1]));
    const scoreOf = new Map(live.map((hit) => [hit.id, hit.score]));
    mount(
      this.before,
      r.candidates.map((c, i) => {
        const now = liveRank.get(c.id);
        return h(
          'li',
          { class: now ? 'in-top' : '', dataset: { id: c.id } },
          h('span', { class: 'pos' }, String(i + 1)),
          h('img', { src: thumbnailUrl(c.id), alt: '', width: 28, height: 28, loading: 'lazy', decoding: 'async' }),
          h('span', { class: 'name' }, c.name, c.routed ? null : h('span', { class: 'tag' }, 'other')),
          h(
            'span',
            { class: 'num', title: `semantic similarity: cut-out ${formatScore(c.semantic_cutout)}, whole frame ${formatScore(c.semantic_frame)}` },
            formatScore(c.semantic),
          ),
          h('span', { class: 'moved' }, now ? `→ ${now}` : ''),
        );
      }),
    );
    const semanticRank = new Map(r.candidates.map((c, i) => [c.id, i + 1]));
    mount(
      this.after,
      live.map((hit, i) => {
        const was = semanticRank.get(hit.id);
        return h(
          'li',
          { dataset: { id: hit.id } },
          h('span', { class: 'pos' }, String(i + 1)),
          h('img', { src: thumbnailUrl(hit.id), alt: '', width: 28, height: 28, decoding: 'async' }),
          h('span', { class: 'name' }, hit.name),
          h('span', { class: 'num', title: 'blended score' }, formatScore(scoreOf.get(hit.id) ?? hit.score)),
          h('span', { class: 'moved' }, was ? (was === i + 1 ? '=' : `from ${was}`) : ''),
        );
      }),
    );
  }

  private segmentation(r: SearchResponse): HTMLElement {
    const s = r.segmentation;
    const [x, y, w, hh] = s.bbox;
    return card(
      'Segment',
      'designer-segment',
      h(
        'div',
        { class: 'stage-images' },
        h(
          'figure',
          null,
          h(
            'div',
            { class: 'frame mask-frame', style: { 'aspect-ratio': `${r.image.width} / ${r.image.height}` } },
            h('img', { src: r.mask, alt: 'Segmentation mask (white: product)', id: 'designer-mask' }),
          ),
          h('figcaption', null, 'Mask'),
        ),
        h(
          'figure',
          null,
          h(
            'div',
            { class: 'frame checker', style: { 'aspect-ratio': `${r.image.width} / ${r.image.height}` } },
            h('img', { src: r.cutout, alt: 'Cut-out, cropped', id: 'designer-cutout' }),
          ),
          h('figcaption', null, 'Cut-out'),
        ),
      ),
      h(
        'dl',
        { class: 'facts compact' },
        fact('Mask from', s.source === 'alpha' ? 'the photo’s own transparency' : `model ${s.model ?? '?'}`),
        fact('Used', s.used === 'cutout' ? 'cut-out' : `whole photo: ${s.fallback_reason ?? 'fallback'}`),
        fact('Foreground', formatPercent(s.foreground)),
        fact('Crop box', `${w}×${hh} at ${x},${y}`),
        fact(
          'Photo',
          `${r.image.format} ${r.image.width}×${r.image.height}${r.image.exif_orientation !== 1 ? `, EXIF orientation ${r.image.exif_orientation}` : ''}`,
        ),
      ),
    );
  }

  private categories(r: SearchResponse): HTMLElement {
    const searched = new Set(r.route.searched);
    const reasons: Record<RouteReason, string> = {
      top1: 'top category',
      top2: 'top two categories',
      unsure: 'unsure: every category',
      override: 'your choice',
    };
    return card(
      'Route',
      'designer-route',
      h(
        'ol',
        { class: 'chart categories-chart', id: 'category-chart', 'aria-label': 'Category scores' },
        r.categories.map((c) =>
          h(
            'li',
            { class: searched.has(c.name) ? 'searched' : '', dataset: { category: c.name } },
            h('span', { class: 'label' }, categoryLabel(c.name)),
            h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: { width: barWidth(c.score) } })),
            h('span', { class: 'num' }, formatPercent(c.score)),
          ),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        r.route.reason === 'override'
          ? `Searched ${r.route.searched.map(categoryLabel).join(', ') || 'nothing'} only (${reasons.override}).`
          : `The router’s pick: ${r.route.searched.map(categoryLabel).join(', ') || 'none'} (${reasons[r.route.reason]}), with ${formatPercent(r.route.confidence)} of the classifier’s answer on this catalog’s categories. Every category is searched; the router prior weighs its shares in the score.`,
      ),
    );
  }

  private timings(r: SearchResponse): HTMLElement {
    // the stages as the engine lists them, in pipeline order
    const { stages, total_ms } = r.timings;
    const max = Math.max(...stages.map((s) => s.ms), 1e-9);
    return card(
      'Timings',
      'designer-timings',
      h(
        'ol',
        { class: 'chart timings', id: 'timings-chart', 'aria-label': 'Time per stage' },
        stages.map(({ stage, ms }) =>
          h(
            'li',
            { dataset: { stage } },
            h('span', { class: 'label' }, stage),
            h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: { width: barWidth(ms / max) } })),
            h('span', { class: 'num' }, formatMs(ms)),
          ),
        ),
        h(
          'li',
          { class: 'total', dataset: { stage: 'total' } },
          h('span', { class: 'label' }, 'total'),
          h('span', { class: 'bar', 'aria-hidden': 'true' }),
          h('span', { class: 'num' }, formatMs(total_ms)),
        ),
      ),
    );
  }

  private weights(catalog: CatalogInfo | null, weights: BlendWeights): HTMLElement {
    const scoring = catalog?.scoring;
    const base = scoring?.blend;
    const rows = WEIGHT_KEYS.map(([key, label]) => {
      const id = `w-${key}`;
      const output = h('output', { for: id, class: 'num', id: `${id}-value` }) as HTMLOutputElement;
      const input = h('input', {
        type: 'range',
        id,
        min: '0',
        max: '1',
        step: '0.01',
        value: String(weights[key]),
        oninput: () => this.emit(),
      });
      this.sliders.set(key, { input, output });
      return h('div', { class: 'slider' }, h('label', { for: id }, label), input, output);
    });
    const disabled = !this.response?.candidates.length;
    for (const { input } of this.sliders.values()) input.disabled = disabled;
    return card(
      'Rerank weights',
      'designer-weights',
      h(
        'p',
        { class: 'muted' },
        'score = semantic × ws + texture × wt + colour × wc + router prior × the router’s share for the product’s category, where semantic mixes the cut-out’s and the whole frame’s similarity. Moving a slider re-ranks the candidates here, without searching again.',
      ),
      rows,
      scoring
        ? h(
            'p',
            { class: 'scoring-fixed', id: 'scoring-fixed' },
            'whole-frame view ',
            h('span', { class: 'num', id: 'scoring-frame', title: 'Share of the whole frame’s similarity in the semantic score' }, scoring.frame.toFixed(2)),
            ' · router prior ',
            h('span', { class: 'num', id: 'scoring-prior', title: 'Weight of the router’s share for the product’s category' }, scoring.route_prior.toFixed(2)),
          )
        : null,
      h(
        'div',
        { class: 'slider-foot' },
        this.sum,
        base
          ? h(
              'button',
              {
                type: 'button',
                class: 'button small',
                id: 'weights-reset',
                onclick: () => this.handlers.weights({ ...base }),
              },
              `Reset to ${base.semantic.toFixed(2)} / ${base.texture.toFixed(2)} / ${base.color.toFixed(2)}`,
            )
          : null,
      ),
      this.weightsNote,
      disabled ? h('p', { class: 'muted' }, 'This search returned no candidates to re-rank.') : null,
    );
  }

  private lists(): HTMLElement {
    const section = card(
      'Rerank: before and after',
      'designer-rerank',
      this.liveNote,
      h(
        'div',
        { class: 'before-after' },
        h('div', null, h('h4', null, `Shortlist before rerank (${this.response?.candidates.length ?? 0})`), this.before),
        h('div', null, h('h4', null, 'Top 10 after rerank'), this.after),
      ),
    );
    section.classList.add('wide');
    return section;
  }

  private models(c: CatalogInfo): HTMLElement {
    return card(
      'Catalog and models',
      'designer-models',
      h('p', { class: 'muted' }, `${c.name}: ${count(c.size, 'product')}, ${count(c.categories.length, 'category', 'categories')}, profile ${c.profile}.`),
      h(
        'dl',
        { class: 'facts compact' },
        c.models.flatMap((m) => fact(m.part, `${m.model} · sha256 ${m.sha256.slice(0, 12)}…`)),
      ),
    );
  }

  private emit(): void {
    const w = { semantic: 0, texture: 0, color: 0 };
    for (const [key] of WEIGHT_KEYS) w[key] = Number(this.sliders.get(key)?.input.value ?? 0);
    this.handlers.weights(w);
  }
}

function card(title: string, id: string, ...children: (Node | Node[] | null)[]): HTMLElement {
  return h('section', { class: 'stage-card', id, 'aria-labelledby': `${id}-title` }, h('h3', { id: `${id}-title` }, title), ...children);
}

function fact(label: string, value: string): HTMLElement[] {
  return [h('dt', null, label), h('dd', null, value)];
}
