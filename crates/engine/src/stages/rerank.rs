//! Stage 8, rerank: `final = a * semantic + b * texture + c * colour` over the retrieved
//! candidates, re-sorted, top-k (10). The seed's weights are 0.50 / 0.30 / 0.20.

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

/// One candidate with every stage's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scored {
    pub row: usize,
    pub semantic: f32,
    pub texture: f32,
    pub color: f32,
    pub score: f32,
}

/// Blends and re-sorts; ties keep semantic order, then catalog order.
pub fn rerank(mut candidates: Vec<Scored>, weights: &BlendWeights, k: usize) -> Vec<Scored> {
    for c in &mut candidates {
        c.score = weights.blend(c.semantic, c.texture, c.color);
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.semantic.total_cmp(&a.semantic))
            .then(a.row.cmp(&b.row))
    });
    candidates.truncate(k);
    candidates
}

/// The final order: candidates from the routed categories rank above top-up ones (`false`),
/// and within each group the blend decides. Used by the search and by re-blending a shortlist.
pub fn rank_routed_first(
    candidates: &[(Scored, bool)],
    weights: &BlendWeights,
    k: usize,
) -> Vec<(Scored, bool)> {
    let (in_route, topped): (Vec<Scored>, Vec<Scored>) = (
        candidates.iter().filter(|c| c.1).map(|c| c.0).collect(),
        candidates.iter().filter(|c| !c.1).map(|c| c.0).collect(),
    );
    let mut ranked: Vec<(Scored, bool)> = rerank(in_route, weights, k)
        .into_iter()
        .map(|c| (c, true))
        .collect();
    let room = k - ranked.len();
    ranked.extend(
        rerank(topped, weights, room)
            .into_iter()
            .map(|c| (c, false)),
    );
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(row: usize, semantic: f32, texture: f32, color: f32) -> Scored {
        Scored {
            row,
            semantic,
            texture,
            color,
            score: 0.0,
        }
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
        let top = rerank(c.clone(), &BlendWeights::default(), 2);
        assert_eq!(top.iter().map(|s| s.row).collect::<Vec<_>>(), vec![1, 0]);
        let semantic_only = BlendWeights {
            semantic: 1.0,
            texture: 0.0,
            color: 0.0,
        };
        let top = rerank(c, &semantic_only, 3);
        assert_eq!(top.iter().map(|s| s.row).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!((top[0].score - 0.90).abs() < 1e-6);
    }

    #[test]
    fn routed_candidates_rank_above_top_ups() {
        let c = vec![
            (cand(0, 0.30, 0.30, 0.30), true),
            (cand(1, 0.99, 0.99, 0.99), false),
            (cand(2, 0.50, 0.50, 0.50), true),
            (cand(3, 0.10, 0.10, 0.10), false),
        ];
        let rows = |r: &[(Scored, bool)]| r.iter().map(|c| c.0.row).collect::<Vec<_>>();
        let all = rank_routed_first(&c, &BlendWeights::default(), 4);
        assert_eq!(rows(&all), vec![2, 0, 1, 3]);
        assert_eq!(
            all.iter().map(|c| c.1).collect::<Vec<_>>(),
            vec![true, true, false, false]
        );
        assert_eq!(
            rows(&rank_routed_first(&c, &BlendWeights::default(), 3)),
            vec![2, 0, 1]
        );
        assert_eq!(
            rows(&rank_routed_first(&c, &BlendWeights::default(), 1)),
            vec![2]
        );
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
