// Photo search: pick/take/drop/paste a photo, the top-10 grid, category override, details dialog,
// phone and desktop layouts. Runs the built UI in headless Chromium with the Tauri IPC mocked.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import {
  fixtures,
  gridIds,
  ipcCalls,
  overflowing,
  photoPath,
  pickPhoto,
  recordingFor,
  shot,
  useApp,
  VERDICT_TITLES,
  waitReady,
} from './harness.mjs';

const app = useApp();

const money = (p, c) => new Intl.NumberFormat('en-US', { style: 'currency', currency: c }).format(p);

test('empty state: a hint, labelled inputs for camera and gallery, a live status region', async () => {
  const { page, problems } = await app();
  await waitReady(page);
  const empty = page.locator('#empty-state');
  assert.match(await empty.innerText(), /Take a photo of a product/);
  assert.match(await empty.innerText(), /85 products in 9 categories/);
  const take = page.getByLabel('Take photo', { exact: true });
  assert.equal(await take.getAttribute('type'), 'file');
  assert.equal(await take.getAttribute('accept'), 'image/*');
  assert.equal(await take.getAttribute('capture'), 'environment');
  const gallery = page.getByLabel('Choose photo', { exact: true });
  assert.equal(await gallery.getAttribute('capture'), null);
  assert.equal(await page.getAttribute('#status', 'aria-live'), 'polite');
  assert.equal(await page.locator('#catalog-line').innerText(), 'Lookalike demo catalog · 85 products');
  // keyboard: Tab reaches the hidden camera input and its label shows the focus ring
  for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement?.id)) !== 'take-photo'; i++) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'take-photo');
  assert.equal(await page.$eval('#take-photo-label', (l) => getComputedStyle(l).outlineStyle), 'solid');
  await shot(page, 'empty-1280');
  assert.deepEqual(problems, []);
});

test('take photo: raw bytes + options header go to search, 10 cards with thumbnails, names, prices, scores', async () => {
  const { page, problems, thumbs } = await app();
  await waitReady(page);
  await page.setInputFiles('#take-photo', photoPath('coffee'));
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  const rec = recordingFor('coffee');

  const [call] = await ipcCalls(page, 'search');
  assert.equal(call.raw, true, 'search must get a raw binary body');
  assert.equal(call.bytes, fs.statSync(photoPath('coffee')).size);
  assert.deepEqual(JSON.parse(call.headers['x-search-options']), {});

  assert.deepEqual(await gridIds(page), rec.response.results.map((h) => h.id));
  const cards = await page.$$eval('#results-grid > li', (lis) =>
    lis.map((li) => ({
      name: li.querySelector('.card-name').textContent,
      price: li.querySelector('.card-price').textContent,
      score: li.querySelector('.score-value').textContent,
      img: li.querySelector('img').getAttribute('src'),
    })),
  );
  assert.equal(cards.length, 10);
  cards.forEach((c, i) => {
    const hit = rec.response.results[i];
    assert.equal(c.name, hit.name);
    assert.equal(c.price, money(hit.price, hit.currency));
    assert.equal(c.score, hit.score.toFixed(2));
    // by product id from the app's thumb: scheme (convertFileSrc, Linux form)
    assert.equal(c.img, `thumb://localhost/${encodeURIComponent(hit.id)}`);
  });
  // the 10 thumbnails really load
  await page.waitForFunction(() => [...document.querySelectorAll('#results-grid img')].every((i) => i.complete && i.naturalWidth > 0));
  const loaded = await page.$$eval('#results-grid img', (imgs) => imgs.filter((i) => i.naturalWidth > 0).length);
  assert.equal(loaded, 10);
  for (const hit of rec.response.results) assert.ok(thumbs.includes(hit.id), `thumb: asked for ${hit.id}`);

  // photo, cut-out and the detected category with its score
  assert.ok(await page.$eval('#photo-image', (i) => i.src.startsWith('blob:')));
  await page.waitForFunction(() => document.querySelector('#cutout-image')?.naturalWidth > 0);
  assert.equal(await page.locator('#detected-category').innerText(), 'Drinks');
  assert.equal(await page.locator('#detected-score').innerText(), `${Math.round(rec.response.categories[0].score * 100)}%`);
  // every category is a chip; the likely ones show (the top one, and up to 4 with at least 5%),
  // the rest behind "More"
  assert.equal(await page.locator('.chips .chip:not(.more)').count(), 9);
  const pct = (x) => (x > 0 && x < 0.01 ? `${(x * 100).toFixed(1)}%` : `${Math.round(x * 100)}%`);
  const cats = rec.response.categories;
  const likely = cats.filter((c, i) => i === 0 || (i < 4 && c.score >= 0.05));
  assert.ok(likely.length < 4, 'the recording has a fourth category under 5%');
  assert.deepEqual((await page.locator('.chips .chip:visible').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ')), [
    ...likely.map((c) => `${c.name[0].toUpperCase()}${c.name.slice(1)} ${pct(c.score)}`),
    `More (${cats.length - likely.length})`,
  ]);
  // cards say how close in words; the raw score is for the designer view
  assert.equal(rec.response.match, 'none');
  assert.deepEqual(await page.locator('#results-grid .card-word').allInnerTexts(), ['Nearest, not close', ...Array(9).fill('Not close')]);
  assert.equal(await page.locator('#results-grid .card-score:visible').count(), 0);
  await page.click('#designer-toggle');
  assert.equal(await page.locator('#results-grid .card-score:visible').count(), 10);
  await page.click('#designer-toggle');
  // the router's two likeliest (a coffee cup between drinks and cameras' lenses)
  assert.equal(await page.locator('.chip[data-category="drinks"]').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('.chip[data-category="cameras"]').getAttribute('aria-pressed'), 'true');
  // coffee is not in the catalog: never "This is it"; the engine's verdict above the grid and in
  // the status line, the results still listed
  const verdict = rec.response.match;
  assert.notEqual(verdict, 'same', 'the recording is an out-of-catalog photo');
  assert.equal(await page.getAttribute('#match', 'data-match'), verdict);
  assert.equal(await page.locator('#match-title').innerText(), VERDICT_TITLES[verdict]);
  assert.ok((await page.locator('#status').innerText()).startsWith(VERDICT_TITLES[verdict]));
  assert.equal(await page.locator('#results-grid > li').count(), 10);
  await shot(page, 'results-1280');
  assert.deepEqual(problems, []);
});

test('category override: tapping another category searches again with options.category', async () => {
  const { page, problems } = await app();
  await pickPhoto(page, 'tshirt');
  assert.equal(await page.locator('#detected-category').innerText(), 'Apparel');
  assert.equal(await page.locator('.chip[data-category="footwear"]').isVisible(), false);
  await page.click('#more-categories');
  assert.equal(await page.getAttribute('#more-categories', 'aria-expanded'), 'true');
  await page.click('.chip[data-category="footwear"]');
  await page.waitForFunction(() => document.querySelector('#detected-category')?.textContent === 'Footwear');
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');

  const calls = await ipcCalls(page, 'search');
  assert.equal(calls.length, 2);
  assert.equal(calls[1].raw, true);
  assert.equal(calls[1].bytes, calls[0].bytes, 'the same photo is searched again');
  assert.deepEqual(JSON.parse(calls[1].headers['x-search-options']), { category: 'footwear' });

  assert.match(await page.locator('.detected').innerText(), /Searching Footwear \(your choice\)/);
  assert.equal(await page.locator('.chip[data-category="footwear"]').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('.chip[data-category="apparel"]').getAttribute('aria-pressed'), 'false');
  // the engine searches the chosen category alone: only footwear (the recording's top-50 holds
  // the footwear the mock re-ranks), none marked as outside the router's pick
  const cats = await page.$$eval('#results-grid .card-category', (els) => els.map((e) => e.innerText.trim()));
  const footwear = recordingFor('tshirt').response.candidates.filter((c) => c.category === 'footwear').length;
  assert.ok(footwear >= 3, `${footwear} footwear candidates recorded`);
  assert.deepEqual(cats, Array(Math.min(10, footwear)).fill('Footwear'));
  // a t-shirt is not footwear: nothing close there, and the banner and status line say where it looked
  assert.equal(await page.getAttribute('#match', 'data-match'), 'none');
  assert.equal(await page.locator('#match-note').innerText(), 'Nothing close in Footwear; the nearest products there are below.');
  assert.match(await page.locator('#status').innerText(), / in Footwear/);
  // keyboard focus stays on the chip that was used
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.category), 'footwear');
  await shot(page, 'override-1280');

  // "Auto" goes back to the router's choice
  await page.click('.chip.auto');
  await page.waitForFunction(() => document.querySelector('#detected-category')?.textContent === 'Apparel');
  const again = await ipcCalls(page, 'search');
  assert.equal(again.length, 3);
  assert.deepEqual(JSON.parse(again[2].headers['x-search-options']), {});
  assert.deepEqual(problems, []);
});

test('product details: opens from a card, shows the breakdown and product facts, closes with Escape', async () => {
  const { page, problems } = await app();
  await pickPhoto(page, 'tshirt');
  const hit = recordingFor('tshirt').response.results[1];
  const product = fixtures.products.find((p) => p.id === hit.id);
  const card = page.locator(`#results-grid > li[data-id="${hit.id}"] button`);
  await card.click();
  const dialog = page.locator('#details');
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await page.locator('#details-title').innerText(), hit.name);
  await page.locator('#details[data-state="loaded"]').waitFor();
  for (const [key, value] of [
    ['overall', hit.score],
    ['semantic', hit.semantic],
    ['texture', hit.texture],
    ['color', hit.color],
  ]) {
    assert.equal(await page.locator(`#details dd[data-score="${key}"] .bar-value`).innerText(), value.toFixed(2));
    const width = await page.$eval(`#details dd[data-score="${key}"] .bar-fill`, (e) => parseFloat(e.style.width));
    assert.ok(Math.abs(width - Math.min(1, value) * 100) < 0.1, `${key} bar ${width}%`);
  }
  assert.equal(await page.locator('#details-id').innerText(), hit.id);
  // the picture is the product's thumbnail by id (Product.thumbnail is a catalog path, not a URL)
  assert.equal(await page.getAttribute('#details .details-thumb img', 'src'), `thumb://localhost/${encodeURIComponent(hit.id)}`);
  await page.waitForFunction(() => document.querySelector('#details .details-thumb img')?.naturalWidth > 0);
  assert.equal(await page.locator('#details-category').innerText(), 'Apparel');
  assert.equal(await page.locator('#details-price').innerText(), money(product.price, product.currency));
  // what the catalog does not list is left out; the id and the source are for designers
  if (product.brand) assert.equal(await page.locator('#details-brand').innerText(), product.brand);
  else assert.equal(await page.locator('#details-brand').count(), 0);
  assert.equal(product.gtin, null);
  assert.equal(await page.locator('#details-gtin').count(), 0);
  assert.equal(await page.locator('#details-no-shop').isVisible(), true);
  assert.equal(await page.locator('#details-id').isVisible(), false);
  assert.equal(await page.locator('#details-source').isVisible(), false);
  assert.equal(await page.locator('#details dd[data-score="overall"] .bar-value').isVisible(), false);
  if (product.description) assert.equal(await page.locator('#details-description').innerText(), product.description);
  assert.deepEqual((await ipcCalls(page, 'product')).map((c) => c.args), [{ id: hit.id }]);
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('details-close')), true);
  await shot(page, 'details-1280');

  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  // focus returns to the card
  await page.waitForFunction((id) => document.activeElement?.closest('li')?.dataset.id === id, hit.id);

  // keyboard: Enter on a focused card opens it, the close button closes it
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'visible' });
  await page.click('.details-close');
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(problems, []);
});

test('phone layout (360x740): no horizontal scroll, two columns, dialog fits', async () => {
  // thumbnails as Android (and Windows) name them: http://thumb.localhost/<id>
  const { page, problems } = await app({ viewport: { width: 360, height: 740 }, cfg: { os: 'windows' } });
  await waitReady(page);
  await shot(page, 'empty-360');
  await pickPhoto(page, 'plimsolls');
  const ids = recordingFor('plimsolls').response.results.map((h) => h.id);
  assert.deepEqual(
    await page.$$eval('#results-grid img', (imgs) => imgs.map((i) => i.getAttribute('src'))),
    ids.map((id) => `http://thumb.localhost/${encodeURIComponent(id)}`),
  );
  await page.waitForFunction(() => [...document.querySelectorAll('#results-grid img')].every((i) => i.complete && i.naturalWidth > 0));
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    columns: getComputedStyle(document.querySelector('#results-grid')).gridTemplateColumns.split(' ').length,
  }));
  assert.ok(widths.scroll <= 360, `page is ${widths.scroll}px wide at 360px`);
  assert.ok(widths.body <= 360, `body is ${widths.body}px wide at 360px`);
  assert.equal(widths.columns, 2);
  // every thumbnail box is square, whatever the image's own shape (some are 192x256)
  const boxes = await page.$$eval('#results-grid .thumb', (els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.width, r.height]));
  for (const [w, h] of boxes) assert.ok(Math.abs(w - h) < 1, `thumbnail box ${w}x${h}`);
  // nothing sticks out of the viewport or out of its panel
  assert.deepEqual(await overflowing(page), []);
  await shot(page, 'results-360');
  await page.locator('#results-grid > li button').first().click();
  await page.locator('#details').waitFor({ state: 'visible' });
  const box = await page.locator('#details').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 360, `dialog ${box.x}+${box.width}`);
  await page.locator('#details[data-state="loaded"]').waitFor();
  assert.deepEqual(await overflowing(page), []);
  await shot(page, 'details-360');
  assert.deepEqual(problems, []);
});

test('desktop layout (1280x800): sidebar and a wide grid', async () => {
  const { page, problems } = await app({ viewport: { width: 1280, height: 800 } });
  await pickPhoto(page, 'chair');
  const layout = await page.evaluate(() => {
    const pick = document.querySelector('.pick-panel').getBoundingClientRect();
    const res = document.querySelector('.results-panel').getBoundingClientRect();
    return {
      side: pick.right <= res.left,
      columns: getComputedStyle(document.querySelector('#results-grid')).gridTemplateColumns.split(' ').length,
      scroll: document.documentElement.scrollWidth,
    };
  });
  assert.ok(layout.side, 'photo panel beside the results');
  assert.ok(layout.columns >= 4, `${layout.columns} columns`);
  assert.ok(layout.scroll <= 1280);
  assert.deepEqual(await overflowing(page), []);
  assert.equal(await page.locator('#results-grid > li').first().getAttribute('data-id'), 'vendure-balloon-chair');
  await shot(page, 'results-chair-1280');
  assert.deepEqual(problems, []);
});

test('desktop: dropping and pasting an image searches it', async () => {
  const { page, problems } = await app();
  await waitReady(page);
  const b64 = fs.readFileSync(photoPath('chair')).toString('base64');
  const size = fs.statSync(photoPath('chair')).size;
  // drag over shows the overlay, drop searches
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'chair.jpg', { type: 'image/jpeg' }));
    document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    window.__dt = dt;
  }, b64);
  assert.equal(await page.locator('#drop-overlay').isVisible(), true);
  await page.evaluate(() => document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: window.__dt, bubbles: true, cancelable: true })));
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  assert.equal(await page.locator('#drop-overlay').isVisible(), false);
  let calls = await ipcCalls(page, 'search');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].bytes, size);
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');

  // paste
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'image.png', { type: 'image/jpeg' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, b64);
  await page.waitForFunction(() => window.__IPC__.calls.filter((c) => c.cmd === 'search').length === 2);
  calls = await ipcCalls(page, 'search');
  assert.equal(calls[1].bytes, size);
  assert.equal(calls[1].raw, true);
  assert.deepEqual(problems, []);
});
