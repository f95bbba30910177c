// The app's alert box: a title from the error code, the backend's message as it is, Try again /
// Dismiss. The search side (main.ts, ids `alert-*`) and the Catalogs panel (`catalog-alert-*`)
// both use it.

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

export interface AlertOptions {
  retry?: () => void;
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
    title === err.message ? null : h('p', { class: 'alert-message', id: `${prefix}-message` }, err.message),
    h(
      'div',
      { class: 'alert-actions' },
      opts.retry
        ? h('button', { type: 'button', class: 'button small', id: `${prefix}-retry`, onclick: () => opts.retry?.() }, 'Try again')
        : null,
      h('button', { type: 'button', class: 'button small quiet', id: `${prefix}-dismiss`, onclick: () => opts.dismiss() }, 'Dismiss'),
    ),
  );
}
