// The Catalogs panel: the catalog in use, a build with progress events then its report and the
// products it left out, cancelling a build, switching between catalogs (the header and the empty
// state follow; the old results go), import (a refused bundle's whole message), the health report
// (self-retrieval, the router's confusion table, fallbacks), "Open in shop" only for products
// with a shop link, and the panel at phone width. The answers are the real CLI's recordings
// (ui/mock/record-catalogs.mjs), served by the harness's in-page Tauri backend.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtures, ipcCalls, overflowing, photoPath, pickPhoto, shot, useApp, waitReady } from './harness.mjs';

const app = useApp();
const { built, indexReport, health } = fixtures;
const DEMO_LINE = `${fixtures.catalog.name} · ${fixtures.catalog.size} products`;
const SHOP_LINE = `${built.catalog.name} · ${built.catalog.size} products`;
const TOTAL = built.progress.length;
const reportLine = (r) => `${r.products} products: ${r.embedded} embedded, ${r.reused} reused, ${r.removed} removed, in ${r.seconds.toFixed(1)} s`;

async function openPanel(page) {
  await waitReady(page);
  await page.click('#catalogs-toggle');
  await page.locator('#catalog-current-name').waitFor();
}

/** Records every text the progress line shows (the events can be quicker than polling). */
async function watchProgress(page) {
  await page.evaluate(() => {
    window.__progress = [];
    const el = document.querySelector('#catalog-progress-text');
    new MutationObserver(() => {
      const bar = document.querySelector('#catalog-progress');
      window.__progress.push({ text: el.textContent, value: bar.getAttribute('value'), max: bar.max });
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });
}

async function buildDone(page) {
  await page.click('#catalog-build');
  await page.locator('#catalog-report').waitFor();
  await page.waitForFunction(() => !document.querySelector('#catalog-open').disabled);
}

const disabled = (page, ...sel) => page.evaluate((s) => s.map((x) => document.querySelector(x).disabled), sel);

test('the Catalogs toggle opens the panel with the catalog in use, its categories and the actions', async () => {
  const { page, problems } = await app();
  await waitReady(page);
  const toggle = page.locator('#catalogs-toggle');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.locator('#catalogs').isVisible(), false);
  await openPanel(page);
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#catalogs').isVisible(), true);
  assert.equal(await page.locator('#catalog-current-name').innerText(), fixtures.catalog.name);
  assert.match(await page.locator('#catalog-current').innerText(), /85 products · 9 categories · profile lite/);
  assert.deepEqual(
    await page.$$eval('#catalog-current-categories li', (lis) => lis.map((li) => li.dataset.category)),
    fixtures.catalog.categories.map((c) => c.name),
  );
  for (const id of ['#catalog-open', '#catalog-import', '#catalog-build', '#catalog-health-run']) {
    assert.equal(await page.locator(id).isVisible(), true, id);
    assert.equal(await page.locator(id).isDisabled(), false, id);
  }
  assert.equal(await page.locator('#catalog-saved li').count(), 0);
  assert.equal(await page.locator('#catalog-saved-empty').isVisible(), true);
  assert.equal(await page.locator('#catalog-job').isVisible(), false);
  assert.equal(await page.locator('#catalog-cancel').isVisible(), false);
  assert.equal((await ipcCalls(page, 'catalogs')).length >= 1, true);
  // closes again (keyboard too)
  await toggle.focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#catalogs').isVisible(), false);
  assert.deepEqual(problems, []);
});

test('a build shows its progress to the last product, then the report and the products left out; the new catalog is in use', async () => {
  const { page, problems } = await app({ cfg: { buildStepMs: 60 } });
  // a search on the old catalog first: its results go when the catalog changes
  await pickPhoto(page, 'plimsolls');
  await openPanel(page);
  await watchProgress(page);
  await page.click('#catalog-build');
  await page.waitForFunction(() => /^\d+ of \d+: /.test(document.querySelector('#catalog-progress-text').textContent));
  // while it runs: Cancel shows, every other catalog button is off
  assert.equal(await page.locator('#catalog-cancel').isVisible(), true);
  assert.deepEqual(await disabled(page, '#catalog-open', '#catalog-import', '#catalog-build', '#catalog-health-run'), [true, true, true, true]);
  assert.equal(await page.getAttribute('#catalogs-body', 'aria-busy'), 'true');
  await page.locator('#catalog-report').waitFor();

  const seen = (await page.evaluate(() => window.__progress)).filter((p) => /^\d+ of \d+/.test(p.text));
  assert.equal(seen[0].text, `1 of ${TOTAL}: ${built.progress[0]}`);
  const values = seen.map((p) => Number(p.value));
  assert.deepEqual(values, [...values].sort((a, b) => a - b), 'progress only moves forward');
  assert.ok(seen.every((p) => p.max === TOTAL));
  assert.equal(await page.locator('#catalog-progress-text').innerText(), `${TOTAL} of ${TOTAL}: ${built.progress.at(-1)}`);
  assert.equal(await page.$eval('#catalog-progress', (b) => [b.value, b.max].join('/')), `${TOTAL}/${TOTAL}`);

  assert.equal(await page.locator('#catalog-report').innerText(), reportLine(indexReport));
  assert.equal(await page.locator('#catalog-report').innerText(), '12 products: 3 embedded, 9 reused, 1 removed, in 2.7 s'.replace('2.7', indexReport.seconds.toFixed(1)));
  assert.match(await page.locator('#catalog-report-detail').innerText(), /Footwear 5, Sports 7\. Cut out: 2 by their own transparency, 10 by u2netp, 0 whole image\./);
  assert.equal(await page.locator('#catalog-problems').isVisible(), true);
  assert.deepEqual(
    await page.$$eval('#catalog-problems li', (lis) => lis.map((li) => li.textContent)),
    indexReport.skipped.map((s) => `${s.id}: ${s.reason}`),
  );
  assert.equal(await page.locator('#catalog-problems-title').innerText(), '1 product left out');
  assert.equal(await page.locator('#catalog-cancel').isVisible(), false);
  assert.match(await page.locator('#catalog-job-title').innerText(), /^Built Sports corner/);

  // the new catalog is in use: header, panel, saved list, and the app starts over on it
  assert.equal(await page.locator('#catalog-line').innerText(), SHOP_LINE);
  assert.equal(await page.locator('#catalog-current-name').innerText(), built.catalog.name);
  assert.match(await page.locator('#catalog-current').innerText(), /12 products · 2 categories/);
  const li = page.locator(`#catalog-saved li[data-name="${built.folder}"]`);
  assert.equal(await li.locator('button.catalog-use').isDisabled(), true);
  assert.equal(await li.locator('button.catalog-use').getAttribute('aria-pressed'), 'true');
  assert.equal(await li.locator('button.catalog-update').count(), 1);
  assert.equal(await page.locator('#results-grid').count(), 0, 'the old catalog’s results are gone');
  assert.equal(await page.locator('#query').isVisible(), false);
  assert.match(await page.locator('#empty-state').innerText(), /12 products in 2 categories \(Sports corner\)/);
  assert.match(await page.locator('#status').innerText(), /Now searching Sports corner/);
  assert.deepEqual(await disabled(page, '#catalog-open', '#catalog-import', '#catalog-build', '#catalog-health-run'), [false, false, false, false]);
  assert.equal((await ipcCalls(page, 'build_catalog')).length, 1);
  await shot(page, 'catalogs-build-1280');

  // a new photo searches the new catalog; the sliders start from its scoring's blend
  await page.click('#designer-toggle');
  await pickPhoto(page, 'plimsolls');
  assert.equal(await page.inputValue('#w-semantic'), String(built.catalog.scoring.blend.semantic));
  assert.deepEqual(problems, []);
});

test('cancelling mid-build: the cancelled message, and the catalog in use stays', async () => {
  const { page, problems } = await app({ cfg: { buildStepMs: 120 } });
  await openPanel(page);
  await page.click('#catalog-build');
  await page.waitForFunction(() => /^3 of /.test(document.querySelector('#catalog-progress-text').textContent));
  await shot(page, 'catalogs-building-1280');
  await page.click('#catalog-cancel');
  const alert = page.locator('#catalog-alert-box');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'cancelled');
  assert.match(await alert.innerText(), /Build cancelled/);
  assert.match(await page.locator('#catalog-alert-message').innerText(), /^cancelled: the build of .* stopped after \d+ of 13 products; the catalog there is unchanged$/);
  assert.equal((await ipcCalls(page, 'cancel_job')).length, 1);
  assert.equal(await page.locator('#catalog-cancel').isVisible(), false);
  assert.match(await page.locator('#catalog-progress-text').innerText(), /^Stopped after \d+ of 13$/);
  assert.equal(await page.locator('#catalog-report').isVisible(), false);
  // nothing changed
  assert.equal(await page.locator('#catalog-line').innerText(), DEMO_LINE);
  assert.equal(await page.locator('#catalog-current-name').innerText(), fixtures.catalog.name);
  assert.equal(await page.locator('#catalog-saved li').count(), 0);
  await page.waitForFunction(() => !document.querySelector('#catalog-build').disabled);
  await shot(page, 'catalogs-cancelled-1280');
  await page.click('#catalog-alert-dismiss');
  assert.equal(await alert.count(), 0);
  assert.deepEqual(problems, []);
});

test('a build refused for its products file says where, whole; the catalog in use stays', async () => {
  // the engine's message for a CSV with a bad price (lookalike index, as the app reports it)
  const message = 'building catalog catalogs/shop: products file shop.csv: line 2, column 5 (`price`): `abc` is not a price (a number like 12.50)';
  const { page, problems } = await app({ cfg: { jobError: { code: 'products', message } } });
  await openPanel(page);
  await page.click('#catalog-build');
  const alert = page.locator('#catalog-alert-box');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'products');
  assert.match(await alert.innerText(), /The products file has a problem/);
  assert.equal(await page.locator('#catalog-alert-message').innerText(), message);
  // nothing ran: the job area is as it was (hidden), the catalog in use the same
  assert.equal(await page.locator('#catalog-job').isVisible(), false);
  assert.equal(await page.locator('#catalog-line').innerText(), DEMO_LINE);
  await page.waitForFunction(() => !document.querySelector('#catalog-build').disabled);
  // try again: it builds
  await buildDone(page);
  assert.equal(await alert.count(), 0);
  assert.equal(await page.locator('#catalog-line').innerText(), SHOP_LINE);
  assert.deepEqual(problems, []);
});

test('switching between catalogs updates the header; update rebuilds from the same files', async () => {
  const { page, problems } = await app({ cfg: { buildStepMs: 5 } });
  await openPanel(page);
  await buildDone(page);
  assert.equal(await page.locator('#catalog-line').innerText(), SHOP_LINE);

  // back to the demo with "Open folder" (the harness picks catalog/demo)
  await page.click('#catalog-open');
  await page.waitForFunction((line) => document.querySelector('#catalog-line').textContent === line, DEMO_LINE);
  const li = page.locator(`#catalog-saved li[data-name="${built.folder}"]`);
  await page.waitForFunction(() => !document.querySelector('#catalog-saved button.catalog-use').disabled);
  assert.equal(await li.locator('button.catalog-use').getAttribute('aria-pressed'), 'false');
  assert.match(await page.locator('#empty-state').innerText(), /85 products in 9 categories/);

  // the saved one again
  await li.locator('button.catalog-use').click();
  await page.waitForFunction((line) => document.querySelector('#catalog-line').textContent === line, SHOP_LINE);
  assert.deepEqual((await ipcCalls(page, 'switch_catalog')).map((c) => c.args), [{ name: built.folder }]);
  await page.waitForFunction(() => document.querySelector('#catalog-saved button.catalog-use').disabled);
  assert.equal(await page.locator('#catalog-current-name').innerText(), built.catalog.name);

  // update (from the keyboard): the same files again, nothing to embed
  await li.locator('button.catalog-update').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((line) => document.querySelector('#catalog-report').textContent === line, reportLine(built.update));
  // the list was redrawn while it ran; the focus is back on the row's Update button
  await page.waitForFunction(() => !document.querySelector('#catalog-open').disabled);
  await page.waitForFunction(
    (name) => document.activeElement?.matches(`#catalog-saved li[data-name="${name}"] button.catalog-update`),
    built.folder,
  );
  assert.deepEqual((await ipcCalls(page, 'update_catalog')).map((c) => c.args), [{ name: built.folder }]);
  assert.match(reportLine(built.update), /^12 products: 0 embedded, 12 reused, 0 removed/);
  assert.deepEqual(problems, []);
});

test('import: a refused bundle shows its whole message; an accepted one comes into use', async () => {
  const { page, problems } = await app({ cfg: { importRefused: true } });
  await openPanel(page);
  await page.click('#catalog-import');
  const alert = page.locator('#catalog-alert-box');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'bundle');
  assert.equal(await alert.getAttribute('role'), 'alert');
  assert.match(await alert.innerText(), /That bundle was refused/);
  assert.equal(await page.locator('#catalog-alert-message').innerText(), built.bundle.refused.message);
  assert.match(built.bundle.refused.message, /`embeddings\.bin` is damaged: its sha256 is [0-9a-f]{64}, bundle\.json lists [0-9a-f]{64}$/);
  assert.equal(await page.locator('#catalog-line').innerText(), DEMO_LINE);
  await shot(page, 'catalogs-bundle-refused-1280');

  await page.evaluate(() => (window.__IPC__.cfg.importRefused = false));
  await page.click('#catalog-import');
  await page.waitForFunction((line) => document.querySelector('#catalog-line').textContent === line, SHOP_LINE);
  assert.equal(await alert.count(), 0, 'a new job clears the old alert');
  assert.match(await page.locator('#catalog-job-title').innerText(), /^Imported Sports corner/);
  const li = page.locator(`#catalog-saved li[data-name="${built.folder}"]`);
  await li.waitFor();
  assert.equal(await li.locator('button.catalog-update').count(), 0, 'an imported catalog has no files to update from');

  // a closed dialog changes nothing
  await page.evaluate(() => (window.__IPC__.cfg.closeDialogs = true));
  await page.click('#catalog-open');
  await page.waitForFunction(() => !document.querySelector('#catalog-open').disabled);
  assert.equal(await page.locator('#catalog-line').innerText(), SHOP_LINE);
  assert.equal(await alert.count(), 0);
  assert.deepEqual(problems, []);
});

test('the health report: self-retrieval, the router confusion table, near-duplicates and fallbacks', async () => {
  const { page, problems } = await app();
  await openPanel(page);
  await watchProgress(page);
  await page.click('#catalog-health-run');
  await page.locator('#health-confusion').waitFor();
  const seen = await page.evaluate(() => window.__progress.map((p) => p.text));
  assert.ok(seen.includes('85 of 85'), seen.join(' | '));

  const s = health.self_retrieval;
  assert.equal(await page.locator('#health-r1 .stat-value').innerText(), `${Math.round(s.recall_at_1 * 100)}%`);
  assert.equal(await page.locator('#health-r10 .stat-value').innerText(), `${Math.round(s.recall_at_10 * 100)}%`);
  assert.match(await page.locator('#health-r1').innerText(), new RegExp(`${Math.round(s.recall_at_1 * s.queried)} of 85 came first`));
  assert.deepEqual(
    await page.$$eval('#health-not-first li', (lis) => lis.map((li) => li.dataset.id)),
    s.not_first.map((x) => x.product.id),
  );
  // each miss says where its product came (or that it is not in the top k) and what came first
  assert.ok(s.not_first.length > 0, 'the recording has a miss to show');
  for (const miss of s.not_first) {
    const row = page.locator(`#health-not-first li[data-id="${miss.product.id}"]`);
    const text = await row.innerText();
    assert.match(text, miss.rank === null ? new RegExp(`not in the top ${s.top_k}`) : new RegExp(`came ${miss.rank}(st|nd|rd|th)`));
    if (miss.first) assert.match(text, new RegExp(`first:\\s*${miss.first.name}`));
  }

  // the confusion table: a row per true category, a column per routed one
  const n = health.router.categories.length;
  assert.equal(await page.locator('#health-confusion tbody tr').count(), n);
  assert.equal(await page.locator('#health-confusion thead th.col').count(), n);
  assert.equal(await page.locator('#health-confusion tbody tr >> nth=0 >> td').count(), n);
  const cells = await page.$$eval('#health-confusion tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => [Number(td.textContent), td.className])));
  assert.deepEqual(cells.map((r) => r.map(([v]) => v)), health.router.counts);
  const offExpected = health.router.counts.flatMap((r, i) => r.filter((v, j) => i !== j && v > 0)).length;
  assert.equal(await page.locator('#health-confusion td.off').count(), offExpected);
  assert.equal(await page.locator('#health-confusion td.diag').count(), n);
  assert.ok((await page.locator('#health-router-accuracy').innerText()).startsWith(`Router accuracy ${Math.round(health.router.accuracy * 100)}%`));
  assert.equal(await page.locator('#health-most-confused').count(), health.router.most_confused.length ? 1 : 0);

  assert.equal(await page.locator('#health-no-duplicates').innerText(), 'No pairs at cosine 0.97 or above.');
  assert.deepEqual(
    await page.$$eval('#health-fallbacks-catalog li', (lis) => lis.map((li) => li.dataset.id)),
    health.fallbacks.catalog.map((p) => p.id),
  );
  await page.waitForFunction(() => [...document.querySelectorAll('#health-fallbacks-catalog img')].every((i) => i.complete && i.naturalWidth > 0));
  await page.locator('#catalog-health').scrollIntoViewIfNeeded();
  await shot(page, 'catalogs-health-1280');
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(problems, []);
});

test('the health report of a confused router: off-diagonal cells, the accuracy and the most confused pairs', async () => {
  // the recorded demo report (self-queries from the thumbnails; the router judged by its own route)
  const r = health.router;
  const off = [];
  r.counts.forEach((row, i) => row.forEach((n, j) => { if (i !== j && n > 0) off.push([i, j, n]); }));
  assert.ok(off.length > 0, 'the recorded demo report has confused cells');
  const label = (c) => c[0].toUpperCase() + c.slice(1);
  const { page, problems } = await app();
  await openPanel(page);
  await page.click('#catalog-health-run');
  await page.locator('#health-confusion').waitFor();
  const [i, j, n] = off[0];
  const cell = page.locator(`#health-confusion tbody tr[data-category="${r.categories[i]}"] td >> nth=${j}`);
  assert.equal(await cell.innerText(), String(n));
  assert.match(await cell.getAttribute('class'), /\boff\b/);
  assert.equal(await page.locator('#health-confusion td.off').count(), off.length);
  assert.ok((await page.locator('#health-router-accuracy').innerText()).startsWith(`Router accuracy ${Math.round(r.accuracy * 100)}%`));
  const pairs = r.most_confused.map((m) => `${label(m.truth)} → ${label(m.chosen)} (${m.count})`).join(', ');
  assert.equal(await page.locator('#health-most-confused').innerText(), `Most confused: ${pairs}.`);
  assert.deepEqual(problems, []);
});

test('"Open in shop" shows only for a product with an http(s) link, and asks the app to open it', async () => {
  const code = '2000000000015';
  const { page, problems } = await app({ cfg: { buildStepMs: 5, decoded: { text: code, format: 'EAN_13' }, barcodes: { [code]: 'vendure-tent' } } });
  // the demo catalog's products have no link
  await pickPhoto(page, 'plimsolls');
  await page.click('#results-grid > li >> nth=0 >> button');
  await page.locator('#details[data-state="loaded"]').waitFor();
  assert.equal(await page.locator('#details-open-shop').count(), 0);
  await page.keyboard.press('Escape');

  // the shop's products have one (made up, on .example), except the plimsolls
  await openPanel(page);
  await buildDone(page);
  const barcode = async () => {
    const chooser = page.waitForEvent('filechooser');
    await page.click('#scan-barcode');
    await (await chooser).setFiles(photoPath('chair'));
    await page.locator('#details').waitFor({ state: 'visible' });
  };
  await barcode();
  const tent = built.products.find((p) => p.id === 'vendure-tent');
  assert.match(tent.url, /^https:\/\/shop\.example\//);
  const open = page.locator('#details-open-shop');
  await open.waitFor();
  assert.equal(await open.getAttribute('title'), tent.url);
  assert.equal(await page.locator('#details-shop-host').innerText(), 'shop.example');
  await shot(page, 'details-open-shop-1280');
  await open.click();
  await page.waitForFunction(() => window.__IPC__.calls.some((c) => c.cmd === 'open_in_shop'));
  assert.deepEqual((await ipcCalls(page, 'open_in_shop')).map((c) => c.args), [{ id: 'vendure-tent' }]);
  await page.keyboard.press('Escape');

  await page.evaluate(() => (window.__IPC__.cfg.barcodes = { '2000000000015': 'saleor-yellow-plimsolls' }));
  await barcode();
  await page.waitForFunction(() => document.querySelector('#details-title').textContent === 'Yellow Plimsolls');
  assert.equal(built.products.find((p) => p.id === 'saleor-yellow-plimsolls').url, null);
  assert.equal(await page.locator('#details-open-shop').count(), 0);
  assert.deepEqual(problems, []);
});

test('at phone width (390x844): a build and the health report fit the screen', async () => {
  const { page, problems } = await app({ viewport: { width: 390, height: 844 }, cfg: { buildStepMs: 5 } });
  await openPanel(page);
  const fits = async (what) => {
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scroll <= 390, `${what}: page is ${scroll}px wide`);
    assert.deepEqual(await overflowing(page), [], what);
  };
  await fits('panel');
  // the demo catalog's health: 9 categories in the confusion table
  await page.click('#catalog-health-run');
  await page.locator('#health-confusion').waitFor();
  await page.waitForFunction(() => !document.querySelector('#catalog-health-run').disabled);
  assert.equal(await page.locator('#health-confusion tbody tr').count(), 9);
  await fits('health report');
  // the confusion table fits without scrolling sideways
  const table = await page.$eval('.confusion-wrap', (w) => [w.scrollWidth, w.clientWidth]);
  assert.ok(table[0] <= table[1], `the confusion table is ${table[0]}px in ${table[1]}px`);
  await shot(page, 'catalogs-health-390');
  // then a build: the report, the products left out; the old health report goes with the old catalog
  await buildDone(page);
  assert.equal(await page.locator('#health-confusion').count(), 0);
  assert.equal(await page.locator('#catalog-line').isVisible(), true);
  assert.equal(await page.locator('#catalog-line').innerText(), SHOP_LINE);
  await fits('after the build');
  await shot(page, 'catalogs-build-390');
  assert.deepEqual(problems, []);
});

test('on a phone build (can_build false) there is no Build button; import still works', async () => {
  const { page, problems } = await app({ viewport: { width: 390, height: 844 }, cfg: { canBuild: false } });
  await openPanel(page);
  assert.equal(await page.locator('#catalog-build').isVisible(), false);
  assert.equal(await page.locator('#catalog-import').isVisible(), true);
  await page.click('#catalog-import');
  await page.waitForFunction((line) => document.querySelector('#catalog-line').textContent === line, SHOP_LINE);
  assert.equal(await page.locator('#catalog-build').isVisible(), false);
  await shot(page, 'catalogs-phone-import-390');
  assert.deepEqual(problems, []);
});
