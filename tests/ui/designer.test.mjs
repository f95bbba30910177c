// Designer view: remembered toggle, every stage (mask, cut-out, category chart, timings, top-50
// before vs top-10 after) and the weight sliders re-ranking the grid live without a new search.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gridIds, ipcCalls, overflowing, pickPhoto, recordingFor, shot, useApp, waitReady } from './harness.mjs';

const app = useApp();

/** The engine's rule, independently: routed first, then blend, then semantic, then retrieval order. */
function expectedOrder(candidates, w, k = 10) {
  return candidates
    .map((h, i) => ({ h, i, s: w.semantic * h.semantic + w.texture * h.texture + w.color * h.color }))
    .sort((a, b) => Number(b.h.routed) - Number(a.h.routed) || b.s - a.s || b.h.semantic - a.h.semantic || a.i - b.i)
    .slice(0, k)
    .map((x) => x.h.id);
}

test('the designer toggle is a pressed/unpressed button remembered across reloads', async () => {
  const { page, problems } = await app({ designer: false });
  await waitReady(page);
  const toggle = page.getByRole('button', { name: 'Designer view' });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.locator('#designer').isVisible(), false);
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#designer').isVisible(), true);
  assert.equal(await page.evaluate(() => localStorage.getItem('lookalike.designer')), '1');
  await page.reload();
  await waitReady(page);
  assert.equal(await page.getByRole('button', { name: 'Designer view' }).getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#designer').isVisible(), true);
  // keyboard
  await page.getByRole('button', { name: 'Designer view' }).focus();
  await page.keyboard.press('Space');
  assert.equal(await page.evaluate(() => localStorage.getItem('lookalike.designer')), '0');
  assert.deepEqual(problems, []);
});

test('designer view shows each stage: mask, cut-out, category scores, timings, top-50 vs top-10', async () => {
  const { page, problems } = await app({ designer: true });
  await pickPhoto(page, 'coffee');
  const r = recordingFor('coffee').response;
  await page.waitForFunction(() => document.querySelector('#designer-mask')?.naturalWidth > 0);
  await page.waitForFunction(() => document.querySelector('#designer-cutout')?.naturalWidth > 0);
  assert.ok((await page.getAttribute('#designer-mask', 'src')).startsWith('data:image/png;base64,'));

  const chart = await page.$$eval('#category-chart li', (lis) => lis.map((li) => [li.dataset.category, li.querySelector('.num').textContent]));
  assert.equal(chart.length, r.categories.length);
  assert.deepEqual(chart[0], ['drinks', '97%']);

  const stages = await page.$$eval('#timings-chart li', (lis) => lis.map((li) => [li.dataset.stage, li.querySelector('.num').textContent]));
  assert.deepEqual(
    stages.map((s) => s[0]),
    ['decode', 'segment', 'route', 'embed', 'retrieve', 'texture', 'color', 'rerank', 'total'],
  );
  for (const [, text] of stages) assert.match(text, /^\d+(\.\d+)? ms$/);
  assert.equal(stages[8][1], `${Math.round(r.timings_ms.total)} ms`);

  const beforeIds = await page.$$eval('#before-list li', (lis) => lis.map((li) => li.dataset.id));
  const afterIds = await page.$$eval('#after-list li', (lis) => lis.map((li) => li.dataset.id));
  assert.equal(beforeIds.length, 50);
  assert.deepEqual(beforeIds, r.candidates.map((c) => c.id));
  assert.deepEqual(afterIds, r.results.map((h) => h.id));
  assert.deepEqual(await gridIds(page), afterIds);
  assert.equal(await page.locator('#before-list li.in-top').count(), 10);
  assert.match(await page.locator('#live-note').innerText(), /As ranked by the engine/);
  await shot(page, 'designer-1280');
  assert.deepEqual(problems, []);
});

test('weight sliders re-rank the grid live from the candidates, without calling search again', async () => {
  const { page, problems } = await app({ designer: true });
  await pickPhoto(page, 'coffee');
  const r = recordingFor('coffee').response;
  const engineOrder = r.results.map((h) => h.id);
  assert.deepEqual(await gridIds(page), engineOrder);

  // colour only
  await page.fill('#w-semantic', '0');
  await page.fill('#w-texture', '0');
  await page.fill('#w-color', '1');
  const colorOnly = expectedOrder(r.candidates, { semantic: 0, texture: 0, color: 1 });
  assert.notDeepEqual(colorOnly, engineOrder, 'the test needs an order that differs');
  assert.deepEqual(await gridIds(page), colorOnly);
  assert.deepEqual(await page.$$eval('#after-list li', (lis) => lis.map((li) => li.dataset.id)), colorOnly);
  const top = r.candidates.find((c) => c.id === colorOnly[0]);
  assert.equal(await page.locator('#results-grid > li >> nth=0 >> .score-value').innerText(), top.color.toFixed(2));
  assert.equal(await page.locator('#w-color-value').innerText(), '1.00');
  assert.match(await page.locator('#live-note').innerText(), /Re-ranked here from the 50 candidates/);
  await shot(page, 'designer-colour-only-1280');

  // semantic only: every blended score drops under 0.35 -> "No close match", results still listed
  await page.fill('#w-color', '0');
  await page.fill('#w-semantic', '1');
  const semanticOnly = expectedOrder(r.candidates, { semantic: 1, texture: 0, color: 0 });
  assert.deepEqual(await gridIds(page), semanticOnly);
  assert.ok(r.candidates.filter((c) => c.routed).every((c) => c.semantic < 0.35));
  assert.equal(await page.locator('#no-match').isVisible(), true);
  assert.match(await page.locator('#no-match').innerText(), /No close match/);
  assert.equal(await page.locator('#results-grid > li').count(), 10);
  assert.match(await page.locator('#status').innerText(), /No close match/);
  await shot(page, 'no-close-match-1280');

  // keyboard: arrows move a slider and re-rank too
  await page.focus('#w-texture');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.inputValue('#w-texture'), '0.01');
  assert.deepEqual(await gridIds(page), expectedOrder(r.candidates, { semantic: 1, texture: 0.01, color: 0 }));

  // reset -> the engine's own order again
  await page.click('#weights-reset');
  assert.deepEqual(await gridIds(page), engineOrder);
  // the engine's own blend decides again whether anything is close (coffee is not in the catalog)
  assert.equal(await page.locator('#no-match').isVisible(), r.results[0].score < 0.35);
  assert.equal((await ipcCalls(page, 'search')).length, 1, 'no new search for slider moves');

  // a later category search sends the slider weights along
  await page.fill('#w-color', '0.5');
  await page.click('.chip[data-category="plants"]');
  await page.waitForFunction(() => window.__IPC__.calls.filter((c) => c.cmd === 'search').length === 2);
  const calls = await ipcCalls(page, 'search');
  assert.deepEqual(JSON.parse(calls[1].headers['x-search-options']), {
    category: 'plants',
    weights: { semantic: 0.5, texture: 0.3, color: 0.5 },
  });
  assert.deepEqual(problems, []);
});

test('designer view at phone width stays inside the screen', async () => {
  const { page, problems } = await app({ designer: true, viewport: { width: 360, height: 740 } });
  await pickPhoto(page, 'tshirt');
  await page.waitForFunction(() => document.querySelector('#designer-mask')?.naturalWidth > 0);
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scroll <= 360, `page is ${scroll}px wide`);
  assert.deepEqual(await overflowing(page), []);
  await shot(page, 'designer-360');
  assert.deepEqual(problems, []);
});
