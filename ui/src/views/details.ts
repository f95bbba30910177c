// Product details in a modal <dialog>: Escape and the close button close it, focus returns to
// the card (or button) that opened it. A search hit shows why it matches at once (bars; the
// numbers in the designer view); brand, description, GTIN and the shop link arrive with
// api.product(), and only what the catalog lists is shown. "Open in shop" shows only for a
// product with an http(s) link; the backend opens it in the browser. The product id and the
// photo's source are for the designer view. `data-state` says whether the product has arrived.

import { openInShop, shopUrl, thumbnailUrl, toApiError } from '../api';
import { h, icon, ICONS, mount } from '../dom';
import { barWidth, categoryLabel, formatPrice, formatScore } from '../format';
import type { ApiError, Hit, Product } from '../generated/contract';

export interface DetailsRequest {
  hit?: Hit;
  /** A product already known (barcode lookups), or its pending fetch. */
  product: Product | Promise<Product>;
  /** Shown above the breakdown for barcode lookups. */
  barcode?: string;
  trigger?: HTMLElement | null;
}

export class DetailsDialog {
  private trigger: HTMLElement | null = null;
  private token = 0;
  private shopError = h('p', { class: 'inline-error', role: 'alert', id: 'details-shop-error', hidden: true });

  constructor(private dialog: HTMLDialogElement) {
    dialog.addEventListener('close', () => {
      const t = this.trigger;
      this.trigger = null;
      if (t?.isConnected) t.focus();
    });
    // a click on the backdrop (outside the panel) closes it
    dialog.addEventListener('click', (e) => {
      if (e.target === dialog) dialog.close();
    });
  }

  get isOpen(): boolean {
    return this.dialog.open;
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
  }

  open(req: DetailsRequest): void {
    const token = ++this.token;
    this.trigger = req.trigger ?? (document.activeElement as HTMLElement | null);
    const known = req.product instanceof Promise ? null : req.product;
    this.fill(req, known, known ? null : 'loading');
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.querySelector<HTMLElement>('.details-close')?.focus();
    if (req.product instanceof Promise) {
      req.product.then(
        (p) => token === this.token && this.fill(req, p, null),
        (e: ApiError) => token === this.token && this.fill(req, null, e),
      );
    }
  }

  private shopButton(p: Product): HTMLElement[] {
    this.shopError.hidden = true;
    const token = this.token;
    const url = shopUrl(p) ?? '';
    let host = '';
    try {
      host = new URL(url).host;
    } catch {
      // not a URL the browser parses: the button still asks the app, which checks it again
    }
    const open = () => {
      this.shopError.hidden = true;
      openInShop(p.id).catch((e: unknown) => {
        if (token !== this.token) return;
        this.shopError.textContent = `Could not open the shop page: ${toApiError(e).message}`;
        this.shopError.hidden = false;
      });
    };
    return [
      h(
        'div',
        { class: 'details-shop' },
        h(
          'button',
          { type: 'button', class: 'button small', id: 'details-open-shop', title: url, onclick: open },
          'Open in shop',
          icon([...ICONS.external]),
        ),
        host ? h('span', { class: 'muted shop-host', id: 'details-shop-host' }, host) : null,
      ),
      this.shopError,
    ];
  }

  private fill(req: DetailsRequest, p: Product | null, pending: 'loading' | ApiError | null): void {
    const hit = req.hit;
    const hadFocus = this.dialog.open && this.dialog.contains(document.activeElement);
    this.dialog.dataset.state = pending === null ? 'loaded' : pending === 'loading' ? 'loading' : 'error';
    const name = p?.name ?? hit?.name ?? '';
    // by id, never p.thumbnail (a path inside the catalog folder, not a URL)
    const id = p?.id ?? hit?.id;
    const thumb = id ? thumbnailUrl(id) : '';
    const price = formatPrice(p?.price ?? hit?.price ?? null, p?.currency ?? hit?.currency ?? null);
    // a shopper sees what the catalog lists; what it does not list is left out, not "Not listed"
    const field = (label: string, value: string | null | undefined, id: string, cls?: string) =>
      value ? [h('dt', { class: cls }, label), h('dd', { id, class: cls }, value)] : [];

    const breakdown = hit
      ? h(
          'section',
          { class: 'breakdown', 'aria-labelledby': 'breakdown-title' },
          h('h3', { id: 'breakdown-title' }, 'Why it matches'),
          h(
            'dl',
            { class: 'bars' },
            bar('Overall', hit.score, 'overall'),
            bar('Shape and kind', hit.semantic, 'semantic'),
            bar('Texture', hit.texture, 'texture'),
            bar('Colour', hit.color, 'color'),
          ),
          hit.routed
            ? null
            : h('p', { class: 'muted' }, 'From another category than the one detected.'),
        )
      : null;

    mount(
      this.dialog,
      h(
        'div',
        { class: 'details-panel' },
        h(
          'header',
          { class: 'details-head' },
          h('h2', { id: 'details-title' }, name),
          h(
            'button',
            {
              type: 'button',
              class: 'icon-button details-close',
              'aria-label': 'Close details',
              onclick: () => this.close(),
            },
            icon([...ICONS.close]),
          ),
        ),
        h(
          'div',
          { class: 'details-body' },
          h(
            'div',
            { class: 'details-thumb' },
            thumb ? h('img', { src: thumb, alt: name }) : null,
          ),
          h(
            'div',
            { class: 'details-info' },
            req.barcode
              ? h('p', { class: 'found-by', id: 'found-by-barcode' }, `Found by barcode ${req.barcode}`)
              : null,
            h('p', { class: 'details-price', id: 'details-price' }, price),
            p && shopUrl(p)
              ? this.shopButton(p)
              : p
                ? h('p', { class: 'muted', id: 'details-no-shop' }, 'This catalog has no shop page for it.')
                : null,
            h(
              'dl',
              { class: 'facts' },
              field('Category', categoryLabel(p?.category ?? hit?.category ?? ''), 'details-category'),
              field('Brand', p?.brand, 'details-brand'),
              field('Barcode (GTIN)', p?.gtin, 'details-gtin'),
              // for whoever builds the catalog (designer view)
              field('Product id', p?.id ?? hit?.id, 'details-id', 'designer-only'),
            ),
            breakdown,
          ),
        ),
        p?.description ? h('p', { class: 'description', id: 'details-description' }, p.description) : null,
        p?.source ? h('p', { class: 'source muted designer-only', id: 'details-source' }, 'Source: ', p.source) : null,
        pending === 'loading' ? h('p', { class: 'muted', id: 'details-loading' }, 'Loading the details…') : null,
        pending && pending !== 'loading'
          ? h('p', { class: 'inline-error', role: 'alert' }, `Could not load all details: ${pending.message}`)
          : null,
      ),
    );
    if (hadFocus) this.dialog.querySelector<HTMLElement>('.details-close')?.focus();
  }
}

function bar(label: string, value: number, key: string): HTMLElement[] {
  return [
    h('dt', null, label),
    h(
      'dd',
      { 'data-score': key },
      h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: `bar-fill ${key}`, style: { width: barWidth(value) } })),
      h('span', { class: 'bar-value designer-only' }, formatScore(value)),
    ),
  ];
}
