// The engine's rerank (crates/engine/src/stages/rerank.rs `rank`) and its `match` verdict
// (stages/verdict.rs), in the browser: the designer view's sliders re-rank the shortlist live
// with it, and the browser-mode mock answers with it. It must give the engine's order and scores
// EXACTLY, so it computes the way Rust does, in f32:
//   semantic = (1 - frame)*semantic_cutout + frame*semantic_frame
//   score    = ws*semantic + wt*texture + wc*colour + route_prior*route_share
// (each product and each sum rounded to f32), then sorts by score, semantic (both descending,
// f32 total order), then the input (retrieval) order, keeps the top k and numbers them 1..k.
// tests/ui/rerank.test.mjs checks this against the engine's own rankings of recorded real
// shortlists under several weights.
//
// Plain functions over generated contract types, with type-only imports, so node can load the
// module after a type-stripping transpile (the test does).

import type { BlendWeights, Hit, Match, MatchRule, Scoring } from './generated/contract';

const f32 = Math.fround;

type Parts = Pick<Hit, 'semantic_cutout' | 'semantic_frame' | 'texture' | 'color' | 'route_share'>;

/** The two views' cosines mixed by the frame weight, as the engine computes it. */
export function semantic(hit: Parts, s: Scoring): number {
  const a = f32(f32(f32(1) - f32(s.frame)) * f32(hit.semantic_cutout));
  const b = f32(f32(s.frame) * f32(hit.semantic_frame));
  return f32(a + b);
}

/** The blend plus the router prior, as the engine computes it. */
export function score(hit: Parts, s: Scoring): number {
  const w = s.blend;
  const m = semantic(hit, s);
  const a = f32(f32(w.semantic) * m);
  const t = f32(f32(w.texture) * f32(hit.texture));
  const c = f32(f32(w.color) * f32(hit.color));
  const blend = f32(f32(a + t) + c);
  return f32(blend + f32(f32(s.route_prior) * f32(hit.route_share)));
}

/** Rust's `f32::total_cmp` for the values a score can take (NaN aside: -0 sorts below +0). */
function totalCmp(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) return Number(Object.is(b, -0)) - Number(Object.is(a, -0));
  return 0;
}

/** The shortlist's candidates with the scoring's semantic and final scores. */
function scored(candidates: readonly Hit[], s: Scoring): Hit[] {
  return candidates.map((hit) => ({ ...hit, semantic: semantic(hit, s), score: score(hit, s) }));
}

/** The top k of the shortlist under the scoring: the engine's `rank`. */
export function rerank(candidates: readonly Hit[], s: Scoring, k = 10): Hit[] {
  return scored(candidates, s)
    .map((hit, i) => ({ hit, i }))
    .sort((a, b) => totalCmp(b.hit.score, a.hit.score) || totalCmp(b.hit.semantic, a.hit.semantic) || a.i - b.i)
    .slice(0, k)
    .map(({ hit }, r) => ({ ...hit, rank: r + 1 }));
}

/** Candidates re-scored under the scoring, in their original (retrieval) order. */
export function rescore(candidates: readonly Hit[], s: Scoring): Hit[] {
  return scored(candidates, s);
}

/** The engine's verdict on a ranked list (stages/verdict.rs): the first result's semantic score,
 * its lead over the best of the others', its texture and colour, weighed by the profile's
 * logistic rule (no rule: "similar", never a false claim; an empty list: "none"). */
export function judge(results: readonly Hit[], rule: MatchRule | null): Match {
  const first = results[0];
  if (first === undefined) return 'none';
  if (rule === null) return 'similar';
  // the engine reads the first 10 results (MATCH_LIST), whatever top_k asked for
  const rest = results.slice(1, 10).map((h) => h.semantic);
  const margin = rest.length > 0 ? f32(first.semantic - Math.max(...rest)) : 0;
  // the rule's numbers arrive as f32 printed shortest: f32() gives back the engine's exact values
  if (first.semantic < f32(rule.none_semantic)) return 'none';
  const [a, b, c, d] = rule.weights.map(f32) as [number, number, number, number];
  const ev = [first.semantic, margin, f32(first.texture), f32(first.color)];
  let odds = f32(rule.bias);
  odds = f32(odds + f32(a * ev[0]!));
  odds = f32(odds + f32(b * ev[1]!));
  odds = f32(odds + f32(c * ev[2]!));
  odds = f32(odds + f32(d * ev[3]!));
  return odds >= f32(rule.same_at) ? 'same' : 'similar';
}

/** The scoring with other blend weights (the designer view's sliders). */
export function withBlend(s: Scoring, blend: BlendWeights): Scoring {
  return { ...s, blend: { ...blend } };
}

export function sameWeights(a: BlendWeights, b: BlendWeights, eps = 1e-6): boolean {
  return (
    Math.abs(a.semantic - b.semantic) < eps &&
    Math.abs(a.texture - b.texture) < eps &&
    Math.abs(a.color - b.color) < eps
  );
}

/** The engine's `Scoring::toward_color`: asked for another colour, the colour score weighs at
 * least as much as semantic and texture together (in f32, as Rust computes it). */
export function towardColor(s: Scoring): Scoring {
  const b = s.blend;
  const color = f32(Math.max(f32(b.color), f32(f32(b.semantic) + f32(b.texture))));
  return { ...s, blend: { ...b, color } };
}

/** The candidates with their colour score taken against palette colour `swatch` (`Hit.swatches`,
 * the engine's similarity to that colour): re-ranked under `towardColor`, this is the engine's
 * search with that colour, without running it again. */
export function inColor(candidates: readonly Hit[], swatch: number): Hit[] {
  return candidates.map((hit) => ({ ...hit, color: hit.swatches[swatch] ?? 0 }));
}

/** The verdict on a list ranked towards another colour: never "same" (the photo's own product,
 * in its own colour, is not what was asked for), as in the engine. */
export function colorVerdict(m: Match): Match {
  return m === 'same' ? 'similar' : m;
}
