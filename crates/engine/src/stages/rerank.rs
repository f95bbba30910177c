//! Stage 8, rerank: `semantic = (1 - f) * cut-out cosine + f * whole-frame cosine`, then
//! `final = a * semantic + b * texture + c * colour + p * router share` over the retrieved
//! candidates, re-sorted, top-k (10). The profile carries the tuned a, b, c, f, p ([`Scoring`]);
//! the seed's blend was 0.50 / 0.30 / 0.20.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct BlendWeights {
    pub semantic: f32,
    pub texture: f32,
    pub color: f32,
}

impl Default for BlendWeights {
    fn default() -> Self {
        BlendWeights {
            semantic: 0.50,
            texture: 0.30,
            color: 0.20,
        }
    }
}

impl BlendWeights {
    pub fn validate(&self) -> Result<()> {
        let w = [self.semantic, self.texture, self.color];
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().sum::<f32>() <= 0.0 {
            return Err(EngineError::InvalidOptions(format!(
                "blend weights must be finite, non-negative and not all zero (got semantic {}, texture {}, color {})",
                self.semantic, self.texture, self.color
            )));
        }
        Ok(())
    }

    /// Parses "0.5,0.3,0.2" (semantic, texture, colour).
    pub fn parse(s: &str) -> Result<Self> {
        let shape = "three numbers like 0.5,0.3,0.2";
        let [semantic, texture, color] = super::parse_numbers(s, "weights", shape)?;
        let w = BlendWeights {
            semantic,
            texture,
            color,
        };
        w.validate()?;
        Ok(w)
    }

    pub fn blend(&self, semantic: f32, texture: f32, color: f32) -> f32 {
        self.semantic * semantic + self.texture * texture + self.color * color
    }
}

/// How the rerank turns a candidate's scores into one: the blend, how much the whole frame's
/// cosine counts in the semantic score, and how much the router's opinion of the candidate's
/// category counts. The profile carries tuned values (`[profiles.*.scoring]` in the manifest),
/// a catalog may set its own blend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    pub blend: BlendWeights,
    /// Share of the whole frame's cosine in the semantic score (0: the cut-out's alone).
    pub frame: f32,
    /// Weight of the router's share for the candidate's category, added to the blend: soft
    /// routing (every category is scanned; the router moves products, it never hides one).
    pub route_prior: f32,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            blend: BlendWeights::default(),
            frame: 0.0,
            route_prior: 0.0,
        }
    }
}

impl Scoring {
    /// The plain baseline: the semantic cosine alone.
    pub fn plain() -> Self {
        Scoring {
            blend: BlendWeights {
                semantic: 1.0,
                texture: 0.0,
                color: 0.0,
            },
            frame: 0.0,
            route_prior: 0.0,
        }
    }

    /// The scoring of a search that asks for another colour: the colour score (then taken
    /// against the asked colour) weighs at least as much as semantic and texture together, so
    /// the shortlist, already alike in kind, is led by the asked colour. The UI's re-rank
    /// (`ui/src/rerank.ts` `towardColor`) applies the same rule.
    pub fn toward_color(&self) -> Self {
        let b = self.blend;
        Scoring {
            blend: BlendWeights {
                color: b.color.max(b.semantic + b.texture),
                ..b
            },
            ..*self
        }
    }

    pub fn validate(&self) -> Result<()> {
        self.blend.validate()?;
        if !(0.0..=1.0).contains(&self.frame) || !(0.0..=10.0).contains(&self.route_prior) {
            return Err(EngineError::InvalidOptions(format!(
                "scoring: frame must be within 0..1 and route_prior within 0..10 (got {} and {})",
                self.frame, self.route_prior
            )));
        }
        Ok(())
    }

    /// The semantic score of a candidate from its two views' cosines.
    pub fn semantic(&self, cutout: f32, frame: f32) -> f32 {
        (1.0 - self.frame) * cutout + self.frame * frame
    }

    /// A candidate's `(semantic, final score)` from its stage scores and its category's router
    /// share: the one formula the rerank, `lookalike eval` and `ui/src/rerank.ts` apply.
    pub fn score(
        &self,
        cutout: f32,
        frame: f32,
        texture: f32,
        color: f32,
        prior: f32,
    ) -> (f32, f32) {
        let semantic = self.semantic(cutout, frame);
        let score = self.blend.blend(semantic, texture, color) + self.route_prior * prior;
        (semantic, score)
    }
}

/// One shortlisted candidate with every stage's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub row: usize,
    /// Cosine of the query's cut-out and of its whole frame (equal without a second view).
    pub cutout: f32,
    pub frame: f32,
    pub texture: f32,
    pub color: f32,
    /// The router's share for the candidate's category (0..1).
    pub prior: f32,
    /// True for a candidate of a category the router picked.
    pub routed: bool,
    /// The two views mixed, filled in by [`rank`] and [`blended`].
    pub semantic: f32,
    /// The final score, filled in by [`rank`] and [`blended`].
    pub score: f32,
}

impl Scored {
    pub fn new(row: usize, cutout: f32, frame: f32, texture: f32, color: f32) -> Self {
        Scored {
            row,
            cutout,
            frame,
            texture,
            color,
            prior: 0.0,
            routed: true,
            semantic: cutout,
            score: 0.0,
        }
    }

    fn scored(&self, s: &Scoring) -> Scored {
        let (semantic, score) = s.score(
            self.cutout,
            self.frame,
            self.texture,
            self.color,
            self.prior,
        );
        Scored {
            semantic,
            score,
            ..*self
        }
    }
}

/// The stage: scores every candidate and keeps the best `k`; ties keep semantic order, then the
/// input's (retrieval) order. `ui/src/rerank.ts` is the designer view's copy of this rule,
/// checked against it on recorded real shortlists.
pub fn rank(candidates: &[Scored], scoring: &Scoring, k: usize) -> Vec<Scored> {
    let mut ranked: Vec<(usize, Scored)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.scored(scoring)))
        .collect();
    ranked.sort_by(|(ia, a), (ib, b)| {
        b.score
            .total_cmp(&a.score)
            .then(b.semantic.total_cmp(&a.semantic))
            .then(ia.cmp(ib))
    });
    ranked.truncate(k);
    ranked.into_iter().map(|(_, c)| c).collect()
}

/// The shortlist in its own (retrieval) order, each candidate scored (designer view).
pub fn blended(candidates: &[Scored], scoring: &Scoring) -> Vec<Scored> {
    candidates.iter().map(|c| c.scored(scoring)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(row: usize, semantic: f32, texture: f32, color: f32) -> Scored {
        Scored::new(row, semantic, semantic, texture, color)
    }

    fn with(blend: BlendWeights) -> Scoring {
        Scoring {
            blend,
            ..Scoring::default()
        }
    }

    fn rows(r: &[Scored]) -> Vec<usize> {
        r.iter().map(|c| c.row).collect()
    }

    #[test]
    fn blend_uses_the_seed_weights() {
        let w = BlendWeights::default();
        assert!((w.blend(1.0, 0.5, 0.25) - (0.5 + 0.15 + 0.05)).abs() < 1e-6);
    }

    #[test]
    fn texture_and_colour_can_overturn_semantic_order() {
        let c = vec![
            cand(0, 0.90, 0.10, 0.10),
            cand(1, 0.85, 0.90, 0.90),
            cand(2, 0.20, 0.20, 0.20),
        ];
        let top = rank(&c, &Scoring::default(), 2);
        assert_eq!(rows(&top), vec![1, 0]);
        let top = rank(&c, &Scoring::plain(), 3);
        assert_eq!(rows(&top), vec![0, 1, 2]);
        assert!((top[0].score - 0.90).abs() < 1e-6);
    }

    #[test]
    fn the_frame_weight_mixes_the_two_views() {
        // row 0: the cut-out finds it; row 1: only the whole frame does
        let c = vec![
            Scored::new(0, 0.80, 0.40, 0.0, 0.0),
            Scored::new(1, 0.50, 0.90, 0.0, 0.0),
        ];
        let s = |frame| Scoring {
            frame,
            ..Scoring::plain()
        };
        assert_eq!(rows(&rank(&c, &s(0.0), 2)), vec![0, 1]);
        let mixed = rank(&c, &s(0.6), 2);
        assert_eq!(rows(&mixed), vec![1, 0]);
        assert!((mixed[0].semantic - (0.4 * 0.5 + 0.6 * 0.9)).abs() < 1e-6);
        assert_eq!(mixed[0].score, mixed[0].semantic);
    }

    #[test]
    fn the_router_prior_moves_products_but_hides_none() {
        let prior = |row, semantic, prior| Scored {
            prior,
            routed: prior > 0.5,
            ..cand(row, semantic, 0.0, 0.0)
        };
        // row 1's category has the router's vote; row 0 is a little closer
        let c = vec![prior(0, 0.80, 0.1), prior(1, 0.75, 0.9), prior(2, 0.2, 0.0)];
        let s = |route_prior| Scoring {
            route_prior,
            ..Scoring::plain()
        };
        assert_eq!(rows(&rank(&c, &s(0.0), 3)), vec![0, 1, 2]);
        let routed = rank(&c, &s(0.1), 3);
        assert_eq!(
            rows(&routed),
            vec![1, 0, 2],
            "0.75 + 0.09 beats 0.80 + 0.01"
        );
        assert!((routed[0].score - 0.84).abs() < 1e-6);
        assert_eq!(rank(&c, &s(0.1), 3).len(), 3, "every candidate stays");
    }

    #[test]
    fn ties_keep_semantic_then_input_order() {
        let c = vec![
            cand(7, 0.5, 0.5, 0.5),
            cand(3, 0.75, 0.25, 0.5),
            cand(5, 0.5, 0.5, 0.5),
        ];
        let w = BlendWeights {
            semantic: 0.5,
            texture: 0.5,
            color: 0.0,
        };
        // all three blend to exactly 0.5: the higher semantic first, then input order
        let got: Vec<usize> = rows(&rank(&c, &with(w), 3));
        assert_eq!(got, vec![3, 7, 5]);
    }

    #[test]
    fn weights_and_scoring_are_validated() {
        assert_eq!(
            BlendWeights::parse("0.5, 0.3,0.2").unwrap(),
            BlendWeights::default()
        );
        assert!(BlendWeights::parse("1,2").is_err());
        assert!(BlendWeights::parse("a,b,c").is_err());
        assert!(BlendWeights::parse("0,0,0").is_err());
        assert!(BlendWeights::parse("-1,1,1").is_err());
        assert!(BlendWeights::parse("NaN,1,1").is_err());
        assert!(Scoring::default().validate().is_ok());
        let bad = |frame, route_prior| Scoring {
            frame,
            route_prior,
            ..Scoring::default()
        };
        assert!(bad(1.5, 0.0).validate().is_err());
        assert!(bad(0.5, f32::NAN).validate().is_err());
        assert!(bad(0.5, -0.1).validate().is_err());
    }
}
