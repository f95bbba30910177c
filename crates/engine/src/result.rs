//! What a search takes and gives: `SearchOptions` in, `SearchResult` out. These are the types the
//! CLI prints and the app sends to the UI (its TypeScript is generated from them, see
//! `src-tauri/src/contract.rs`).

use image::{GrayImage, RgbaImage};
use serde::Serialize;
use ts_rs::TS;

use crate::stages::Timings;
use crate::stages::decode::ImageInfo;
use crate::stages::rerank::{self, BlendWeights, Scored};
use crate::stages::route::{CategoryScore, RouteReason};
use crate::stages::segment::SegmentationInfo;

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
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            category: None,
            weights: None,
            top_k: 10,
            candidates: 50,
            include_candidates: false,
        }
    }
}

/// One product in the results (or in the shortlist), with the score of every stage. Its
/// thumbnail is the catalog's `thumbs/` image of the same id (the app serves it by id).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Hit {
    pub rank: usize,
    pub id: String,
    pub name: String,
    pub category: String,
    pub price: Option<f64>,
    pub currency: Option<String>,
    /// The blended score the rerank sorts by.
    pub score: f32,
    pub semantic: f32,
    pub texture: f32,
    pub color: f32,
    /// The catalog image's file name.
    pub source_image: String,
    /// False for items topped up from other categories because the routed ones ran short.
    pub routed: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RouteSummary {
    pub reason: RouteReason,
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
}

impl SearchResult {
    /// A shortlist (a search's `candidates`, made with `include_candidates`) re-ranked under
    /// other blend weights exactly as the search itself ranks (routed categories first), without
    /// running the models again: `lookalike eval` compares blends this way.
    pub fn rank_shortlist(shortlist: &[Hit], weights: &BlendWeights, top_k: usize) -> Vec<Hit> {
        let scored: Vec<Scored> = shortlist
            .iter()
            .enumerate()
            .map(|(i, h)| Scored::new(i, h.semantic, h.texture, h.color, h.routed))
            .collect();
        rerank::rank(&scored, weights, top_k.min(scored.len()))
            .iter()
            .enumerate()
            .map(|(i, s)| Hit {
                rank: i + 1,
                score: s.score,
                ..shortlist[s.row].clone()
            })
            .collect()
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
            .field("results", &self.results)
            .field("candidates", &self.candidates.len())
            .field("timings", &self.timings)
            .field("cutout", &self.cutout.dimensions())
            .field("mask", &self.mask.dimensions())
            .finish()
    }
}
