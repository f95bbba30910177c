// The engine's rerank, in the browser: blend = ws*semantic + wt*texture + wc*colour; items from the
// routed categories always rank above top-up items from other categories; ties keep retrieval
// (semantic) order. Used by the designer view's live sliders and by the browser-mode mock.

import type { Hit, Weights } from './types';

export const DEFAULT_WEIGHTS: Weights = { semantic: 0.5, texture: 0.3, color: 0.2 };

export function blend(hit: Pick<Hit, 'semantic' | 'texture' | 'color'>, w: Weights): number {
  return w.semantic * hit.semantic + w.texture * hit.texture + w.color * hit.color;
}

export function rerank(candidates: readonly Hit[], w: Weights, k = 10): Hit[] {
  return candidates
    .map((hit, i) => ({ hit: { ...hit, score: blend(hit, w) }, i }))
    .sort(
      (a, b) =>
        Number(b.hit.routed) - Number(a.hit.routed) ||
        b.hit.score - a.hit.score ||
        b.hit.semantic - a.hit.semantic ||
        a.i - b.i,
    )
    .slice(0, k)
    .map(({ hit }, r) => ({ ...hit, rank: r + 1 }));
}

/** Candidates re-scored with the given weights, in their original (retrieval) order. */
export function rescore(candidates: readonly Hit[], w: Weights): Hit[] {
  return candidates.map((hit) => ({ ...hit, score: blend(hit, w) }));
}

export function sameWeights(a: Weights, b: Weights, eps = 1e-6): boolean {
  return (
    Math.abs(a.semantic - b.semantic) < eps &&
    Math.abs(a.texture - b.texture) < eps &&
    Math.abs(a.color - b.color) < eps
  );
}
