// States a person expects: models loading (event and polling), searching, backend errors with
// retry/dismiss, an engine that failed to start, and the desktop barcode path.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtures, ipcCalls, overflowing, photoPath, pickPhoto, shot, useApp, waitReady } from './harness.mjs';

const app = useApp();

const inputsDisabled = (page) =>
  page.evaluate(() => ['#take-photo', '#pick-photo', '#scan-barcode'].map((s) => document.querySelector(s).disabled));

test('loading models: a progress state with disabled inputs until the engine-status event says ready', async () => {
  const { page, problems } = await app({ cfg: { engine: 'loading' } });
  await page.locator('#engine-loading').waitFor();
  assert.equal(await page.locator('#engine-banner progress').isVisible(), true);
  assert.deepEqual(await inputsDisabled(page), [true, true, true]);
  assert.equal(await page.locator('#status').innerText(), 'Loading models…');
  await shot(page, 'loading-1280');
  // still polling while loading
  await page.waitForFunction(() => window.__IPC__.calls.filter((c) => c.cmd === 'engine_status').length >= 2);

  // the backend pushes 'engine-status'
  await page.evaluate(
    (catalog) => window.__TAURI_INTERNALS__.invoke('plugin:event|emit', { event: 'engine-status', payload: { state: 'ready', catalog } }),
    fixtures.catalog,
  );
  await page.locator('#engine-banner').waitFor({ state: 'hidden' });
  assert.deepEqual(await inputsDisabled(page), [false, false, false]);
  assert.equal(await page.locator('#catalog-line').innerText(), 'Lookalike demo catalog · 85 products');
  assert.match(await page.locator('#status').innerText(), /Ready/);
  // polling stops once ready
  const n = (await ipcCalls(page, 'engine_status')).length;
  await page.waitForTimeout(1200);
  assert.equal((await ipcCalls(page, 'engine_status')).length, n);
  assert.deepEqual(problems, []);
});

test('loading models: polling every 500 ms is enough without events', async () => {
  const { page, problems } = await app({ cfg: { engine: 3 } });
  await page.locator('#engine-loading').waitFor();
  await waitReady(page);
  assert.equal((await ipcCalls(page, 'engine_status')).length, 4);
  assert.equal(await page.locator('#engine-banner').isVisible(), false);
  assert.deepEqual(problems, []);
});

test('engine failed to start: its message and a way to try again', async () => {
  const { page, problems } = await app({
    cfg: { engine: 'error', engineError: { code: 'model_missing', message: 'model file missing: models/u2netp.onnx' } },
  });
  const banner = page.locator('#engine-banner');
  await banner.getByText('model file missing: models/u2netp.onnx').waitFor();
  assert.match(await banner.innerText(), /could not start/);
  assert.deepEqual(await inputsDisabled(page), [true, true, true]);
  await shot(page, 'engine-error-1280');
  await page.evaluate(() => (window.__IPC__.cfg.engine = 'ready'));
  await banner.getByRole('button', { name: 'Try again' }).click();
  await waitReady(page);
  assert.equal(await banner.isVisible(), false);
  assert.deepEqual(problems, []);
});

test('searching: spinner and skeleton, inputs disabled, aria-busy, until the answer arrives', async () => {
  const { page, problems } = await app({ cfg: { searchHold: true } });
  await pickPhoto(page, 'coffee', { expectResults: false });
  await page.waitForFunction(() => window.__IPC__.release !== null);
  assert.equal(await page.getAttribute('#results-panel', 'aria-busy'), 'true');
  assert.deepEqual(await inputsDisabled(page), [true, true, true]);
  assert.equal(await page.locator('#status').innerText(), 'Searching…');
  assert.equal(await page.locator('.grid.skeleton > li').count(), 10);
  assert.equal(await page.locator('.frame-wait').innerText(), 'Cutting out…');
  await shot(page, 'searching-1280');
  const before = await page.locator('#results').boundingBox();
  await page.evaluate(() => window.__IPC__.release());
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');
  assert.deepEqual(await inputsDisabled(page), [false, false, false]);
  const afterBox = await page.locator('#results').boundingBox();
  assert.equal(afterBox.y, before.y, 'the results area does not move');
  assert.ok(Math.abs(afterBox.height - before.height) < 80, `skeleton ${before.height}px vs grid ${afterBox.height}px`);
  assert.deepEqual(problems, []);
});

test('a photo the engine cannot read: one clear message, nothing stale, "Choose another photo" instead of a retry', async () => {
  const err = { code: 'unsupported_format', message: 'unsupported image format: text, not an image' };
  const { page, problems } = await app();
  // an earlier search's results, photo and designer data are on screen...
  await page.click('#designer-toggle');
  await pickPhoto(page, 'coffee');
  await page.locator('#designer-rerank').waitFor();
  // ...then a file the engine refuses
  await page.evaluate((e) => (window.__IPC__.cfg.searchError = e), err);
  await pickPhoto(page, 'tshirt', { expectResults: false });
  const alert = page.locator('#alert-box');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('role'), 'alert');
  assert.equal(await alert.getAttribute('data-code'), 'unsupported_format');
  assert.match(await alert.innerText(), /not a photo Lookalike can read/);
  assert.equal(await page.locator('#alert-hint').innerText(), 'Choose a photo in JPEG, PNG, WebP, GIF, TIFF or BMP.');
  // the engine's own words are for the designer view
  assert.equal(await page.locator('#alert-message').innerText(), err.message);
  assert.equal(await page.locator('#alert-message').isVisible(), true);
  await page.click('#designer-toggle');
  assert.equal(await page.locator('#alert-message').isVisible(), false);
  // the same file would fail the same way: no "Try again"
  assert.equal(await page.locator('#alert-retry').count(), 0);
  // nothing of the earlier search stays: no photo (no broken image), no results, no stage data
  assert.equal(await page.locator('#query').isVisible(), false);
  assert.equal(await page.locator('#results-grid').count(), 0);
  assert.equal(await page.locator('#empty-state').isVisible(), true);
  await page.click('#designer-toggle');
  assert.equal(await page.locator('#designer-rerank').count(), 0);
  await page.click('#designer-toggle');
  assert.deepEqual(await inputsDisabled(page), [false, false, false]);
  await shot(page, 'error-1280');

  // "Choose another photo" opens the picker; a good photo then searches
  await page.evaluate(() => (window.__IPC__.cfg.searchError = null));
  const chooser = page.waitForEvent('filechooser');
  await page.click('#alert-action');
  await (await chooser).setFiles(photoPath('plimsolls'));
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  assert.equal(await alert.count(), 0);
  assert.equal(await page.locator('#query').isVisible(), true);
  assert.deepEqual(problems, []);
});

test('a failure that may pass: "Try again" searches the same photo; a failed re-search keeps the results', async () => {
  const err = { code: 'internal', message: 'the search worker stopped' };
  const { page, problems } = await app({ cfg: { searchError: err, searchErrorOnce: true } });
  await pickPhoto(page, 'coffee', { expectResults: false });
  const alert = page.locator('#alert-box');
  await alert.waitFor();
  assert.equal(await page.locator('#alert-message').innerText(), err.message);
  assert.equal(await page.locator('#alert-message').isVisible(), true, 'no plainer words for it: the message shows');
  await page.click('#alert-retry');
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  assert.equal(await alert.count(), 0);
  const calls = await ipcCalls(page, 'search');
  assert.equal(calls.length, 2);
  assert.equal(calls[1].bytes, calls[0].bytes, 'the same photo again');

  // a plain string rejection (e.g. a Rust `Err(String)`) is normalised too; dismiss clears it
  await page.evaluate(() => (window.__IPC__.cfg.searchError = 'the engine panicked'));
  await page.click('.chip[data-category="plants"]');
  await alert.waitFor();
  assert.equal(await page.locator('#alert-message').innerText(), 'the engine panicked');
  assert.match(await alert.innerText(), /Something went wrong/);
  // the results on screen are still the earlier ones, and say so
  assert.equal(await page.locator('.chip[data-category="drinks"]').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#results-grid > li').count(), 10);
  await page.click('#alert-dismiss');
  assert.equal(await alert.count(), 0);
  assert.deepEqual(problems, []);
});

test('error at phone width', async () => {
  const { page, problems } = await app({
    viewport: { width: 360, height: 740 },
    cfg: { searchError: { code: 'image_too_large', message: 'image too large: 60000x60000 (3600000000 pixels, limit 50000000)' } },
  });
  await pickPhoto(page, 'coffee', { expectResults: false });
  await page.locator('#alert-box').waitFor();
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
  assert.deepEqual(await overflowing(page), []);
  await shot(page, 'error-360');
  assert.deepEqual(problems, []);
});

test('barcode on desktop: pick a photo of it -> decode_barcode (raw bytes) -> product_by_barcode -> details', async () => {
  const code = '2000000000015';
  const { page, problems } = await app({
    cfg: { decoded: { text: code, format: 'EAN_13' }, barcodes: { [code]: 'saleor-code-division-t-shirt' } },
  });
  await waitReady(page);
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Scan barcode' }).click();
  await (await chooser).setFiles(photoPath('chair'));
  const dialog = page.locator('#details');
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await page.locator('#details-title').innerText(), 'Code Division T-shirt');
  assert.equal(await page.locator('#found-by-barcode').innerText(), `Found by barcode ${code}`);
  assert.equal(await page.locator('#details-gtin').innerText(), code);
  const [decode] = await ipcCalls(page, 'decode_barcode');
  assert.equal(decode.raw, true);
  assert.ok(decode.bytes > 0);
  assert.deepEqual((await ipcCalls(page, 'product_by_barcode')).map((c) => c.args), [{ code }]);
  assert.equal((await ipcCalls(page, 'search')).length, 0);
  await shot(page, 'barcode-found-1280');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.activeElement?.id === 'scan-barcode'); // focus returns
  assert.deepEqual(problems, []);
});

test('barcode: an unknown code says "No product with barcode ..."; no code found says so', async () => {
  const { page, problems } = await app({ cfg: { decoded: { text: '4006381333931', format: 'EAN_13' } } });
  await waitReady(page);
  let chooser = page.waitForEvent('filechooser');
  await page.click('#scan-barcode');
  await (await chooser).setFiles(photoPath('chair'));
  const alert = page.locator('#alert-box');
  await alert.waitFor();
  assert.match(await alert.innerText(), /No product with barcode 4006381333931/);
  assert.equal(await page.locator('#details').isVisible(), false);
  await shot(page, 'barcode-unknown-1280');

  await page.evaluate(() => (window.__IPC__.cfg.decoded = null));
  chooser = page.waitForEvent('filechooser');
  await page.click('#scan-barcode');
  await (await chooser).setFiles(photoPath('chair'));
  await page.waitForFunction(() => /No barcode found/.test(document.querySelector('#alert-box')?.textContent ?? ''));
  assert.equal((await ipcCalls(page, 'product_by_barcode')).length, 1);
  assert.deepEqual(problems, []);
});

const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36';

test('barcode on mobile: the scanner plugin with EAN/UPC formats, then product_by_barcode -> details', async () => {
  const code = '2000000000015';
  const { page, problems } = await app({
    viewport: { width: 360, height: 740 },
    userAgent: ANDROID,
    cfg: { scan: { content: code, format: 'EAN_13' }, barcodes: { [code]: 'saleor-yellow-plimsolls' } },
  });
  await waitReady(page);
  let chooserOpened = false;
  page.on('filechooser', () => (chooserOpened = true));
  await page.click('#scan-barcode');
  await page.locator('#details').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#details-title').innerText(), 'Yellow Plimsolls');
  assert.equal(chooserOpened, false, 'no file picker on mobile');
  const [scan] = await ipcCalls(page, 'plugin:barcode-scanner|scan');
  assert.deepEqual(scan.args.formats, ['EAN_13', 'EAN_8', 'UPC_A', 'UPC_E']);
  assert.equal((await ipcCalls(page, 'decode_barcode')).length, 0);
  assert.deepEqual((await ipcCalls(page, 'product_by_barcode')).map((c) => c.args), [{ code }]);
  assert.deepEqual(await overflowing(page), []);
  await shot(page, 'barcode-mobile-360');

  // cancelling the scanner is not an error
  await page.keyboard.press('Escape');
  await page.evaluate(() => (window.__IPC__.cfg.scan = 'cancel'));
  await page.click('#scan-barcode');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'Scan cancelled.');
  assert.equal(await page.locator('#alert-box').count(), 0);

  // a denied camera permission says what to do
  await page.evaluate(() => (window.__IPC__.cfg.camera = 'denied'));
  await page.click('#scan-barcode');
  await page.locator('#alert-box').waitFor();
  assert.match(await page.locator('#alert-box').innerText(), /needs the camera/);
  assert.deepEqual(problems, []);
});
