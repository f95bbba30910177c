// The recent searches list (ui/src/recent.ts keeps them): the cut-out, the top result and when,
// newest first; tapping one reopens it without running the models; "Clear" forgets them all.

import { h, mount } from '../dom';
import type { RecentSearch } from '../recent';

export interface RecentHandlers {
  reopen(entry: RecentSearch): void;
  clear(): void;
}

const MINUTE = 60_000;

/** "just now", "5 minutes ago", "yesterday", ... */
export function ago(at: number, now = Date.now()): string {
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const m = Math.round((at - now) / MINUTE);
  if (Math.abs(m) < 1) return 'just now';
  if (Math.abs(m) < 60) return rtf.format(m, 'minute');
  const hours = Math.round(m / 60);
  if (Math.abs(hours) < 24) return rtf.format(hours, 'hour');
  return rtf.format(Math.round(hours / 24), 'day');
}

export class RecentView {
  constructor(
    private root: HTMLElement,
    private handlers: RecentHandlers,
  ) {}

  render(entries: RecentSearch[], busy: boolean): void {
    this.root.hidden = entries.length === 0;
    if (!entries.length) return;
    const items = entries.map((e) => {
      const top = e.response.results[0];
      const when = ago(e.at);
      return h(
        'li',
        null,
        h(
          'button',
          {
            type: 'button',
            class: 'recent-item',
            'data-key': String(e.key),
            'aria-disabled': busy ? 'true' : undefined,
            'aria-label': `Reopen ${e.name}, ${when}${top ? `: ${top.name}` : ''}`,
            onclick: () => !busy && this.handlers.reopen(e),
          },
          h('img', { src: e.response.cutout, alt: '', class: 'recent-thumb' }),
          h('span', { class: 'recent-top' }, top?.name ?? 'No results'),
          h('span', { class: 'recent-when' }, when),
        ),
      );
    });
    mount(
      this.root,
      h(
        'div',
        { class: 'recent-head' },
        h('h3', { id: 'recent-heading' }, 'Recent searches'),
        h('button', { type: 'button', class: 'link-button', id: 'recent-clear', onclick: () => this.handlers.clear() }, 'Clear'),
      ),
      h('ol', { class: 'recent-list', id: 'recent-list', 'aria-labelledby': 'recent-heading' }, items),
      h('p', { class: 'recent-note' }, 'Kept on this device only.'),
    );
  }
}
