// What a shopper does after the first answer: pick one object of the photo (tap its outline, or
// drag a box), and ask for the same kind of thing in another colour (the swatch row re-ranks the
// shortlist on the spot). Headless Chromium, the Tauri IPC mocked with the recorded real searches
// (the two-object photo is tests/fixtures/two-objects.jpg: a tulip pot left, a lion statue right).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { fixtures, gridIds, importUi, ipcCalls, overflowing, photoPath, pickPhoto, recordingFor, shot, useApp } from './harness.mjs';

const app = useApp();
const { towardColor, inColor, rerank } = importUi('ui/src/rerank.ts');
const PHONE = { width: 390, height: 844 };

const lastOptions = async (page) => {
  const calls = await ipcCalls(page, 'search');
  return JSON.parse(calls.at(-1).headers['x-search-options']);
};
const searches = async (page) => (await ipcCalls(page, 'search')).length;
const idle = (page) => page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');

test('the objects found show as outlines; tapping one searches it alone, "Whole photo" goes back', async () => {
  const { page, problems } = await app({ viewport: PHONE, hasTouch: true });
  await pickPhoto(page, 'two');
  const rec = recordingFor('two');
  const objects = rec.response.objects;
  assert.ok(objects.length >= 2, 'the recording has two objects');
  const outlines = page.locator('.object-outline');
  assert.equal(await outlines.count(), objects.length);
  assert.match(await page.locator('#query figcaption').first().innerText(), /things found: tap one, or drag a box/);
  // each outline sits over its object: same box, in the photo's own pixels inside the frame
  const layer = await page.locator('#objects-layer').boundingBox();
  const photo = await page.$eval('#photo-image', (i) => ({ w: i.naturalWidth, h: i.naturalHeight }));
  assert.ok(Math.abs(layer.width / layer.height - photo.w / photo.h) < 0.02, 'the layer has the photo aspect');
  for (let i = 0; i < objects.length; i++) {
    const b = await outlines.nth(i).boundingBox();
    const r = objects[i].region;
    assert.ok(Math.abs(b.x - (layer.x + r.x * layer.width)) < 2 && Math.abs(b.width - r.w * layer.width) < 2, `outline ${i}`);
  }
  await shot(page, 'objects-390');

  // tap the right-hand object (the lion): one search of exactly its region
  const right = objects.findIndex((o) => o.region.x > 0.5);
  const recorded = rec.regions.find((x) => x.region.x === objects[right].region.x);
  await outlines.nth(right).tap();
  await page.waitForFunction((id) => document.querySelector('#results-grid > li')?.dataset.id === id, recorded.response.results[0].id);
  await idle(page);
  assert.deepEqual((await lastOptions(page)).region, objects[right].region);
  assert.equal((await gridIds(page))[0], 'vendure-guardian-lion-statue');
  assert.equal(await outlines.nth(right).getAttribute('aria-pressed'), 'true');
  assert.equal(await outlines.count(), objects.length, 'the whole photo\'s objects stay to pick from');
  assert.equal(await page.locator('#match-title').innerText(), 'This is it');
  const whole = page.locator('#whole-photo');
  assert.ok(await whole.isVisible());
  await shot(page, 'object-picked-390');

  await whole.tap();
  await page.waitForFunction(() => document.querySelector('#whole-photo').hidden);
  await idle(page);
  assert.equal((await lastOptions(page)).region, undefined);
  assert.deepEqual(await gridIds(page), rec.response.results.map((h) => h.id));
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(problems, []);
});

test('dragging a box with the mouse searches that part of the photo', async () => {
  const { page, problems } = await app();
  await pickPhoto(page, 'two');
  const before = await searches(page);
  const layer = await page.locator('#objects-layer').boundingBox();
  // the left third, top to bottom: around the tulip pot
  await page.mouse.move(layer.x + layer.width * 0.05, layer.y + layer.height * 0.05);
  await page.mouse.down();
  await page.mouse.move(layer.x + layer.width * 0.2, layer.y + layer.height * 0.5, { steps: 4 });
  assert.ok(await page.locator('.region-box.drawing').isVisible(), 'the box shows while drawing');
  await page.mouse.move(layer.x + layer.width * 0.42, layer.y + layer.height * 0.95, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction((n) => window.__IPC__.calls.filter((c) => c.cmd === 'search').length > n, before);
  await idle(page);
  const { region } = await lastOptions(page);
  assert.ok(Math.abs(region.x - 0.05) < 0.01 && Math.abs(region.w - 0.37) < 0.01, JSON.stringify(region));
  assert.ok(Math.abs(region.y - 0.05) < 0.01 && Math.abs(region.h - 0.9) < 0.01, JSON.stringify(region));
  assert.equal((await gridIds(page))[0], 'vendure-tulip-pot');
  // a drawn box is shown as the searched region
  assert.ok(await page.locator('#searched-region').isVisible());
  await shot(page, 'box-drawn-1280');

  // a click (no drag) on the photo is not a box: nothing is searched
  const n = await searches(page);
  await page.mouse.click(layer.x + layer.width * 0.6, layer.y + layer.height * 0.1);
  await page.waitForTimeout(300);
  assert.equal(await searches(page), n);
  assert.deepEqual(problems, []);
});

test('colour swatches re-rank the shown list to the engine\'s own colour ranking, without a search', async () => {
  const { page, problems } = await app({ viewport: PHONE });
  await pickPhoto(page, 'tshirt');
  const rec = recordingFor('tshirt');
  const n = await searches(page);
  const row = page.locator('#colors');
  assert.ok(await row.isVisible());
  const swatches = row.locator('button.swatch');
  assert.equal(await swatches.count(), 13, 'Any colour and the 12 palette colours');
  assert.equal(await row.locator('[data-swatch="any"]').getAttribute('aria-pressed'), 'true');
  for (const b of await swatches.all()) {
    const box = await b.boundingBox();
    assert.ok(box.width >= 48 && box.height >= 48, 'touch targets of 48 px');
  }
  for (const { color, results, match } of rec.colors) {
    await row.locator(`[data-swatch="${color}"]`).click();
    await page.waitForFunction((c) => document.querySelector(`[data-swatch="${c}"]`)?.getAttribute('aria-pressed') === 'true', color);
    assert.deepEqual(await gridIds(page), results.map((h) => h.id), `${color}: the engine's --color ${color} order`);
    const scores = await page.$$eval('#results-grid > li', (lis) => lis.map((li) => Number(li.dataset.score)));
    scores.forEach((s, i) => assert.ok(Math.abs(s - results[i].score) < 1e-6, `${color} #${i + 1}`));
    assert.equal(await page.getAttribute('#match', 'data-match'), match);
    if (color === 'red') await shot(page, 'colour-red-390');
  }
  assert.equal(await searches(page), n, 'a swatch re-ranks, it does not search again');
  await row.locator('[data-swatch="any"]').click();
  await page.waitForFunction(() => document.querySelector('[data-swatch="any"]').getAttribute('aria-pressed') === 'true');
  assert.deepEqual(await gridIds(page), rec.response.results.map((h) => h.id));
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(problems, []);
});

test('the colour rule in the browser gives the engine\'s ranking for every recorded colour', () => {
  const scoring = fixtures.catalog.scoring;
  const palette = importUi('ui/src/generated/contract.ts').PALETTE.map((c) => c.name);
  let checked = 0;
  for (const rec of fixtures.searches) {
    for (const { color, results } of rec.colors) {
      const mine = rerank(inColor(rec.response.candidates, palette.indexOf(color)), towardColor(scoring), 10);
      assert.deepEqual(mine.map((h) => h.id), results.map((h) => h.id), `${rec.query.file} ${color}`);
      mine.forEach((h, i) => assert.equal(Math.fround(h.score), Math.fround(results[i].score), `${rec.query.file} ${color} #${i + 1}`));
      checked++;
    }
  }
  assert.ok(checked >= 10, `${checked} colour rankings checked`);
});

test('recent searches stay on the device, reopen without a search, and can be cleared', async () => {
  const { page, problems } = await app({ viewport: PHONE });
  await pickPhoto(page, 'chair');
  await page.waitForSelector('#recent-list > li');
  await pickPhoto(page, 'two');
  // the region search of the two-object photo updates its entry, it does not add one
  await page.locator('.object-outline').first().click();
  await page.waitForFunction(() => !document.querySelector('#whole-photo').hidden);
  await idle(page);
  const region = await page.$$eval('#results-grid > li', (lis) => lis.map((li) => li.dataset.id));
  await page.waitForFunction(() => document.querySelectorAll('#recent-list > li').length === 2);

  // after a reload (a new start of the app) both are there, newest first
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('#recent-list > li').length === 2);
  const labels = await page.$$eval('#recent-list button', (bs) => bs.map((b) => b.getAttribute('aria-label')));
  assert.match(labels[0], /^Reopen two-objects\.jpg, just now: /);
  assert.match(labels[1], /^Reopen vendure-balloon-chair\.jpg, just now: Balloon Chair$/);
  assert.ok(await page.locator('#empty-state').isVisible(), 'nothing is searched on start');
  await shot(page, 'recent-390');

  // reopening shows the answer as it was, with no search
  const before = await searches(page);
  await page.locator('#recent-list button').nth(1).click();
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  assert.deepEqual(await gridIds(page), recordingFor('chair').response.results.map((h) => h.id));
  assert.equal(await page.getAttribute('#match', 'data-match'), 'same');
  await page.locator('#recent-list button').nth(0).click();
  await page.waitForFunction((id) => document.querySelector('#results-grid > li')?.dataset.id === id, region[0]);
  assert.deepEqual(await gridIds(page), region, 'the latest answer for that photo: its region search');
  assert.equal(await page.locator('.object-outline').count(), recordingFor('two').response.objects.length);
  assert.ok(await page.locator('#whole-photo').isVisible());
  assert.equal(await searches(page), before, 'reopened without running the models');
  // the kept photo can be searched again: shrunk to the engine's 1024 px working size (the mock
  // has no recording of those bytes, the app searches them)
  await page.locator('#whole-photo').click();
  await page.waitForFunction((n) => window.__IPC__.calls.filter((c) => c.cmd === 'search').length > n, before);
  const again = (await ipcCalls(page, 'search')).at(-1);
  assert.ok(again.raw && again.bytes > 10_000 && again.bytes < fs.statSync(photoPath('two')).size, `${again.bytes} bytes`);

  await idle(page);
  await page.locator('#recent-clear').click();
  await page.waitForFunction(() => document.querySelector('#recent').hidden);
  await page.reload();
  await page.waitForSelector('#empty-state');
  await page.waitForTimeout(300);
  assert.equal(await page.locator('#recent').isHidden(), true, 'cleared for good');
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(problems, []);
});

test('a photo opened with the app (or shared into it) is searched once the engine is ready', async () => {
  const bytes = fs.readFileSync(photoPath('two'));
  const { page, problems } = await app({ viewport: PHONE, cfg: { shared: { name: 'two-objects.jpg', base64: bytes.toString('base64') } } });
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  const [call] = await ipcCalls(page, 'search');
  assert.equal(call.bytes, bytes.length, 'the shared bytes are what is searched');
  assert.deepEqual(await gridIds(page), recordingFor('two').response.results.map((h) => h.id));
  assert.match(await page.getAttribute('#photo-image', 'alt'), /two-objects\.jpg/);
  // taken once: coming back to the app searches nothing more
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await page.waitForTimeout(300);
  assert.equal((await ipcCalls(page, 'search')).length, 1);
  assert.deepEqual(problems, []);
});

test('a shared photo that could not be read says why', async () => {
  const error = { code: 'io', message: 'cannot open gone.jpg: No such file or directory (os error 2)' };
  const { page, problems } = await app({ cfg: { shared: { error } } });
  const alert = page.locator('#alert-box');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'io');
  assert.match(await alert.innerText(), /cannot open gone\.jpg/);
  assert.equal((await ipcCalls(page, 'search')).length, 0);
  assert.deepEqual(problems, []);
});
