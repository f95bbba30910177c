// The Catalogs panel: the catalog in use, opening a catalog folder, importing a `.lookalike`
// bundle, building one from a folder of images and a products file (desktop only), the saved
// catalogs (use, update), the running job's progress (cancel a build), the last build's report and
// the health report of the catalog in use. Every path is picked in a dialog the backend shows; the
// panel only asks. One job at a time: while one runs, the other catalog buttons are disabled.
//
// The panel calls api.ts itself (it owns no search state); a catalog that comes into use is handed
// to main.ts (`switched`), which resets the app to it as when the engine became ready.

import * as api from '../api';
import { h, mount } from '../dom';
import { categoryLabel, count, formatPercent } from '../format';
import type {
  ApiError,
  BuildOutcome,
  CatalogInfo,
  CatalogsView,
  HealthReport,
  JobKind,
  JobProgress,
  ProductRef,
  SelfRank,
} from '../generated/contract';
import { alertBox } from './alert';

export interface CatalogsHandlers {
  /** A catalog is now in use (opened, switched to, imported or built). */
  switched(catalog: CatalogInfo): void;
}

/** What is running: one of the backend's jobs, or a plain call (open, switch). */
type Running = { kind: JobKind; title: string } | { kind: 'call' };

export class CatalogsPanel {
  private view: CatalogsView | null = null;
  private engineReady = false;
  private running: Running | null = null;
  private progress: JobProgress | null = null;
  private cancelling = false;
  private refreshToken = 0;

  private current = h('div', { id: 'catalog-current', class: 'catalog-current', 'aria-live': 'polite' });
  private openButton = button('catalog-open', 'Open folder…', () => void this.open());
  private importButton = button('catalog-import', 'Import bundle…', () => void this.importBundle());
  private buildButton = button('catalog-build', 'Build from images…', () => void this.build(null));
  private saved = h('ul', { id: 'catalog-saved', class: 'catalog-saved' });
  private savedEmpty = h('p', { id: 'catalog-saved-empty', class: 'muted' }, 'None yet: import a bundle or build a catalog.');
  private alert = h('div', { id: 'catalog-alert', class: 'alert-slot' });

  private job = h('section', { class: 'catalog-card catalog-job', id: 'catalog-job', 'aria-labelledby': 'catalog-job-title', hidden: true });
  private jobTitle = h('h3', { id: 'catalog-job-title' });
  private bar = h('progress', { id: 'catalog-progress', 'aria-labelledby': 'catalog-job-title' }) as HTMLProgressElement;
  private barText = h('p', { id: 'catalog-progress-text', class: 'catalog-progress-text', 'aria-live': 'polite' });
  private cancelButton = h('button', { type: 'button', class: 'button small', id: 'catalog-cancel', hidden: true, onclick: () => void this.cancel() }, 'Cancel build');
  private reportBox = h('div', { class: 'catalog-report-box', hidden: true });
  private reportTitle = h('h4', { id: 'catalog-report-title' });
  private report = h('p', { id: 'catalog-report', class: 'catalog-report' });
  private reportDetail = h('p', { id: 'catalog-report-detail', class: 'muted' });
  private problemsTitle = h('h4', { id: 'catalog-problems-title', hidden: true });
  private problems = h('ul', { id: 'catalog-problems', class: 'catalog-problems', 'aria-labelledby': 'catalog-problems-title', hidden: true });

  private healthButton = button('catalog-health-run', 'Check health', () => void this.health());
  private healthBody = h('div', { id: 'catalog-health', class: 'catalog-health', 'aria-live': 'polite' });

  constructor(
    private root: HTMLElement,
    private handlers: CatalogsHandlers,
  ) {
    this.buildButton.hidden = true; // until the backend says this build can make catalogs
    mount(this.job, this.jobTitle, this.bar, h('div', { class: 'catalog-progress-line' }, this.barText, this.cancelButton));
    mount(
      this.reportBox,
      this.reportTitle,
      this.report,
      this.reportDetail,
      this.problemsTitle,
      this.problems,
    );
    this.job.append(this.reportBox);
    mount(
      root,
      this.alert,
      h(
        'div',
        { class: 'catalogs-grid' },
        h(
          'section',
          { class: 'catalog-card', 'aria-labelledby': 'catalog-current-title' },
          h('h3', { id: 'catalog-current-title' }, 'In use'),
          this.current,
          h('div', { class: 'catalog-actions' }, this.openButton, this.importButton, this.buildButton),
          h(
            'p',
            { class: 'muted', id: 'catalog-actions-hint' },
            'Open a catalog folder, import a .lookalike bundle, or build one from a folder of product images and a products file (Lookalike JSON, CSV or a Shopify export).',
          ),
        ),
        h(
          'section',
          { class: 'catalog-card', 'aria-labelledby': 'catalog-saved-title' },
          h('h3', { id: 'catalog-saved-title' }, 'Saved on this device'),
          this.saved,
          this.savedEmpty,
        ),
        this.job,
      ),
      h(
        'section',
        { class: 'catalog-card catalog-health-card', 'aria-labelledby': 'catalog-health-title' },
        h(
          'div',
          { class: 'catalog-health-head' },
          h('h3', { id: 'catalog-health-title' }, 'Health of the catalog in use'),
          this.healthButton,
        ),
        h(
          'p',
          { class: 'muted' },
          'Searches every product with its own picture, slightly changed, and reports what does not come back first, near-duplicate products, where the router sends each category and which cut-outs fell back to the whole image.',
        ),
        this.healthBody,
      ),
    );
    void api.onCatalogJob((p) => this.onProgress(p));
    this.render();
  }

  /** The engine is ready (or not): the panel acts only on a loaded engine. */
  setEngine(ready: boolean): void {
    this.engineReady = ready;
    this.render();
    if (ready && !this.root.closest('[hidden]')) void this.refresh();
  }

  /** Asks the backend what it has (the catalog in use, the saved ones, whether it can build). */
  async refresh(): Promise<void> {
    const token = ++this.refreshToken;
    try {
      const view = await api.catalogs();
      if (token !== this.refreshToken) return;
      this.view = view;
    } catch (e) {
      if (token === this.refreshToken) this.showError(api.toApiError(e));
    }
    this.render();
  }

  /** A catalog came into use outside the panel's own actions: the old health report is stale. */
  catalogChanged(): void {
    mount(this.healthBody);
  }

  // -------------------------------------------------------------------------------------------
  // actions

  private async open(): Promise<void> {
    await this.call(() => api.openCatalog());
  }

  private async use(name: string): Promise<void> {
    await this.call(() => api.switchCatalog(name));
  }

  /** A plain call that may switch catalogs (no job, no progress). */
  private async call(fn: () => Promise<CatalogInfo | null>): Promise<void> {
    if (!this.idle()) return;
    const focus = this.focusKeeper();
    this.clearAlert();
    this.running = { kind: 'call' };
    this.render();
    try {
      const info = await fn();
      if (info) this.switchedTo(info);
    } catch (e) {
      this.showError(api.toApiError(e));
    } finally {
      this.running = null;
      await this.refresh();
      focus();
    }
  }

  private async importBundle(): Promise<void> {
    await this.runJob('import', 'Importing a catalog bundle', 'Choose a .lookalike bundle…', async () => {
      const info = await api.importBundle();
      if (info) {
        this.jobTitle.textContent = `Imported ${info.name}`;
        this.reportBox.hidden = true;
        this.switchedTo(info);
      }
      return info !== null;
    });
  }

  /** Builds a new catalog (name null: the backend asks for the files) or updates a saved one. */
  private async build(name: string | null): Promise<void> {
    const title = name ? `Updating ${name}` : 'Building a catalog';
    const waiting = name ? 'Reading the images again…' : 'Choose the folder of product images, then the products file…';
    await this.runJob('build', title, waiting, async () => {
      const out: BuildOutcome | null = name ? await api.updateCatalog(name) : await api.buildCatalog();
      if (out) {
        this.showReport(out);
        this.switchedTo(out.catalog);
      }
      return out !== null;
    });
  }

  private async health(): Promise<void> {
    await this.runJob('health', 'Checking health', 'Starting…', async () => {
      const report = await api.catalogHealth();
      this.jobTitle.textContent = `Health of ${report.catalog} checked`;
      mount(this.healthBody, healthReport(report));
      return true;
    });
  }

  /**
   * Runs one long job: the job area shows its progress from the backend's events; `fn` resolves
   * to false when the person closed the dialog (nothing happened, the job area goes back to
   * what it showed before).
   */
  private async runJob(kind: JobKind, title: string, waiting: string, fn: () => Promise<boolean>): Promise<void> {
    if (!this.idle()) return;
    const focus = this.focusKeeper();
    this.clearAlert();
    const before = { hidden: this.job.hidden, title: this.jobTitle.textContent, text: this.barText.textContent, max: this.bar.max, value: this.bar.hasAttribute('value') ? this.bar.value : null };
    this.running = { kind, title };
    this.progress = null;
    this.cancelling = false;
    this.job.hidden = false;
    this.jobTitle.textContent = `${title}…`;
    this.bar.removeAttribute('value'); // indeterminate until the first event
    this.barText.textContent = waiting;
    this.render();
    const restore = () => {
      this.job.hidden = before.hidden;
      this.jobTitle.textContent = before.title;
      this.barText.textContent = before.text;
      this.bar.max = before.max;
      if (before.value === null) this.bar.removeAttribute('value');
      else this.bar.value = before.value;
    };
    try {
      const done = await fn();
      if (!done) {
        restore(); // the dialog was closed: as before
      } else {
        // done: the bar full (also when no event came, e.g. without event permission)
        this.bar.max = Math.max(1, this.latest()?.total ?? 1);
        this.bar.value = this.bar.max;
      }
    } catch (e) {
      const err = api.toApiError(e);
      if (err.code === 'cancelled') {
        this.jobTitle.textContent = 'Build cancelled';
        const p = this.latest();
        this.barText.textContent = p ? `Stopped after ${p.done} of ${p.total}` : 'Stopped';
        this.showError(err, true);
      } else {
        // where it stopped, if it got going; else as before (the alert says what went wrong)
        const p = this.latest();
        if (p && p.done > 0) {
          this.jobTitle.textContent = `${title}: failed`;
          this.barText.textContent = `Stopped at ${p.done} of ${p.total}`;
        } else {
          restore();
        }
        this.showError(err);
      }
    } finally {
      this.running = null;
      this.cancelling = false;
      await this.refresh();
      focus();
    }
  }

  /**
   * The buttons are disabled (and the saved list redrawn) while something runs, which drops the
   * keyboard focus; the returned function puts it back on the button that started it (or its
   * row's next enabled button, or "Open folder"), unless the person has moved on meanwhile.
   */
  private focusKeeper(): () => void {
    const trigger = document.activeElement instanceof HTMLElement && this.root.contains(document.activeElement) ? document.activeElement : null;
    const row = trigger?.closest<HTMLElement>('li[data-name]')?.dataset.name;
    return () => {
      if (!trigger) return;
      const active = document.activeElement;
      if (active && active !== document.body && active.isConnected) return;
      const enabled = (b: Element | null | undefined): b is HTMLButtonElement => b instanceof HTMLButtonElement && !b.disabled && !b.hidden;
      const inRow = row === undefined ? [] : [...this.saved.querySelectorAll('li')].filter((li) => li.dataset.name === row).flatMap((li) => [...li.querySelectorAll('button')]);
      const target = [trigger.isConnected ? trigger : null, ...inRow, this.openButton].find(enabled);
      target?.focus();
    };
  }

  /** The last progress event (a method: `fn` above sets it while TypeScript thinks it is null). */
  private latest(): JobProgress | null {
    return this.progress;
  }

  private async cancel(): Promise<void> {
    if (this.running?.kind !== 'build' || this.cancelling) return;
    this.cancelling = true;
    this.barText.textContent = `${progressText(this.progress)}. Stopping after this product…`;
    this.render();
    try {
      await api.cancelJob();
    } catch (e) {
      this.cancelling = false;
      this.showError(api.toApiError(e));
      this.render();
    }
  }

  private onProgress(p: JobProgress): void {
    const r = this.running;
    if (!r || r.kind !== p.job) return;
    this.progress = p;
    this.bar.max = Math.max(1, p.total);
    this.bar.value = Math.min(p.done, p.total);
    this.jobTitle.textContent = `${r.title}…`;
    this.barText.textContent = progressText(p) + (this.cancelling ? '. Stopping after this product…' : '');
    this.renderJob();
  }

  private switchedTo(info: CatalogInfo): void {
    mount(this.healthBody);
    this.handlers.switched(info);
  }

  private showReport({ catalog, report: r }: BuildOutcome): void {
    this.reportBox.hidden = false;
    this.jobTitle.textContent = `Built ${catalog.name}`;
    this.reportTitle.textContent = `Last build: ${catalog.name}`;
    this.report.textContent = `${count(r.products, 'product')}: ${r.embedded} embedded, ${r.reused} reused, ${r.removed} removed, in ${r.seconds.toFixed(1)} s`;
    const cats = r.per_category.map((c) => `${categoryLabel(c.name)} ${c.products}`).join(', ');
    const cut = [
      `${r.cut_by_alpha} by their own transparency`,
      `${r.cut_by_model} by ${r.index_segmenter ?? 'the segmenter'}`,
      `${r.whole_image_fallback} whole image`,
    ].join(', ');
    this.reportDetail.textContent = `${cats}. Cut out: ${cut}.`;
    const n = r.skipped.length;
    this.problemsTitle.hidden = n === 0;
    this.problems.hidden = n === 0;
    this.problemsTitle.textContent = n === 1 ? '1 product left out' : `${n} products left out`;
    mount(
      this.problems,
      r.skipped.map((s) => h('li', { dataset: { id: s.id } }, h('strong', null, s.id), ': ', s.reason)),
    );
  }

  // -------------------------------------------------------------------------------------------
  // rendering

  private idle(): boolean {
    return this.running === null && this.engineReady && !this.view?.busy;
  }

  private render(): void {
    const v = this.view;
    const off = !this.idle();
    const c = v?.current ?? null;
    if (!this.engineReady || !v) {
      mount(this.current, h('p', { class: 'muted' }, this.engineReady ? 'Asking the app…' : 'The catalog is still loading…'));
    } else if (!c) {
      mount(this.current, h('p', { class: 'muted' }, 'No catalog in use.'));
    } else {
      mount(
        this.current,
        h('p', { class: 'catalog-name', id: 'catalog-current-name' }, c.name),
        h(
          'p',
          { class: 'muted', id: 'catalog-current-size' },
          `${count(c.size, 'product')} · ${count(c.categories.length, 'category', 'categories')} · profile ${c.profile}`,
        ),
        h(
          'ul',
          { class: 'catalog-categories', id: 'catalog-current-categories', 'aria-label': 'Categories' },
          c.categories.map((cat) =>
            h('li', { dataset: { category: cat.name } }, categoryLabel(cat.name), ' ', h('span', { class: 'count' }, String(cat.count))),
          ),
        ),
      );
    }
    this.buildButton.hidden = !v?.can_build;
    for (const b of [this.openButton, this.importButton, this.buildButton, this.healthButton]) b.disabled = off;

    const saved = v?.saved ?? [];
    this.savedEmpty.hidden = saved.length > 0;
    mount(
      this.saved,
      saved.map((s) =>
        h(
          'li',
          { dataset: { name: s.name }, class: s.in_use ? 'in-use' : '' },
          h('span', { class: 'saved-name' }, s.name),
          h(
            'span',
            { class: 'saved-actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'button small catalog-use',
                disabled: off || s.in_use,
                'aria-pressed': String(s.in_use),
                'aria-label': s.in_use ? `${s.name} is in use` : `Use ${s.name}`,
                onclick: () => void this.use(s.name),
              },
              s.in_use ? '✓ In use' : 'Use',
            ),
            s.updatable
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'button small quiet catalog-update',
                    disabled: off,
                    'aria-label': `Update ${s.name} from its files`,
                    title: 'Build again from the same folder and products file: only changed images are embedded',
                    onclick: () => void this.build(s.name),
                  },
                  'Update',
                )
              : null,
          ),
        ),
      ),
    );

    this.renderJob();
  }

  /** The job area's controls (on every progress event; the rest only changes with a job's state). */
  private renderJob(): void {
    const build = this.running?.kind === 'build';
    this.cancelButton.hidden = !(build && this.progress !== null);
    this.cancelButton.disabled = this.cancelling;
    this.root.setAttribute('aria-busy', String(this.running !== null && this.running.kind !== 'call'));
  }

  private showError(err: ApiError, info = false): void {
    mount(this.alert, alertBox('catalog-alert', err, { info, dismiss: () => this.clearAlert() }));
  }

  private clearAlert(): void {
    this.alert.replaceChildren();
  }
}

function button(id: string, label: string, onclick: () => void): HTMLButtonElement {
  return h('button', { type: 'button', class: 'button', id, onclick }, label);
}

/** "12 of 85: vendure-tent" (a health check names no product: "12 of 85"). */
function progressText(p: JobProgress | null): string {
  if (!p) return '';
  return `${p.done} of ${p.total}${p.item ? `: ${p.item}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// the health report (`lookalike check`)

export function healthReport(r: HealthReport): HTMLElement {
  const s = r.self_retrieval;
  const found = (share: number) => Math.round(share * s.queried);
  const notFirst = s.not_first;
  const d = r.duplicates;
  const rc = r.router;
  const f = r.fallbacks;
  return h(
    'div',
    { class: 'health-grid', dataset: { catalog: r.catalog } },
    h(
      'p',
      { class: 'health-summary', id: 'health-summary' },
      `${r.catalog}: ${count(r.products, 'product')}, ${s.queried} searched with their own ${r.images ? 'image' : 'thumbnail'}.`,
    ),
    card(
      'Self-retrieval',
      'health-self',
      h(
        'div',
        { class: 'stats' },
        stat('health-r1', 'R@1', formatPercent(s.recall_at_1), `${found(s.recall_at_1)} of ${s.queried} came first`),
        stat('health-r10', 'R@10', formatPercent(s.recall_at_10), `${found(s.recall_at_10)} of ${s.queried} in the top ${s.top_k}`),
      ),
      notFirst.length === 0
        ? h('p', { class: 'muted' }, 'Every product found itself first.')
        : [
            h('h4', { id: 'health-not-first-title' }, `Not found first (${notFirst.length})`),
            h(
              'ol',
              { class: 'health-list', id: 'health-not-first', 'aria-labelledby': 'health-not-first-title' },
              notFirst.map((x) => selfRank(x, s.top_k)),
            ),
          ],
    ),
    card(
      'Router',
      'health-router',
      h(
        'p',
        { id: 'health-router-accuracy' },
        h('strong', null, `Router accuracy ${formatPercent(rc.accuracy)}`),
        ` (${count(rc.total, 'product')}); own category searched for ${formatPercent(rc.searched_own)}; ${rc.top2} searched two categories, ${rc.unsure} every category.`,
      ),
      confusion(rc.categories, rc.counts),
      rc.most_confused.length
        ? h(
            'p',
            { class: 'muted', id: 'health-most-confused' },
            'Most confused: ',
            rc.most_confused.map((m) => `${categoryLabel(m.truth)} → ${categoryLabel(m.chosen)} (${m.count})`).join(', '),
            '.',
          )
        : null,
    ),
    card(
      'Near-duplicates',
      'health-duplicates',
      d.pairs.length === 0
        ? h('p', { class: 'muted', id: 'health-no-duplicates' }, `No pairs at cosine ${d.threshold.toFixed(2)} or above.`)
        : h(
            'ul',
            { class: 'health-list', id: 'health-duplicate-pairs' },
            d.pairs.map((p) =>
              h(
                'li',
                { class: 'pair', dataset: { a: p.a.id, b: p.b.id } },
                productChip(p.a),
                h('span', { class: 'pair-sep', 'aria-label': 'and' }, '↔'),
                productChip(p.b),
                h(
                  'span',
                  { class: 'pair-facts' },
                  h('span', { class: 'num' }, `cosine ${p.cosine.toFixed(3)}`),
                  ' ',
                  h('span', { class: p.color_agrees ? 'muted' : 'tag' }, p.color_agrees ? 'same colours' : 'colours differ'),
                ),
              ),
            ),
          ),
      d.pairs.length ? h('p', { class: 'muted' }, `Listed at cosine ${d.threshold.toFixed(2)} or above (${p2(d.color_threshold)} colour similarity counts as the same colours).`) : null,
    ),
    card(
      'Cut-out fallbacks',
      'health-fallbacks',
      h('h4', null, `Catalog images (${f.catalog.length})`),
      f.catalog.length
        ? h('ul', { class: 'health-list', id: 'health-fallbacks-catalog' }, f.catalog.map((p) => h('li', { dataset: { id: p.id } }, productChip(p))))
        : h('p', { class: 'muted' }, 'Every catalog image was cut out.'),
      h('h4', null, `Self-queries (${f.queries.length})`),
      f.queries.length
        ? h(
            'ul',
            { class: 'health-list', id: 'health-fallbacks-queries' },
            f.queries.map((q) => h('li', { dataset: { id: q.product.id } }, productChip(q.product), q.reason ? h('span', { class: 'muted' }, q.reason) : null)),
          )
        : h('p', { class: 'muted' }, 'Every self-query was cut out.'),
      h('p', { class: 'muted' }, 'A fallback searches with the whole picture, background included.'),
    ),
    r.problems.length
      ? card(
          'Not checked',
          'health-problems',
          h(
            'ul',
            { class: 'health-list' },
            r.problems.map((p) => h('li', { dataset: { id: p.product.id } }, h('strong', null, p.product.id), ': ', p.detail)),
          ),
        )
      : null,
  );
}

function p2(v: number): string {
  return v.toFixed(2);
}

function card(title: string, id: string, ...children: (Node | Node[] | null)[]): HTMLElement {
  return h('section', { class: 'health-card', id, 'aria-labelledby': `${id}-title` }, h('h4', { id: `${id}-title`, class: 'health-card-title' }, title), ...children);
}

function stat(id: string, label: string, value: string, note: string): HTMLElement {
  return h('div', { class: 'stat', id }, h('span', { class: 'stat-label' }, label), h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-note' }, note));
}

function productChip(p: ProductRef): HTMLElement {
  return h(
    'span',
    { class: 'product-chip', title: `${p.name} (${p.id}, ${categoryLabel(p.category)})` },
    h('img', { src: api.thumbnailUrl(p.id), alt: '', width: 28, height: 28, loading: 'lazy', decoding: 'async' }),
    h('span', { class: 'name' }, p.name),
  );
}

function selfRank(x: SelfRank, topK: number): HTMLElement {
  return h(
    'li',
    { dataset: { id: x.product.id } },
    productChip(x.product),
    h('span', { class: 'rank-note' }, x.rank === null ? `not in the top ${topK}` : `came ${ordinal(x.rank)}`),
    x.first ? h('span', { class: 'first' }, h('span', { class: 'muted' }, 'first: '), productChip(x.first)) : null,
  );
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** Rows: the true category; columns: where the router sent it. Off-diagonal non-zero cells stand out. */
function confusion(categories: string[], counts: number[][]): HTMLElement {
  return h(
    'div',
    { class: 'confusion-wrap' },
    h(
      'table',
      { class: 'confusion', id: 'health-confusion' },
      h('caption', { class: 'visually-hidden' }, 'Router confusion: rows are the true category, columns the category the router chose'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col', class: 'corner' }, h('span', null, 'true ↓ routed →')),
          categories.map((c) => h('th', { scope: 'col', class: 'col', dataset: { category: c } }, h('span', { class: 'vert' }, categoryLabel(c)))),
        ),
      ),
      h(
        'tbody',
        null,
        categories.map((truth, i) =>
          h(
            'tr',
            { dataset: { category: truth } },
            h('th', { scope: 'row' }, categoryLabel(truth)),
            categories.map((chosen, j) => {
              const n = counts[i]?.[j] ?? 0;
              const cls = i === j ? 'diag' : n > 0 ? 'off' : 'zero';
              return h(
                'td',
                { class: cls, title: `${categoryLabel(truth)} routed to ${categoryLabel(chosen)}: ${n}` },
                String(n),
              );
            }),
          ),
        ),
      ),
    ),
  );
}
