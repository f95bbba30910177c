// One rerank rule: ui/src/rerank.ts (the designer view's live sliders, the browser-mode mock) must
// rank exactly as the engine does (crates/engine/src/stages/rerank.rs `rank`), and give the same
// `match` verdict (stages/verdict.rs). The fixtures hold, for every recorded photo, the engine's
// top-10 and verdict under the catalog's scoring and under the other blend weights
// ui/mock/record.mjs asked the real CLI for (`--weights`), next to the shortlist (`candidates`)
// they were ranked from. Here the UI's own module re-ranks each shortlist and must give the same
// products in the same order with the same f32 scores, and judge them the same. No browser needed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtures, importUi } from './harness.mjs';

const { judge, rerank, rescore, withBlend } = importUi('ui/src/rerank.ts');

const { scoring, match_rule: rule } = fixtures.catalog;

/** Every (photo, scoring) the engine ranked, with the shortlist it ranked and its verdict. */
const cases = fixtures.searches.flatMap((s) => [
  { photo: s.query.file, scoring, rust: s.response.results, match: s.response.match, candidates: s.response.candidates },
  ...s.reranks.map((r) => ({
    photo: s.query.file,
    scoring: withBlend(scoring, r.weights),
    rust: r.results,
    match: r.match,
    candidates: s.response.candidates,
  })),
]);

const w3 = (w) => `${w.semantic},${w.texture},${w.color}`;
const ids = (hits) => hits.map((h) => h.id);

test('the recordings cover several photos under several non-default weights', () => {
  const other = fixtures.searches.filter((s) => s.reranks.length >= 2);
  assert.ok(other.length >= 3, `${other.length} photos with >= 2 other weight sets`);
  for (const s of fixtures.searches) {
    // the 50 nearest to the cut-out and to the whole frame, merged
    assert.ok(s.response.candidates.length >= 50, `${s.query.file}: a shortlist of ${s.response.candidates.length}`);
    assert.ok(['same', 'similar', 'none'].includes(s.response.match), `${s.query.file}: match ${s.response.match}`);
    for (const r of s.reranks) {
      assert.notDeepEqual(r.weights, scoring.blend);
      assert.equal(r.results.length, 10);
      assert.ok(['same', 'similar', 'none'].includes(r.match), `${s.query.file} under ${w3(r.weights)}: match ${r.match}`);
    }
  }
});

for (const c of cases) {
  test(`${c.photo} under ${w3(c.scoring.blend)}: the engine's top ${c.rust.length}, order, f32 scores and verdict`, () => {
    const ts = rerank(c.candidates, c.scoring, c.rust.length);
    assert.deepEqual(ids(ts), ids(c.rust));
    ts.forEach((h, i) => {
      const r = c.rust[i];
      assert.equal(h.rank, r.rank, `${h.id}: rank`);
      // exact: the JSON carries each f32 in its shortest form, which reads back as that f32
      assert.equal(h.score, Math.fround(r.score), `${h.id}: score ${h.score} vs the engine's ${r.score}`);
      assert.equal(h.semantic, Math.fround(r.semantic), `${h.id}: semantic ${h.semantic} vs the engine's ${r.semantic}`);
      assert.equal(h.routed, r.routed, `${h.id}: routed`);
      for (const k of ['semantic_cutout', 'semantic_frame', 'texture', 'color', 'route_share']) {
        assert.equal(h[k], r[k], `${h.id}: ${k} passes through`);
      }
    });
    assert.equal(judge(ts, rule), c.match, 'the verdict on the re-ranked list');
  });
}

test('rescore gives the shortlist the engine\'s semantic and final scores, in retrieval order', () => {
  for (const s of fixtures.searches) {
    const ts = rescore(s.response.candidates, scoring);
    assert.deepEqual(ids(ts), ids(s.response.candidates));
    ts.forEach((h, i) => {
      const c = s.response.candidates[i];
      assert.equal(h.score, Math.fround(c.score), `${s.query.file} ${h.id}: score`);
      assert.equal(h.semantic, Math.fround(c.semantic), `${s.query.file} ${h.id}: semantic`);
    });
  }
});

test('one order: by score whatever the category, the router\'s pick is no partition', () => {
  for (const c of cases) {
    const scores = c.rust.map((h) => h.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), `${c.photo} under ${w3(c.scoring.blend)}: sorted by score`);
  }
  // some recorded ranking mixes the router's pick with other categories (no routed-first block)
  const mixed = cases.filter((c) => {
    const routed = c.rust.map((h) => h.routed);
    const firstOther = routed.indexOf(false);
    return firstOther >= 0 && routed.slice(firstOther).includes(true);
  });
  assert.ok(mixed.length >= 1, 'no recorded ranking puts a non-routed product above a routed one');
});

test('the fixtures can catch a wrong rule: the weights, the frame weight and the router prior change the engine\'s order', () => {
  // a rule that ignored the weights ...
  for (const s of fixtures.searches.filter((x) => x.reranks.length)) {
    const orders = new Set([ids(s.response.results), ...s.reranks.map((r) => ids(r.results))].map((o) => o.join()));
    assert.ok(orders.size > 1, `${s.query.file}: the weights change the engine's order`);
  }
  // ... or the frame weight, or the router prior (where the profile sets them) would disagree on
  // some recorded ranking
  const differs = (change) =>
    cases.filter((c) => ids(rerank(c.candidates, { ...c.scoring, ...change }, c.rust.length)).join() !== ids(c.rust).join()).length;
  if (scoring.frame > 0) assert.ok(differs({ frame: 0 }) >= 1, 'the whole frame\'s share decides no recorded ranking');
  if (scoring.route_prior > 0) assert.ok(differs({ route_prior: 0 }) >= 1, 'the router prior decides no recorded ranking');
});

test('the verdict rule: none below the semantic floor, same when the first result\'s evidence is strong', () => {
  // log-odds = bias + w . [semantic, margin to the best of the others, texture, colour]
  const r = { weights: [1, 1, 1, 1], bias: 0, same_at: 2.4, none_semantic: 0.5 };
  const hit = (semantic, texture = 0.9, color = 0.9) => ({ semantic, texture, color });
  assert.equal(judge([hit(0.8), hit(0.6), hit(0.5)], r), 'same', '0.8 + 0.2 + 0.9 + 0.9 = 2.8');
  assert.equal(judge([hit(0.8, 0.2, 0.6), hit(0.79)], r), 'similar', 'close in meaning, another texture and colour');
  // the margin is to the best of the others, wherever it ranks
  assert.equal(judge([hit(0.8, 0.7, 0.7), hit(0.3), hit(0.3)], r), 'same', '0.8 + 0.5 + 0.7 + 0.7 = 2.7');
  assert.equal(judge([hit(0.8, 0.7, 0.7), hit(0.3), hit(0.75)], r), 'similar', '0.8 + 0.05 + 0.7 + 0.7 = 2.25');
  // alone in the list: no lead to count (0), the rest of the evidence decides
  assert.equal(judge([hit(0.5, 0.5, 0.45)], r), 'similar', '0.5 + 0 + 0.5 + 0.45 = 1.45');
  assert.equal(judge([hit(0.8, 0.9, 0.9)], r), 'same', '0.8 + 0 + 0.9 + 0.9 = 2.6');
  // only the first 10 results count, as in the engine (MATCH_LIST)
  const far = [hit(0.8), ...Array.from({ length: 9 }, () => hit(0.3)), hit(0.79)];
  assert.equal(judge(far, r), 'same', 'the 11th result is not the runner-up');
  assert.equal(judge([hit(0.4), hit(0.1)], r), 'none', 'below the floor, whatever the rest');
  assert.equal(judge([], r), 'none');
  // uncalibrated: never a claim either way for a non-empty list
  assert.equal(judge([hit(0.99), hit(0.1)], null), 'similar');
  assert.equal(judge([hit(0.01)], null), 'similar');
  assert.equal(judge([], null), 'none');
});

test('the recordings hold every verdict the app can show', () => {
  const seen = new Set(fixtures.searches.map((s) => s.response.match));
  assert.ok(seen.has('same'), 'no recorded search is "same"');
  assert.ok(seen.has('similar') || seen.has('none'), 'no recorded search is "similar" or "none"');
  assert.ok(rule, 'the recorded catalog has no match rule (an uncalibrated profile only says "similar")');
});
