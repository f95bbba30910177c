//! What the commands send to the UI (ui/src/types.ts mirrors these): the engine's results with
//! thumbnails, cut-out and mask inlined as data URLs, so the webview needs no file access.

use base64::Engine as _;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};
use lookalike_engine::catalog::schema::CatalogProduct;
use lookalike_engine::engine::{RouteSummary, Timings};
use lookalike_engine::stages::decode::ImageInfo;
use lookalike_engine::stages::route::CategoryScore;
use lookalike_engine::stages::segment::SegmentationInfo;
use lookalike_engine::{BlendWeights, Engine, Hit, SearchResult};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn png_data_url(img: DynamicImage) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| ApiError::new("encode", format!("cannot encode PNG: {e}")))?;
    Ok(data_url("image/png", &bytes))
}

/// Options the UI sends in the `x-search-options` header (all optional).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchOptionsDto {
    pub category: Option<String>,
    pub weights: Option<BlendWeights>,
    pub top_k: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryInfo {
    pub name: String,
    pub expert: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub part: String,
    pub model: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogInfo {
    pub name: String,
    pub profile: String,
    pub size: usize,
    pub categories: Vec<CategoryInfo>,
    pub models: Vec<ModelInfo>,
    pub blend: BlendWeights,
}

pub fn catalog_info(engine: &Engine) -> CatalogInfo {
    let file = &engine.catalog().file;
    let stamp = |part: &str, s: &lookalike_engine::catalog::schema::ModelStamp| ModelInfo {
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
    CatalogInfo {
        name: file.name.clone(),
        profile: file.profile.clone(),
        size: file.products.len(),
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
        blend: file.blend,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    pub image: ImageInfo,
    pub categories: Vec<CategoryScore>,
    pub route: RouteSummary,
    pub segmentation: SegmentationInfo,
    pub results: Vec<Hit>,
    pub candidates: Vec<Hit>,
    pub timings_ms: Timings,
    pub cutout: String,
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

pub fn search_response(
    state: &AppState,
    engine: &Engine,
    result: SearchResult,
) -> Result<SearchResponse, ApiError> {
    let inline = |mut hits: Vec<Hit>| -> Result<Vec<Hit>, ApiError> {
        for h in &mut hits {
            h.thumbnail = state.thumbnail(engine, &h.id)?.to_string();
        }
        Ok(hits)
    };
    Ok(SearchResponse {
        cutout: png_data_url(preview(DynamicImage::ImageRgba8(result.cutout)))?,
        mask: png_data_url(preview(DynamicImage::ImageLuma8(result.mask)))?,
        results: inline(result.results)?,
        candidates: inline(result.candidates)?,
        image: result.image,
        categories: result.categories,
        route: result.route,
        segmentation: result.segmentation,
        timings_ms: result.timings_ms,
    })
}

/// A catalog product as the UI sees it: the catalog's own record, with `thumbnail` turned from a
/// catalog path into a data URL.
pub type ProductDto = CatalogProduct;

pub fn product_dto(
    state: &AppState,
    engine: &Engine,
    p: &CatalogProduct,
) -> Result<ProductDto, ApiError> {
    Ok(CatalogProduct {
        thumbnail: state.thumbnail(engine, &p.id)?.to_string(),
        ..p.clone()
    })
}
