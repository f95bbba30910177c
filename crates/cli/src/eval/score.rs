//! What `lookalike eval` computes from the searches it ran: ranks and recall under any scoring
//! (re-ranking each query's shortlist exactly as the search ranks), the `match` verdicts, and the
//! two fits of `--tune`: the scoring (grid, best mean MRR over the sets) and the match rule.

use lookalike_engine::stages::verdict::{Evidence, MATCH_LIST};
use lookalike_engine::{BlendWeights, Hit, Match, MatchRule, Scoring, SearchResult};
use serde::Serialize;

/// One query's outcome: enough to re-rank and re-judge it under any scoring and rule.
#[derive(Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Index of the query in its file.
    pub query: usize,
    pub split: Option<String>,
    /// `None` for an out-of-catalog ("outside") query.
    pub expected: Option<String>,
    pub category: String,
    /// The router's best category, and whether the expected one was among those it picked.
    pub route_top1: Option<String>,
    pub routed_ok: bool,
    /// The pipeline's shortlist, both views scored (every stage's score per candidate).
    pub shortlist: Vec<Hit>,
    /// The plain baseline's shortlist (whole-frame cosine order).
    pub plain: Vec<Hit>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Metrics {
    pub n: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub mrr: f64,
}

impl Metrics {
    pub fn of(ranks: &[Option<usize>]) -> Metrics {
        let n = ranks.len();
        let frac = |k: usize| {
            ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / n.max(1) as f64
        };
        Metrics {
            n,
            recall_at_1: frac(1),
            recall_at_5: frac(5),
            recall_at_10: frac(10),
            mrr: ranks
                .iter()
                .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
                .sum::<f64>()
                / n.max(1) as f64,
        }
    }
}

/// 1-based rank of the expected product when the shortlist is ranked under `s`, exactly as the
/// search ranks it.
pub fn rank_of(o: &Outcome, s: &Scoring) -> Option<usize> {
    let expected = o.expected.as_deref()?;
    let ranked = SearchResult::rank_shortlist(&o.shortlist, s, o.shortlist.len());
    ranked.iter().position(|h| h.id == expected).map(|p| p + 1)
}

/// The same, fast, for the tuning grid: candidates that score above the expected one (ties go
/// to the higher semantic score, then the earlier candidate, as in `rerank::rank`).
fn rank_fast(o: &Outcome, s: &Scoring) -> Option<usize> {
    let expected = o.expected.as_deref()?;
    let key = |h: &Hit| {
        let (semantic, score) = s.score(
            h.semantic_cutout,
            h.semantic_frame,
            h.texture,
            h.color,
            h.route_share,
        );
        (score, semantic)
    };
    let at = o.shortlist.iter().position(|h| h.id == expected)?;
    let (es, ee) = key(&o.shortlist[at]);
    let above = o.shortlist.iter().enumerate().filter(|(i, h)| {
        let (sc, se) = key(h);
        sc > es || (sc == es && (se > ee || (se == ee && *i < at)))
    });
    Some(above.count() + 1)
}

/// Rank of the expected product in the plain baseline's cosine order.
pub fn plain_rank(o: &Outcome) -> Option<usize> {
    let expected = o.expected.as_deref()?;
    o.plain.iter().position(|h| h.id == expected).map(|p| p + 1)
}

/// The first [`MATCH_LIST`] results of the query under `s` (with its product left out of the
/// shortlist when `leave_out`: as if the catalog did not hold it), and whether the first is right.
fn ranked(o: &Outcome, s: &Scoring, leave_out: bool) -> (Vec<Hit>, bool) {
    let list: Vec<Hit> = match (leave_out, o.expected.as_deref()) {
        (true, Some(id)) => o.shortlist.iter().filter(|h| h.id != id).cloned().collect(),
        _ => o.shortlist.clone(),
    };
    let top = SearchResult::rank_shortlist(&list, s, MATCH_LIST);
    let right =
        !leave_out && o.expected.is_some() && top.first().map(|h| &h.id) == o.expected.as_ref();
    (top, right)
}

/// The verdict on the query under `s` and `rule` (see [`ranked`] for `leave_out`), and whether
/// the first result is right.
pub fn verdict(
    o: &Outcome,
    s: &Scoring,
    rule: Option<&MatchRule>,
    leave_out: bool,
) -> (Match, bool) {
    let (top, right) = ranked(o, s, leave_out);
    (SearchResult::judge(&top, rule), right)
}

/// What the match rule reads from the query's ranked list, and whether the first result is right.
fn evidence(o: &Outcome, s: &Scoring, leave_out: bool) -> Option<(Evidence, bool)> {
    let (top, right) = ranked(o, s, leave_out);
    Some((SearchResult::evidence(&top)?, right))
}

/// How often the verdict says what, on one set's in-catalog queries, the same queries with
/// their product left out, and the outside queries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchMetrics {
    /// In-catalog queries judged `same` (the target: at least 90% on photos).
    pub same_rate: f64,
    /// Of those, the share whose first result is right.
    pub same_precision: f64,
    pub none_rate: f64,
    /// The same queries with their product left out of the catalog: judged `same` (a false claim).
    pub left_out_same_rate: f64,
    pub left_out_none_rate: f64,
    /// Outside queries (things the catalog does not sell) judged `same` and `none`.
    pub outside_n: usize,
    pub outside_same_rate: f64,
    pub outside_none_rate: f64,
}

pub fn match_metrics(
    inside: &[&Outcome],
    outside: &[&Outcome],
    s: &Scoring,
    rule: Option<&MatchRule>,
) -> MatchMetrics {
    let share = |xs: &[Match], m: Match| {
        xs.iter().filter(|x| **x == m).count() as f64 / xs.len().max(1) as f64
    };
    let judged: Vec<(Match, bool)> = inside.iter().map(|o| verdict(o, s, rule, false)).collect();
    let left: Vec<Match> = inside.iter().map(|o| verdict(o, s, rule, true).0).collect();
    let out: Vec<Match> = outside
        .iter()
        .map(|o| verdict(o, s, rule, false).0)
        .collect();
    let same: Vec<bool> = judged
        .iter()
        .filter(|(m, _)| *m == Match::Same)
        .map(|(_, right)| *right)
        .collect();
    let verdicts: Vec<Match> = judged.iter().map(|(m, _)| *m).collect();
    MatchMetrics {
        same_rate: share(&verdicts, Match::Same),
        same_precision: same.iter().filter(|r| **r).count() as f64 / same.len().max(1) as f64,
        none_rate: share(&verdicts, Match::None),
        left_out_same_rate: share(&left, Match::Same),
        left_out_none_rate: share(&left, Match::None),
        outside_n: out.len(),
        outside_same_rate: share(&out, Match::Same),
        outside_none_rate: share(&out, Match::None),
    }
}

/// A set needs this many tune queries to steer the scoring fit: five numbers fitted to a handful
/// of queries follow those queries (the 7-query multiview set alone moved the frame weight to 1
/// and photo recall@1 down 4 points). Smaller sets are still reported.
pub const MIN_FIT_QUERIES: usize = 30;

/// Grid search over the scorings (blend simplex in steps of 0.05, frame weight, router prior):
/// the best mean MRR over the sets' tune queries, then mean recall@1, then the scoring nearest
/// `start` (so ties do not wander). Each set of at least [`MIN_FIT_QUERIES`] counts once,
/// whatever its size (every set counts when none is that big).
/// Returns the scoring and its mean MRR there.
pub fn tune_scoring(sets: &[Vec<&Outcome>], start: &Scoring) -> (Scoring, f64) {
    const FRAMES: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
    const PRIORS: [f32; 6] = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5];
    let large: Vec<&Vec<&Outcome>> = sets.iter().filter(|s| s.len() >= MIN_FIT_QUERIES).collect();
    let sets: Vec<&Vec<&Outcome>> = match large.is_empty() {
        true => sets.iter().collect(),
        false => large,
    };
    let mut best: Option<(Scoring, (f64, f64, f64))> = None;
    for s in 0..=20 {
        for t in 0..=(20 - s) {
            let blend = BlendWeights {
                semantic: s as f32 / 20.0,
                texture: t as f32 / 20.0,
                color: (20 - s - t) as f32 / 20.0,
            };
            for frame in FRAMES {
                for route_prior in PRIORS {
                    let sc = Scoring {
                        blend,
                        frame,
                        route_prior,
                    };
                    let (mut mrr, mut r1) = (0.0, 0.0);
                    for set in &sets {
                        let ranks: Vec<Option<usize>> =
                            set.iter().map(|o| rank_fast(o, &sc)).collect();
                        let m = Metrics::of(&ranks);
                        mrr += m.mrr / sets.len() as f64;
                        r1 += m.recall_at_1 / sets.len() as f64;
                    }
                    let key = (mrr, r1, -distance(&sc, start));
                    if best.as_ref().is_none_or(|(_, b)| key > *b) {
                        best = Some((sc, key));
                    }
                }
            }
        }
    }
    best.map_or((*start, 0.0), |(s, k)| (s, k.0))
}

fn distance(a: &Scoring, b: &Scoring) -> f64 {
    f64::from(
        (a.blend.semantic - b.blend.semantic).abs()
            + (a.blend.texture - b.blend.texture).abs()
            + (a.blend.color - b.blend.color).abs()
            + (a.frame - b.frame).abs()
            + (a.route_prior - b.route_prior).abs(),
    )
}

/// At most this share of the tune split's out-of-catalog queries (left out and outside) may be
/// judged `same`: a margin under the 5% the rule must hold on unseen queries.
pub const FALSE_SAME_BUDGET: f64 = 0.02;
/// At most this share of in-catalog tune queries whose product ranks first may be judged `none`.
pub const FALSE_NONE_BUDGET: f64 = 0.01;

fn features(e: &Evidence) -> [f64; 4] {
    [e.semantic, e.margin, e.texture, e.color].map(f64::from)
}

/// Fits the match rule on the tune split under scoring `s`. `same`: a logistic regression of
/// "the first result is right" on the rule's evidence, positives the in-catalog queries whose
/// product ranks first, negatives every false claim waiting to happen (in-catalog queries
/// ranked wrong, each in-catalog query with its product left out, every outside query); its
/// threshold is set so that at most [`FALSE_SAME_BUDGET`] of the negatives pass. `none`: the
/// highest semantic score that keeps [`FALSE_NONE_BUDGET`] of the right answers above it.
pub fn tune_match(inside: &[&Outcome], outside: &[&Outcome], s: &Scoring) -> Option<MatchRule> {
    let mut positives: Vec<[f64; 4]> = Vec::new();
    let mut negatives: Vec<[f64; 4]> = Vec::new();
    for o in inside {
        if let Some((e, right)) = evidence(o, s, false) {
            match right {
                true => positives.push(features(&e)),
                false => negatives.push(features(&e)),
            }
        }
        negatives.extend(evidence(o, s, true).map(|(e, _)| features(&e)));
    }
    negatives.extend(
        outside
            .iter()
            .filter_map(|o| evidence(o, s, false))
            .map(|(e, _)| features(&e)),
    );
    if positives.len() < 2 || negatives.len() < 2 {
        return None;
    }
    let (weights, bias) = logistic(&positives, &negatives);
    let odds = |x: &[f64; 4]| bias + (0..4).map(|i| weights[i] * x[i]).sum::<f64>();
    let mut neg: Vec<f64> = negatives.iter().map(odds).collect();
    neg.sort_by(|a, b| b.total_cmp(a));
    // the threshold sits just above the (allowed + 1)-th highest negative
    let allowed = (FALSE_SAME_BUDGET * neg.len() as f64).floor() as usize;
    let same_at = neg.get(allowed).map_or(0.0, |v| v + 1e-4);
    let mut right: Vec<f64> = positives.iter().map(|p| p[0]).collect();
    right.sort_by(f64::total_cmp);
    let keep = (FALSE_NONE_BUDGET * right.len() as f64).floor() as usize;
    let none_semantic = right.get(keep).copied().unwrap_or(-1.0);
    Some(MatchRule {
        weights: weights.map(|w| w as f32),
        bias: bias as f32,
        same_at: same_at as f32,
        none_semantic: none_semantic as f32,
    })
}

/// Logistic regression by gradient descent on standardised features (a little L2 so that
/// separable data keeps finite weights); returns the weights and bias on the raw features.
fn logistic(positives: &[[f64; 4]], negatives: &[[f64; 4]]) -> ([f64; 4], f64) {
    let rows: Vec<(&[f64; 4], f64)> = positives
        .iter()
        .map(|x| (x, 1.0))
        .chain(negatives.iter().map(|x| (x, 0.0)))
        .collect();
    let n = rows.len() as f64;
    let mut mean = [0.0; 4];
    let mut sd = [0.0; 4];
    for i in 0..4 {
        mean[i] = rows.iter().map(|(x, _)| x[i]).sum::<f64>() / n;
        let var = rows
            .iter()
            .map(|(x, _)| (x[i] - mean[i]).powi(2))
            .sum::<f64>()
            / n;
        sd[i] = var.sqrt().max(1e-9);
    }
    let (mut w, mut b) = ([0.0f64; 4], 0.0f64);
    for _ in 0..4000 {
        let (mut gw, mut gb) = ([0.0f64; 4], 0.0f64);
        for (x, y) in &rows {
            let z: f64 = b + (0..4).map(|i| w[i] * (x[i] - mean[i]) / sd[i]).sum::<f64>();
            let g = 1.0 / (1.0 + (-z).exp()) - y;
            for i in 0..4 {
                gw[i] += g * (x[i] - mean[i]) / sd[i];
            }
            gb += g;
        }
        for i in 0..4 {
            w[i] -= 0.5 * (gw[i] / n + 1e-3 * w[i]);
        }
        b -= 0.5 * gb / n;
    }
    let raw: [f64; 4] = std::array::from_fn(|i| w[i] / sd[i]);
    let bias = b - (0..4).map(|i| w[i] * mean[i] / sd[i]).sum::<f64>();
    (raw, bias)
}
