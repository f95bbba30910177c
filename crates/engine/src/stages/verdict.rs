//! The last step of the rerank: an honest answer about the whole result list. `same` when the
//! first result is very likely the very product photographed, `similar` when the list holds
//! lookalikes but not (surely) the product, `none` when nothing in the catalog is close.
//!
//! The rule reads the first result: a true match stands out in meaning (a high semantic score,
//! clearly above the runner-up's, since the catalog holds one of each product) and agrees in
//! texture and colour, while a product the catalog does not sell finds lookalikes that agree in
//! some of these, or nothing high. The rule is per profile (cosines are on each model's own
//! scale), a logistic model fitted by `lookalike eval --tune` on in-catalog queries and
//! out-of-catalog ones (the same queries with their product left out, and outside queries) of
//! the tune split.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// The first result is very likely this very product ("This is it").
    Same,
    /// Lookalikes, not the product ("Similar products").
    Similar,
    /// Nothing close ("No close match in this catalog").
    None,
}

impl Match {
    pub fn as_str(self) -> &'static str {
        match self {
            Match::Same => "same",
            Match::Similar => "similar",
            Match::None => "none",
        }
    }
}

/// How many ranked results the verdict reads (the first one against the best of the others),
/// whatever the caller's `top_k`: `lookalike eval` fits the rule on the same number.
pub const MATCH_LIST: usize = 10;

/// What the rule reads from a ranked list: the first result's semantic score, its lead over the
/// best of the others, and its texture and colour agreement with the query (the very product
/// photographed agrees in all four; a lookalike in some).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    pub semantic: f32,
    pub margin: f32,
    pub texture: f32,
    pub color: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct MatchRule {
    /// `same` when `bias + w . [semantic, margin, texture, colour]` (a logistic model's log-odds,
    /// fitted by `lookalike eval --tune`) is at least `same_at`...
    pub weights: [f32; 4],
    pub bias: f32,
    pub same_at: f32,
    /// ...and `none` when the first result's semantic score is below this.
    pub none_semantic: f32,
}

impl MatchRule {
    pub fn validate(&self) -> Result<()> {
        let ok = self.weights.iter().all(|w| w.is_finite())
            && self.bias.is_finite()
            && self.same_at.is_finite()
            && self.none_semantic.is_finite();
        if ok {
            Ok(())
        } else {
            Err(EngineError::InvalidOptions(format!(
                "match rule: every number must be finite (got {self:?})"
            )))
        }
    }

    /// The log-odds that the first result is the very product.
    pub fn log_odds(&self, e: &Evidence) -> f32 {
        let [a, b, c, d] = self.weights;
        self.bias + a * e.semantic + b * e.margin + c * e.texture + d * e.color
    }

    pub fn judge(&self, e: &Evidence) -> Match {
        if e.semantic < self.none_semantic {
            Match::None
        } else if self.log_odds(e) >= self.same_at {
            Match::Same
        } else {
            Match::Similar
        }
    }
}

/// The verdict of a search under the profile's rule (`None`: no results); without a rule
/// (uncalibrated), never `same` nor `none` for a non-empty list: "similar" is never a false claim.
pub fn verdict(rule: Option<&MatchRule>, evidence: Option<&Evidence>) -> Match {
    match (rule, evidence) {
        (_, None) => Match::None,
        (Some(r), Some(e)) => r.judge(e),
        (None, Some(_)) => Match::Similar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same when semantic + margin + texture + colour >= 2.4; none below semantic 0.5.
    const RULE: MatchRule = MatchRule {
        weights: [1.0, 1.0, 1.0, 1.0],
        bias: 0.0,
        same_at: 2.4,
        none_semantic: 0.5,
    };

    fn ev(semantic: f32, margin: f32, texture: f32, color: f32) -> Evidence {
        Evidence {
            semantic,
            margin,
            texture,
            color,
        }
    }

    #[test]
    fn agreeing_evidence_is_the_same_product() {
        assert_eq!(RULE.judge(&ev(0.8, 0.2, 0.8, 0.9)), Match::Same);
        assert!((RULE.log_odds(&ev(0.8, 0.2, 0.8, 0.9)) - 2.7).abs() < 1e-6);
    }

    #[test]
    fn a_lookalike_is_only_similar_and_nothing_close_is_none() {
        // close in meaning, but another texture and colour: another product
        assert_eq!(RULE.judge(&ev(0.8, 0.01, 0.2, 0.6)), Match::Similar);
        assert_eq!(RULE.judge(&ev(0.4, 0.3, 0.9, 0.9)), Match::None);
    }

    #[test]
    fn without_a_rule_or_results() {
        let e = ev(1.0, 1.0, 1.0, 1.0);
        assert_eq!(verdict(None, Some(&e)), Match::Similar);
        assert_eq!(verdict(Some(&RULE), None), Match::None);
        assert_eq!(verdict(Some(&RULE), Some(&e)), Match::Same);
        assert!(RULE.validate().is_ok());
        let bad = MatchRule {
            bias: f32::NAN,
            ..RULE
        };
        assert!(bad.validate().is_err());
        assert_eq!(serde_json::to_value(Match::None).unwrap(), "none");
    }
}
