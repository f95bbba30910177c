// Designer view: remembered toggle, every stage (mask, cut-out, category chart, timings, top-50
// before vs top-10 after) and the weight sliders re-ranking the grid live without a new search.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtures, gridIds, importUi, ipcCalls, overflowing, pickPhoto, recordingFor, shot, useApp, VERDICT_TITLES, waitReady } from './harness.mjs';

const app = useApp();
const { judge, rerank, withBlend } = importUi('ui/src/rerank.ts');
const { scoring, match_rule: rule } = fixtures.catalog;

/** The engine's own top-10 of the recording under these weights, and its verdict (the real CLI). */
function engineRanking(rec, w) {
  const r = rec.reranks.find((x) => x.weights.semantic === w.semantic && x.weights.texture === w.texture && x.weights.color === w.color);
  assert.ok(r, `no recording of ${rec.query.file} under ${JSON.stringify(w)}: add it to ui/mock/record.mjs`);
  return { ids: r.results.map((h) => h.id), scores: r.results.map((h) => h.score), match: r.match };
}

/** Weights the engine did not rank with: the UI's rule (held to the engine's by rerank.test.mjs). */
const expectedOrder = (candidates, w, k = 10) => rerank(candidates, withBlend(scoring, w), k).map((h) => h.id);

/** The banner's verdict and title, and the status line. */
async function verdictShown(page) {
  return {
    match: await page.getAttribute('#match', 'data-match'),
    title: await page.locator('#match-title').innerText(),
    status: await page.locator('#status').innerText(),
  };
}

function assertVerdict(shown, match, what) {
  assert.equal(shown.match, match, `${what}: data-match`);
  assert.equal(shown.title, VERDICT_TITLES[match], `${what}: title`);
  assert.ok(shown.status.startsWith(VERDICT_TITLES[match]), `${what}: status "${shown.status}"`);
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
  const { page, problems, thumbs } = await app({ designer: true });
  await pickPhoto(page, 'coffee');
  const r = recordingFor('coffee').response;
  await page.waitForFunction(() => document.querySelector('#designer-mask')?.naturalWidth > 0);
  await page.waitForFunction(() => document.querySelector('#designer-cutout')?.naturalWidth > 0);
  assert.ok((await page.getAttribute('#designer-mask', 'src')).startsWith('data:image/png;base64,'));

  const chart = await page.$$eval('#category-chart li', (lis) => lis.map((li) => [li.dataset.category, li.querySelector('.num').textContent]));
  assert.equal(chart.length, r.categories.length);
  assert.deepEqual(chart[0], [r.categories[0].name, `${Math.round(r.categories[0].score * 100)}%`]);

  // the engine's stages in its own (pipeline) order, then the total
  const stages = await page.$$eval('#timings-chart li', (lis) => lis.map((li) => [li.dataset.stage, li.querySelector('.num').textContent]));
  assert.deepEqual(
    stages.map((s) => s[0]),
    [...r.timings.stages.map((s) => s.stage), 'total'],
  );
  assert.deepEqual(
    r.timings.stages.map((s) => s.stage),
    ['decode', 'segment', 'route', 'embed', 'retrieve', 'texture', 'color', 'rerank'],
  );
  for (const [, text] of stages) assert.match(text, /^\d+(\.\d+)? ms$/);
  assert.equal(stages.at(-1)[1], `${Math.round(r.timings.total_ms)} ms`);

  const beforeIds = await page.$$eval('#before-list li', (lis) => lis.map((li) => li.dataset.id));
  const afterIds = await page.$$eval('#after-list li', (lis) => lis.map((li) => li.dataset.id));
  // the shortlist: at least the 50 nearest (the cut-out's and the whole frame's, merged)
  assert.ok(beforeIds.length >= 50, `${beforeIds.length} candidates`);
  assert.deepEqual(beforeIds, r.candidates.map((c) => c.id));
  assert.deepEqual(afterIds, r.results.map((h) => h.id));
  assert.deepEqual(await gridIds(page), afterIds);
  assert.equal(await page.locator('#before-list li.in-top').count(), 10);
  // the top-10 list's thumbnails by id from the thumb: scheme, loaded
  assert.deepEqual(
    await page.$$eval('#after-list img', (imgs) => imgs.map((i) => i.getAttribute('src'))),
    afterIds.map((id) => `thumb://localhost/${encodeURIComponent(id)}`),
  );
  await page.waitForFunction(() => [...document.querySelectorAll('#after-list img')].every((i) => i.complete && i.naturalWidth > 0));
  assert.equal(await page.getAttribute('#before-list li >> nth=0 >> img', 'src'), `thumb://localhost/${encodeURIComponent(beforeIds[0])}`);
  for (const id of afterIds) assert.ok(thumbs.includes(id));
  assert.match(await page.locator('#live-note').innerText(), /As ranked by the engine/);
  // the sliders start at the catalog's scoring; the rest of it is shown, read-only
  for (const k of ['semantic', 'texture', 'color']) assert.equal(Number(await page.inputValue(`#w-${k}`)), scoring.blend[k]);
  assert.equal(await page.locator('#scoring-frame').innerText(), scoring.frame.toFixed(2));
  assert.equal(await page.locator('#scoring-prior').innerText(), scoring.route_prior.toFixed(2));
  assert.match(await page.locator('#scoring-fixed').innerText(), /^whole-frame view \d\.\d\d · router prior \d\.\d\d$/);
  await shot(page, 'designer-1280');
  assert.deepEqual(problems, []);
});

test('weight sliders re-rank the grid live from the candidates, without calling search again', async () => {
  const { page, problems } = await app({ designer: true });
  await pickPhoto(page, 'coffee');
  const rec = recordingFor('coffee');
  const r = rec.response;
  const engineOrder = r.results.map((h) => h.id);
  assert.deepEqual(await gridIds(page), engineOrder);
  assertVerdict(await verdictShown(page), r.match, 'the engine\'s ranking');

  // colour only
  await page.fill('#w-semantic', '0');
  await page.fill('#w-texture', '0');
  await page.fill('#w-color', '1');
  // the engine's own ranking and verdict under these weights (the real CLI, --weights 0,0,1)
  const colorOnly = engineRanking(rec, { semantic: 0, texture: 0, color: 1 });
  assert.notDeepEqual(colorOnly.ids, engineOrder, 'the test needs an order that differs');
  assert.deepEqual(await gridIds(page), colorOnly.ids);
  assert.deepEqual(await page.$$eval('#after-list li', (lis) => lis.map((li) => li.dataset.id)), colorOnly.ids);
  // the engine's own score: the colour similarity (plus the router prior)
  const top = r.candidates.find((c) => c.id === colorOnly.ids[0]);
  assert.ok(Math.abs(colorOnly.scores[0] - top.color - scoring.route_prior * top.route_share) < 1e-5);
  assert.equal(await page.locator('#results-grid > li >> nth=0 >> .score-value').innerText(), colorOnly.scores[0].toFixed(2));
  assert.equal(await page.locator('#w-color-value').innerText(), '1.00');
  assert.match(await page.locator('#live-note').innerText(), new RegExp(`Re-ranked here from the ${r.candidates.length} candidates`));
  // the verdict is judged again on the live list, as the engine judged its own
  assertVerdict(await verdictShown(page), colorOnly.match, 'colour only');
  await shot(page, 'designer-colour-only-1280');

  // semantic only: the engine's order and verdict again, results still listed
  await page.fill('#w-color', '0');
  await page.fill('#w-semantic', '1');
  const semanticOnly = engineRanking(rec, { semantic: 1, texture: 0, color: 0 });
  assert.deepEqual(await gridIds(page), semanticOnly.ids);
  assertVerdict(await verdictShown(page), semanticOnly.match, 'semantic only');
  assert.equal(await page.locator('#results-grid > li').count(), 10);
  await shot(page, 'designer-semantic-only-1280');

  // keyboard: arrows move a slider and re-rank too
  await page.focus('#w-texture');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.inputValue('#w-texture'), '0.01');
  assert.deepEqual(await gridIds(page), expectedOrder(r.candidates, { semantic: 1, texture: 0.01, color: 0 }));

  const nudged = rerank(r.candidates, withBlend(scoring, { semantic: 1, texture: 0.01, color: 0 }), 10);
  assert.equal(await page.getAttribute('#match', 'data-match'), judge(nudged, rule));

  // reset -> the engine's own order and verdict again (the response's own `match`)
  await page.click('#weights-reset');
  assert.deepEqual(await gridIds(page), engineOrder);
  assertVerdict(await verdictShown(page), r.match, 'after reset');
  assert.equal((await ipcCalls(page, 'search')).length, 1, 'no new search for slider moves');

  // a later category search sends the slider weights along
  await page.fill('#w-color', '0.5');
  await page.click('.chip[data-category="plants"]');
  await page.waitForFunction(() => window.__IPC__.calls.filter((c) => c.cmd === 'search').length === 2);
  const calls = await ipcCalls(page, 'search');
  assert.deepEqual(JSON.parse(calls[1].headers['x-search-options']), {
    category: 'plants',
    weights: { ...scoring.blend, color: 0.5 },
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
