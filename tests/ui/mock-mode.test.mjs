// Browser mode (`npm run dev:web`): the same UI without Tauri, answered by ui/src/mock/backend.ts
// from the recorded real results. Built here with Vite's "mock" mode and served statically.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'vite';
import { DIST, ROOT, fixtures, gridIds, launch, openApp, photoPath, pickPhoto, recordingFor, shot, startServer, waitReady } from './harness.mjs';

let browser;
let server;
let outDir;
const contexts = [];

before(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookalike-mock-ui-'));
  await build({
    configFile: path.join(ROOT, 'ui/vite.config.ts'),
    mode: 'mock',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  server = await startServer(outDir);
  browser = await launch();
});

after(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await server?.close();
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

async function app(opts = {}) {
  const a = await openApp(browser, server, { ...opts, tauri: false });
  contexts.push(a.context);
  return a;
}

test('mock mode: loading, then a recorded real search for a recorded photo', async () => {
  const { page, problems } = await app({ designer: true });
  await page.locator('#engine-loading').waitFor();
  await waitReady(page);
  assert.equal(await page.evaluate(() => '__TAURI_INTERNALS__' in window), false);
  await pickPhoto(page, 'plimsolls');
  const rec = recordingFor('plimsolls');
  assert.deepEqual(await gridIds(page), rec.response.results.map((h) => h.id));
  // the mock re-ranks with the catalog's scoring and judges with its match rule: the engine's verdict
  assert.equal(await page.getAttribute('#match', 'data-match'), rec.response.match);
  // thumbnails: the recorded JPEGs as files of the mock build (no thumb: scheme without Tauri)
  const srcs = await page.$$eval('#results-grid img', (imgs) => imgs.map((i) => i.src));
  assert.equal(srcs.length, 10);
  for (const src of srcs) assert.ok(src.startsWith(server.url) && src.endsWith('.jpg'), src);
  await page.waitForFunction(() => [...document.querySelectorAll('#results-grid img, #after-list img')].every((i) => i.complete && i.naturalWidth > 0));
  await page.waitForFunction(() => document.querySelector('#designer-mask')?.naturalWidth > 0);
  assert.equal(await page.locator('#before-list li').count(), rec.response.candidates.length);
  await shot(page, 'mock-results-1280');

  // category override re-ranks the recorded candidates
  await page.click('#more-categories');
  await page.click('.chip[data-category="apparel"]');
  await page.waitForFunction(() => document.querySelector('#detected-category')?.textContent === 'Apparel');
  // the engine searches the chosen category alone: only apparel is listed
  const cats = await page.$$eval('#results-grid .card-category', (els) => els.map((e) => e.innerText.trim()));
  assert.ok(cats.length >= 1);
  assert.deepEqual(cats, Array(cats.length).fill('Apparel'));
  await shot(page, 'mock-mode-1280');
  assert.deepEqual(problems, []);
});

test('mock mode at phone width (390x844): results, then the designer view, thumbnails loaded', async () => {
  const { page, problems } = await app({ designer: false, viewport: { width: 390, height: 844 } });
  await pickPhoto(page, 'tshirt');
  const loaded = () =>
    page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll('#results-grid img, #after-list img, #before-list li.in-top img')];
      return imgs.length >= 10 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    });
  await loaded();
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  await shot(page, 'mock-results-390');
  await page.click('#designer-toggle');
  await page.locator('#after-list li >> nth=9').waitFor();
  // the lazy top-50 thumbnails load once scrolled to
  await page.locator('#before-list').scrollIntoViewIfNeeded();
  await loaded();
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  await shot(page, 'mock-designer-390');
  assert.deepEqual(problems, []);
});

test('the production build holds no mock backend, recordings or recorded thumbnails', () => {
  const files = fs.readdirSync(DIST, { recursive: true }).map(String);
  assert.ok(files.includes('index.html'), `${DIST} is built`);
  assert.deepEqual(files.filter((f) => /\.(jpe?g|json)$/i.test(f)), []);
  for (const f of files.filter((x) => x.endsWith('.js'))) {
    const js = fs.readFileSync(path.join(DIST, f), 'utf8');
    assert.ok(!/createMockBackend|recorded\/|MOCK_BARCODE|2000000000015/.test(js), `${f} carries mock code`);
  }
});

test('mock mode: tapping an object answers its recorded region search; a swatch re-ranks as the engine does', async () => {
  const { page, problems } = await app({ viewport: { width: 390, height: 844 } });
  await pickPhoto(page, 'two');
  const rec = recordingFor('two');
  const outlines = page.locator('.object-outline');
  assert.equal(await outlines.count(), rec.response.objects.length);
  const right = rec.response.objects.findIndex((o) => o.region.x > 0.5);
  await outlines.nth(right).click();
  await page.waitForFunction(() => document.querySelector('#results-grid > li')?.dataset.id === 'vendure-guardian-lion-statue');
  const recorded = rec.regions.find((r) => r.region.x === rec.response.objects[right].region.x);
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');
  assert.deepEqual(await gridIds(page), recorded.response.results.map((h) => h.id));
  // back to the whole photo, then "in red": the engine's own --color red ranking
  await page.click('#whole-photo');
  await page.waitForFunction(() => document.querySelector('#whole-photo').hidden);
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');
  await page.click('[data-swatch="red"]');
  const red = rec.colors.find((c) => c.color === 'red');
  await page.waitForFunction((id) => document.querySelector('#results-grid > li')?.dataset.id === id, red.results[0].id);
  assert.deepEqual(await gridIds(page), red.results.map((h) => h.id));
  assert.deepEqual(problems, []);
});

test('mock mode: a text file is refused with unsupported_format; barcodes resolve to a demo product', async () => {
  const { page, problems } = await app();
  await waitReady(page);
  await page.setInputFiles('#pick-photo', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo\n') });
  const alert = page.locator('#alert-box');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'unsupported_format');
  // plain words for the shopper; the engine's own (what the mock mimics) for the designer view
  assert.match(await page.locator('#alert-hint').innerText(), /Choose a photo in JPEG/);
  assert.match(await page.locator('#alert-message').textContent(), /text, not an image/);
  await page.click('#alert-dismiss');
  // a damaged photo gets the engine's error, not a recorded result
  for (const [file, message] of [
    ['truncated.jpg', 'corrupt or truncated image (JPEG): file is truncated (no end-of-image marker after the image data)'],
    ['truncated.png', 'corrupt or truncated image (PNG): file is truncated'],
  ]) {
    await page.setInputFiles('#pick-photo', path.join(ROOT, 'tests/bad-inputs', file));
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'corrupt_image', file);
    assert.match(await page.locator('#alert-hint').innerText(), /damaged or was cut short/, file);
    assert.equal(await page.locator('#alert-message').textContent(), message, file);
    assert.equal(await page.locator('#results-grid > li').count(), 0, `${file}: no results`);
    await page.click('#alert-dismiss');
  }

  const chooser = page.waitForEvent('filechooser');
  await page.click('#scan-barcode');
  await (await chooser).setFiles(photoPath('coffee'));
  await page.locator('#details').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#found-by-barcode').innerText(), 'Found by barcode 2000000000015');
  assert.deepEqual(problems, []);
});

test('mock mode: the Catalogs panel builds the recorded shop, cancels, imports, checks health and opens shop links', async () => {
  const { page, problems } = await app();
  const { built, indexReport } = fixtures;
  await waitReady(page);
  await page.click('#catalogs-toggle');
  await page.locator('#catalog-current-name').waitFor();
  assert.equal(await page.locator('#catalog-current-name').innerText(), fixtures.catalog.name);

  // cancel a build after a few products
  await page.click('#catalog-build');
  await page.waitForFunction(() => /^2 of 13: /.test(document.querySelector('#catalog-progress-text').textContent));
  await page.click('#catalog-cancel');
  await page.locator('#catalog-alert-box[data-code="cancelled"]').waitFor();
  assert.equal(await page.locator('#catalog-line').innerText(), `${fixtures.catalog.name} · 85 products`);

  // a whole build: the recorded report
  await page.click('#catalog-build');
  await page.locator('#catalog-report').waitFor();
  assert.equal(
    await page.locator('#catalog-report').innerText(),
    `12 products: 3 embedded, 9 reused, 1 removed, in ${indexReport.seconds.toFixed(1)} s`,
  );
  assert.equal(await page.locator('#catalog-problems li').count(), 1);
  assert.equal(await page.locator('#catalog-progress-text').innerText(), `13 of 13: ${built.progress.at(-1)}`);
  assert.equal(await page.locator('#catalog-line').innerText(), 'Sports corner · 12 products');

  // searches now keep to the shop's products
  // (the recorded top-50 against the demo catalog holds fewer than 10 of the shop's products)
  await pickPhoto(page, 'plimsolls', { expectResults: false });
  await page.waitForSelector('#results-grid > li.card');
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');
  const ids = await gridIds(page);
  const shop = new Set(built.products.map((p) => p.id));
  assert.ok(ids.length > 0 && ids.every((id) => shop.has(id)), ids.join(', '));
  const linked = ids.find((id) => built.products.find((p) => p.id === id)?.url);
  assert.ok(linked, 'a result with a shop link');
  await page.evaluate(() => {
    window.__opened = [];
    window.open = (...args) => (window.__opened.push(args), null);
  });
  await page.click(`#results-grid > li[data-id="${linked}"] button`);
  await page.locator('#details-open-shop').click();
  await page.waitForFunction(() => window.__opened.length === 1);
  assert.deepEqual(await page.evaluate(() => window.__opened[0]), [`https://shop.example/products/${linked}`, '_blank', 'noopener']);
  await page.keyboard.press('Escape');

  // import: the recorded tampered bundle is refused first, then the shop's bundle imports
  await page.click('#catalog-import');
  await page.locator('#catalog-alert-box[data-code="bundle"]').waitFor();
  assert.equal(await page.locator('#catalog-alert-message').innerText(), built.bundle.refused.message);

  // back to the demo ("Open folder"), then its recorded health report
  await page.click('#catalog-open');
  await page.waitForFunction(() => document.querySelector('#catalog-line').textContent.startsWith('Lookalike demo catalog'));
  await page.click('#catalog-health-run');
  await page.locator('#health-confusion').waitFor();
  assert.equal(await page.locator('#health-confusion tbody tr').count(), fixtures.health.router.categories.length);
  await shot(page, 'mock-catalogs-health-1280');
  assert.deepEqual(problems, []);
});
