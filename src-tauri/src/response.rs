//! What the commands send to the UI. Every type here (and every engine type inside them) derives
//! its TypeScript: `contract.rs` writes `ui/src/generated/contract.ts`, and a test fails when that
//! file is stale. Thumbnails are not in these responses: the UI loads them by product id from the
//! `thumb:` URI scheme (`thumbs.rs`). The cut-out and mask are small PNG previews made per search.

use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};
use lookalike_engine::catalog::schema::{CatalogProduct, ModelStamp};
use lookalike_engine::{BlendWeights, Engine, ErrorCode, MatchRule, Region, Scoring, SearchResult};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ApiError;

pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn png_data_url(img: DynamicImage) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| ApiError::new(ErrorCode::Encode, format!("cannot encode PNG: {e}")))?;
    Ok(data_url("image/png", &bytes))
}

/// Options the UI sends in the `x-search-options` header (all optional).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, TS)]
#[serde(deny_unknown_fields)]
pub struct SearchOptionsDto {
    /// Skip the router and search this category.
    #[ts(optional)]
    pub category: Option<String>,
    /// Blend weights for the rerank (default: the catalog's).
    #[ts(optional)]
    pub weights: Option<BlendWeights>,
    /// Number of results, 1..=50 (default 10).
    #[ts(optional, type = "number")]
    pub top_k: Option<usize>,
    /// Search only this part of the photo (an object the shopper tapped, or a box they drew).
    #[ts(optional)]
    pub region: Option<Region>,
    /// Rank towards this colour: a `PALETTE` name or `#rrggbb`.
    #[ts(optional)]
    pub color: Option<String>,
    /// Words that refine the photo ("in red leather"); only when `CatalogInfo.takes_text`.
    #[ts(optional)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CategoryInfo {
    pub name: String,
    pub expert: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelInfo {
    pub part: String,
    pub model: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CatalogInfo {
    pub name: String,
    pub profile: String,
    pub size: usize,
    pub categories: Vec<CategoryInfo>,
    pub models: Vec<ModelInfo>,
    /// How this catalog's searches score (its blend, or the profile's tuned one; the frame
    /// weight and the router prior): the designer view's sliders start here and its re-rank
    /// of the shortlist follows it.
    pub scoring: Scoring,
    /// The profile's calibrated `match` rule (`null`: uncalibrated, every search says "similar").
    pub match_rule: Option<MatchRule>,
    /// Whether searches take words (`SearchOptionsDto.text`): the profile has text towers (the
    /// full one); the lite profile does not, and the UI hides the box.
    pub takes_text: bool,
    /// A few products to try the app with, one per category, largest categories first: the
    /// empty state shows their thumbnails and searches the one tapped.
    pub samples: Vec<Sample>,
}

/// A product the empty state offers to try: its thumbnail (by id) is the photo searched.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Sample {
    pub id: String,
    pub name: String,
}

pub fn catalog_info(engine: &Engine) -> Result<CatalogInfo, ApiError> {
    let file = &engine.catalog().file;
    let stamp = |part: &str, s: &ModelStamp| ModelInfo {
        part: part.into(),
        model: format!("{}.{}", s.model, s.output),
        sha256: s.sha256.clone(),
    };
    let mut models = vec![
        stamp("router", &file.models.router),
        stamp("texture", &file.models.texture),
    ];
    models.extend(
        file.models
            .experts
            .iter()
            .map(|(k, s)| stamp(&format!("expert {k}"), s)),
    );
    Ok(CatalogInfo {
        name: file.name.clone(),
        profile: file.profile.clone(),
        size: file.rows,
        categories: file
            .categories
            .iter()
            .map(|c| CategoryInfo {
                name: c.def.name.clone(),
                expert: c.def.expert.clone(),
                count: c.rows[1] - c.rows[0],
            })
            .collect(),
        models,
        scoring: engine.scoring(None),
        match_rule: engine.match_rule().copied(),
        takes_text: engine.takes_text(),
        samples: (engine.catalog().samples(SAMPLES)?.into_iter())
            .map(|p| Sample {
                id: p.id,
                name: p.name,
            })
            .collect(),
    })
}

/// How many sample products the empty state offers (one row on a phone).
const SAMPLES: usize = 4;

/// The engine's result plus the two per-search images as PNG data URLs.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SearchResponse {
    #[serde(flatten)]
    pub result: SearchResult,
    /// `data:image/png;base64,...`: the cut-out (transparent background), cropped to its box.
    pub cutout: String,
    /// `data:image/png;base64,...`: the grayscale mask over the whole working image.
    pub mask: String,
}

/// Largest side of the mask and cut-out images sent to the UI (they are previews).
const PREVIEW: u32 = 512;

fn preview(img: DynamicImage) -> DynamicImage {
    if img.width().max(img.height()) > PREVIEW {
        img.resize(PREVIEW, PREVIEW, FilterType::Triangle)
    } else {
        img
    }
}

pub fn search_response(mut result: SearchResult) -> Result<SearchResponse, ApiError> {
    let cutout = std::mem::take(&mut result.cutout);
    let mask = std::mem::take(&mut result.mask);
    Ok(SearchResponse {
        cutout: png_data_url(preview(DynamicImage::ImageRgba8(cutout)))?,
        mask: png_data_url(preview(DynamicImage::ImageLuma8(mask)))?,
        result,
    })
}

/// A catalog product as the UI sees it: the catalog's own record (its thumbnail is served by id).
pub type ProductDto = CatalogProduct;
