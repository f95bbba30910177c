//! Stage 8, rerank: `final = a * semantic + b * texture + c * colour` over the retrieved
//! candidates, re-sorted, top-k (10). The seed's weights are 0.50 / 0.30 / 0.20.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
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
        let parts: Vec<f32> = s
            .split(',')
            .map(|p| p.trim().parse::<f32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| {
                EngineError::InvalidOptions(format!(
                    "weights `{s}`: {e} (expected three numbers like 0.5,0.3,0.2)"
                ))
            })?;
        let [semantic, texture, color] = parts[..] else {
            return Err(EngineError::InvalidOptions(format!(
                "weights `{s}`: expected three numbers like 0.5,0.3,0.2"
            )));
        };
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

/// One shortlisted candidate with every stage's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub row: usize,
    pub semantic: f32,
    pub texture: f32,
    pub color: f32,
    /// False for a top-up from a category the router did not pick.
    pub routed: bool,
    /// The blend, filled in by [`rank`].
    pub score: f32,
}

impl Scored {
    pub fn new(row: usize, semantic: f32, texture: f32, color: f32, routed: bool) -> Self {
        Scored {
            row,
            semantic,
            texture,
            color,
            routed,
            score: 0.0,
        }
    }
}

/// The stage: blends every candidate and keeps the best `k`. Candidates from the routed
/// categories rank above top-ups; within each group the blend decides; ties keep semantic order,
/// then the input's (retrieval) order. `ui/src/rerank.ts` is the designer view's copy of this
/// rule, checked against it on recorded real shortlists.
pub fn rank(candidates: &[Scored], weights: &BlendWeights, k: usize) -> Vec<Scored> {
    let mut ranked: Vec<(usize, Scored)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let score = weights.blend(c.semantic, c.texture, c.color);
            (i, Scored { score, ..*c })
        })
        .collect();
    ranked.sort_by(|(ia, a), (ib, b)| {
        b.routed
            .cmp(&a.routed)
            .then(b.score.total_cmp(&a.score))
            .then(b.semantic.total_cmp(&a.semantic))
            .then(ia.cmp(ib))
    });
    ranked.truncate(k);
    ranked.into_iter().map(|(_, c)| c).collect()
}

/// The shortlist in its own (retrieval) order, each candidate with its blend (designer view).
pub fn blended(candidates: &[Scored], weights: &BlendWeights) -> Vec<Scored> {
    let blend = |c: &Scored| Scored {
        score: weights.blend(c.semantic, c.texture, c.color),
        ..*c
    };
    candidates.iter().map(blend).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(row: usize, semantic: f32, texture: f32, color: f32) -> Scored {
        Scored::new(row, semantic, texture, color, true)
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
        let top = rank(&c, &BlendWeights::default(), 2);
        assert_eq!(top.iter().map(|s| s.row).collect::<Vec<_>>(), vec![1, 0]);
        let semantic_only = BlendWeights {
            semantic: 1.0,
            texture: 0.0,
            color: 0.0,
        };
        let top = rank(&c, &semantic_only, 3);
        assert_eq!(top.iter().map(|s| s.row).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!((top[0].score - 0.90).abs() < 1e-6);
    }

    #[test]
    fn routed_candidates_rank_above_top_ups() {
        let top_up = |row, x| Scored {
            routed: false,
            ..cand(row, x, x, x)
        };
        let c = vec![
            cand(0, 0.30, 0.30, 0.30),
            top_up(1, 0.99),
            cand(2, 0.50, 0.50, 0.50),
            top_up(3, 0.10),
        ];
        let rows = |r: &[Scored]| r.iter().map(|c| c.row).collect::<Vec<_>>();
        let all = rank(&c, &BlendWeights::default(), 4);
        assert_eq!(rows(&all), vec![2, 0, 1, 3]);
        assert_eq!(
            all.iter().map(|c| c.routed).collect::<Vec<_>>(),
            vec![true, true, false, false]
        );
        assert_eq!(rows(&rank(&c, &BlendWeights::default(), 3)), vec![2, 0, 1]);
        assert_eq!(rows(&rank(&c, &BlendWeights::default(), 1)), vec![2]);
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
        let got: Vec<usize> = rank(&c, &w, 3).iter().map(|s| s.row).collect();
        assert_eq!(got, vec![3, 7, 5]);
    }

    #[test]
    fn weights_are_parsed_and_validated() {
        assert_eq!(
            BlendWeights::parse("0.5, 0.3,0.2").unwrap(),
            BlendWeights::default()
        );
        assert!(BlendWeights::parse("1,2").is_err());
        assert!(BlendWeights::parse("a,b,c").is_err());
        assert!(BlendWeights::parse("0,0,0").is_err());
        assert!(BlendWeights::parse("-1,1,1").is_err());
        assert!(BlendWeights::parse("NaN,1,1").is_err());
    }
}
