// One rerank rule: ui/src/rerank.ts (the designer view's live sliders, the browser-mode mock) must
// rank exactly as the engine does (crates/engine/src/stages/rerank.rs `rank`). The fixtures hold,
// for every recorded photo, the engine's top-10 under the catalog's weights and under the other
// weights ui/mock/record.mjs asked the real CLI for (`--weights`), next to the shortlist
// (`candidates`) they were ranked from. Here the UI's own module re-ranks each shortlist and must
// give the same products in the same order with the same f32 scores. No browser needed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtures, importUi } from './harness.mjs';

const { rerank, rescore } = importUi('ui/src/rerank.ts');

/** Every (photo, weights) the engine ranked, with the shortlist it ranked. */
const cases = fixtures.searches.flatMap((s) => [
  { photo: s.query.file, weights: fixtures.catalog.blend, rust: s.response.results, candidates: s.response.candidates },
  ...s.reranks.map((r) => ({ photo: s.query.file, weights: r.weights, rust: r.results, candidates: s.response.candidates })),
]);

const w3 = (w) => `${w.semantic},${w.texture},${w.color}`;
const ids = (hits) => hits.map((h) => h.id);

test('the recordings cover several photos under several non-default weights', () => {
  const other = fixtures.searches.filter((s) => s.reranks.length >= 2);
  assert.ok(other.length >= 3, `${other.length} photos with >= 2 other weight sets`);
  for (const s of fixtures.searches) {
    assert.equal(s.response.candidates.length, 50, `${s.query.file}: a 50-item shortlist`);
    for (const r of s.reranks) {
      assert.notDeepEqual(r.weights, fixtures.catalog.blend);
      assert.equal(r.results.length, 10);
    }
  }
});

for (const c of cases) {
  test(`${c.photo} under ${w3(c.weights)}: the engine's top ${c.rust.length}, order and f32 scores`, () => {
    const ts = rerank(c.candidates, c.weights, c.rust.length);
    assert.deepEqual(ids(ts), ids(c.rust));
    ts.forEach((h, i) => {
      const r = c.rust[i];
      assert.equal(h.rank, r.rank, `${h.id}: rank`);
      // exact: the JSON carries each f32 in its shortest form, which reads back as that f32
      assert.equal(h.score, Math.fround(r.score), `${h.id}: score ${h.score} vs the engine's ${r.score}`);
      assert.equal(h.routed, r.routed, `${h.id}: routed`);
      for (const k of ['semantic', 'texture', 'color']) assert.equal(h[k], r[k], `${h.id}: ${k} passes through`);
    });
  });
}

test('rescore gives the shortlist the engine\'s blended scores, in retrieval order', () => {
  for (const s of fixtures.searches) {
    const ts = rescore(s.response.candidates, fixtures.catalog.blend);
    assert.deepEqual(ids(ts), ids(s.response.candidates));
    ts.forEach((h, i) => assert.equal(h.score, Math.fround(s.response.candidates[i].score), `${s.query.file} ${h.id}`));
  }
});

test('the fixtures can catch a wrong rule: routing and weights both change the engine\'s order', () => {
  // a rule that ignored `routed` would disagree with the engine on some recorded shortlist ...
  const routedMatters = cases.filter((c) => {
    const unrouted = c.candidates.map((h) => ({ ...h, routed: true }));
    return ids(rerank(unrouted, c.weights, c.rust.length)).join() !== ids(c.rust).join();
  });
  assert.ok(routedMatters.length >= 3, `routed-first decides ${routedMatters.length} recorded rankings`);
  // ... and one that ignored the weights too
  for (const s of fixtures.searches.filter((x) => x.reranks.length)) {
    const orders = new Set([ids(s.response.results), ...s.reranks.map((r) => ids(r.results))].map((o) => o.join()));
    assert.ok(orders.size > 1, `${s.query.file}: the weights change the engine's order`);
  }
});
