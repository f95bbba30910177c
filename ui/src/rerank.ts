// The engine's rerank (crates/engine/src/stages/rerank.rs `rank`), in the browser: the designer
// view's sliders re-rank the shortlist live with it, and the browser-mode mock answers with it.
// It must give the engine's order and scores EXACTLY, so it computes the way Rust does, in f32:
//   score = ws*semantic + wt*texture + wc*colour   (each product and each sum rounded to f32)
// then sorts by routed (the routed categories above top-ups), score, semantic (both descending,
// f32 total order), then the input (retrieval) order, keeps the top k and numbers them 1..k.
// tests/ui/rerank.test.mjs checks this against the engine's own rankings of recorded real
// shortlists under several weights.
//
// Plain functions over generated contract types, with type-only imports, so node can load the
// module after a type-stripping transpile (the test does).

import type { BlendWeights, Hit } from './generated/contract';

const f32 = Math.fround;

/** The blend as the engine computes it: f32 inputs, every product and sum rounded to f32. */
export function blend(hit: Pick<Hit, 'semantic' | 'texture' | 'color'>, w: BlendWeights): number {
  const s = f32(f32(w.semantic) * f32(hit.semantic));
  const t = f32(f32(w.texture) * f32(hit.texture));
  const c = f32(f32(w.color) * f32(hit.color));
  return f32(f32(s + t) + c);
}

/** Rust's `f32::total_cmp` for the values a score can take (NaN aside: -0 sorts below +0). */
function totalCmp(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) return Number(Object.is(b, -0)) - Number(Object.is(a, -0));
  return 0;
}

/** The top k of the shortlist under the weights: the engine's `rank`. */
export function rerank(candidates: readonly Hit[], w: BlendWeights, k = 10): Hit[] {
  return candidates
    .map((hit, i) => ({ hit: { ...hit, score: blend(hit, w) }, semantic: f32(hit.semantic), i }))
    .sort(
      (a, b) =>
        Number(b.hit.routed) - Number(a.hit.routed) ||
        totalCmp(b.hit.score, a.hit.score) ||
        totalCmp(b.semantic, a.semantic) ||
        a.i - b.i,
    )
    .slice(0, k)
    .map(({ hit }, r) => ({ ...hit, rank: r + 1 }));
}

/** Candidates re-scored with the given weights, in their original (retrieval) order. */
export function rescore(candidates: readonly Hit[], w: BlendWeights): Hit[] {
  return candidates.map((hit) => ({ ...hit, score: blend(hit, w) }));
}

export function sameWeights(a: BlendWeights, b: BlendWeights, eps = 1e-6): boolean {
  return (
    Math.abs(a.semantic - b.semantic) < eps &&
    Math.abs(a.texture - b.texture) < eps &&
    Math.abs(a.color - b.color) < eps
  );
}
