// "In red leather": a box whose words refine the photo. The engine mixes the words' embedding into
// the photo's (profiles with a text tower per expert: CatalogInfo.takes_text); the lite profile
// has none, and the box stays hidden. Unlike the colour row, words need a search again.

import { h, mount } from '../dom';

export interface RefineHandlers {
  /** The words to search with (null: the photo alone again). */
  refine(text: string | null): void;
}

/** The engine's limit (stages/embed.rs MAX_TEXT_CHARS). */
const MAX_CHARS = 200;

export class RefineBox {
  private input = h('input', {
    type: 'search',
    id: 'refine-text',
    class: 'refine-input',
    maxlength: MAX_CHARS,
    placeholder: 'e.g. in red leather',
    enterkeyhint: 'search',
    autocomplete: 'off',
  });
  private button = h('button', { type: 'submit', class: 'button small', id: 'refine-go' }, 'Refine');
  /** The words the list on screen was searched with. */
  private searched: string | null = null;

  constructor(
    private root: HTMLFormElement,
    private handlers: RefineHandlers,
  ) {
    // product words ("merino", "chelsea boot") are not in a spelling dictionary
    this.input.spellcheck = false;
    mount(
      root,
      h('label', { for: 'refine-text', class: 'refine-label' }, 'Like this, but…'),
      h('div', { class: 'refine-row' }, this.input, this.button),
    );
    root.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = this.input.value.trim() || null;
      if (text !== this.searched) this.handlers.refine(text);
    });
  }

  /** `available`: the catalog takes words and a photo was searched; `text`: its words. */
  render(available: boolean, text: string | null, busy = false): void {
    this.root.hidden = !available;
    this.searched = text;
    if (document.activeElement !== this.input) this.input.value = text ?? '';
    this.button.disabled = busy;
    this.root.setAttribute('aria-busy', String(busy));
  }

  hide(): void {
    this.root.hidden = true;
    this.searched = null;
    this.input.value = '';
  }
}
