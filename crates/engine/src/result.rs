//! What a search takes and gives: `SearchOptions` in, `SearchResult` out. These are the types the
//! CLI prints and the app sends to the UI (its TypeScript is generated from them, see
//! `src-tauri/src/contract.rs`).

use image::{GrayImage, RgbaImage};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::stages::Timings;
use crate::stages::color::ColorTarget;
use crate::stages::decode::ImageInfo;
use crate::stages::objects::{DetectedObject, Region};
use crate::stages::rerank::{self, BlendWeights, Scored, Scoring};
use crate::stages::route::{CategoryScore, RouteReason};
use crate::stages::segment::SegmentationInfo;
use crate::stages::verdict::{self, Evidence, Match, MatchRule};

#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Search only this category (the user tapped another one).
    pub category: Option<String>,
    /// `None`: the catalog's blend weights.
    pub weights: Option<BlendWeights>,
    pub top_k: usize,
    /// Shortlist size handed to the rerank (the seed's 50).
    pub candidates: usize,
    /// Also return the shortlist before rerank (designer view).
    pub include_candidates: bool,
    /// Embed the whole frame as a second view even when the scoring gives it no weight, so the
    /// shortlist can be re-ranked under any frame weight (`lookalike eval` tunes it).
    pub all_views: bool,
    /// The plain baseline instead of the pipeline: the whole frame's embedding cosine over the
    /// whole catalog; no cut-out, no routing, no rerank (`lookalike eval`'s first row).
    pub plain: bool,
    /// Search only this part of the photo (the shopper picked an object or dragged a box).
    pub region: Option<Region>,
    /// "Like this, in another colour": rank the shortlist towards this colour instead of the
    /// query's own colours ([`Scoring::toward_color`]).
    pub color: Option<ColorTarget>,
    /// "In red leather": words mixed into the image query (profiles with a `text_query` only,
    /// see `stages/embed.rs`).
    pub text: Option<String>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            category: None,
            weights: None,
            top_k: 10,
            candidates: 50,
            include_candidates: false,
            all_views: false,
            plain: false,
            region: None,
            color: None,
            text: None,
        }
    }
}

/// One product in the results (or in the shortlist), with the score of every stage. Its
/// thumbnail is the catalog's `thumbs/` image of the same id (the app serves it by id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Hit {
    pub rank: usize,
    pub id: String,
    pub name: String,
    pub category: String,
    pub price: Option<f64>,
    pub currency: Option<String>,
    /// The score the rerank sorts by: the blend plus the router prior.
    pub score: f32,
    /// The cosine of the query's two views mixed by the scoring's frame weight.
    pub semantic: f32,
    /// The cosine of the query's cut-out, and of its whole frame (the same without a second view).
    pub semantic_cutout: f32,
    pub semantic_frame: f32,
    pub texture: f32,
    pub color: f32,
    /// The router's share for this product's category (0..1; the rerank adds it times the
    /// scoring's `route_prior`).
    pub route_share: f32,
    /// The catalog image's file name.
    pub source_image: String,
    /// True for a product of a category the router picked (every category is searched).
    pub routed: bool,
    /// The product's colour similarity to each `PALETTE` colour, in palette order: the UI
    /// re-ranks towards a swatch with these, without another search.
    pub swatches: Vec<f32>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RouteSummary {
    pub reason: RouteReason,
    /// The categories the router picked, best first. Every category is searched (the router's
    /// shares weigh in at the rerank), except when the caller chose one: then only that one.
    pub searched: Vec<String>,
    pub confidence: f32,
}

#[derive(Clone, Serialize, TS)]
pub struct SearchResult {
    pub image: ImageInfo,
    /// Every category, best first.
    pub categories: Vec<CategoryScore>,
    pub route: RouteSummary,
    pub segmentation: SegmentationInfo,
    /// The part of the photo searched (`null`: all of it).
    pub region: Option<Region>,
    /// The separate objects the segmenter found in what was searched, largest first, in shares
    /// of the whole photo: what the shopper can tap to search one of them.
    pub objects: Vec<DetectedObject>,
    /// The colour the results were ranked towards (`#rrggbb`), when one was asked for.
    pub color: Option<String>,
    /// The words mixed into the query, when some were given.
    pub text: Option<String>,
    /// Is the first result this very product (`same`), only lookalikes (`similar`), or is
    /// nothing close (`none`)? See `stages/verdict.rs`.
    #[serde(rename = "match")]
    pub verdict: Match,
    /// The top-k after rerank.
    pub results: Vec<Hit>,
    /// The shortlist in retrieval (semantic) order with each item's blended score, before
    /// rerank (empty without `include_candidates`).
    pub candidates: Vec<Hit>,
    pub timings: Timings,
    /// The product cut-out (RGBA, transparent background) for display.
    #[serde(skip)]
    pub cutout: RgbaImage,
    /// The segmentation mask over the whole working image (designer view).
    #[serde(skip)]
    pub mask: GrayImage,
    /// The router's own route, before the catalog's nearest products voted (`route` is after):
    /// the catalog health check judges the router by it, since a catalog image's own product
    /// would win that vote.
    #[serde(skip)]
    pub router_route: RouteSummary,
}

impl SearchResult {
    /// A shortlist (a search's `candidates`, made with `include_candidates`) re-ranked under
    /// other scoring exactly as the search itself ranks, without running the models again:
    /// `lookalike eval` compares and tunes scorings this way.
    pub fn rank_shortlist(shortlist: &[Hit], scoring: &Scoring, top_k: usize) -> Vec<Hit> {
        let scored: Vec<Scored> = shortlist
            .iter()
            .enumerate()
            .map(|(i, h)| Scored {
                prior: h.route_share,
                routed: h.routed,
                ..Scored::new(i, h.semantic_cutout, h.semantic_frame, h.texture, h.color)
            })
            .collect();
        rerank::rank(&scored, scoring, top_k.min(scored.len()))
            .iter()
            .enumerate()
            .map(|(i, s)| Hit {
                rank: i + 1,
                score: s.score,
                semantic: s.semantic,
                ..shortlist[s.row].clone()
            })
            .collect()
    }

    /// The verdict on a ranked list: its first [`verdict::MATCH_LIST`] results (a search's own
    /// verdict reads that many, whatever its `top_k`).
    pub fn judge(results: &[Hit], rule: Option<&MatchRule>) -> Match {
        let n = results.len().min(verdict::MATCH_LIST);
        verdict::verdict(rule, Self::evidence(&results[..n]).as_ref())
    }

    /// What the match rule reads: the first result's scores and its semantic lead over the best
    /// of the others (`None` for an empty list).
    pub fn evidence(results: &[Hit]) -> Option<Evidence> {
        let first = results.first()?;
        let second = results.iter().skip(1).map(|h| h.semantic).reduce(f32::max);
        Some(Evidence {
            semantic: first.semantic,
            // no runner-up (a one-product category): no lead to count for or against it
            margin: second.map_or(0.0, |s| first.semantic - s),
            texture: first.texture,
            color: first.color,
        })
    }
}

impl std::fmt::Debug for SearchResult {
    // everything but the cut-out's pixels
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchResult")
            .field("image", &self.image)
            .field("categories", &self.categories)
            .field("route", &self.route)
            .field("segmentation", &self.segmentation)
            .field("match", &self.verdict)
            .field("results", &self.results)
            .field("candidates", &self.candidates.len())
            .field("timings", &self.timings)
            .field("cutout", &self.cutout.dimensions())
            .field("mask", &self.mask.dimensions())
            .finish()
    }
}
