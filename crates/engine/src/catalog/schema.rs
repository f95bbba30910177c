//! The JSON files: the merchant's products file (input of `lookalike index`) and the built
//! catalog's `catalog.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::models::manifest::RouterKind;
use crate::stages::rerank::BlendWeights;
use crate::stages::route::RouterConfig;

pub const CATALOG_FORMAT: &str = "lookalike-catalog";
/// Version 2 added `codes` (int8 codes of the embeddings, `embeddings.i8`), version 3 `ann` (an
/// HNSW graph over the codes, `embeddings.hnsw`), version 4 moved the products out of
/// catalog.json into `products.jsonl` + `products.idx` (read one at a time); versions 1 to 3
/// still open.
pub const CATALOG_VERSION: u32 = 4;
pub const CATALOG_VERSIONS_READ: [u32; 4] = [1, 2, 3, 4];
/// The first version whose products live in `products.jsonl`.
pub const RECORDS_VERSION: u32 = 4;
pub const CATALOG_JSON: &str = "catalog.json";
pub const EMBEDDINGS_BIN: &str = "embeddings.bin";
pub const TEXTURE_BIN: &str = "texture.bin";
pub const COLORS_BIN: &str = "color_signatures.bin";
pub const CODES_BIN: &str = "embeddings.i8";
pub const GRAPH_BIN: &str = "embeddings.hnsw";
pub const PRODUCTS_JSONL: &str = "products.jsonl";
pub const PRODUCTS_IDX: &str = "products.idx";
pub const THUMBS_DIR: &str = "thumbs";

// ---- products file ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductsFile {
    pub name: String,
    #[serde(default)]
    pub router: RouterConfig,
    #[serde(default)]
    pub blend: Option<BlendWeights>,
    pub categories: Vec<CategoryDef>,
    pub products: Vec<ProductDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    pub name: String,
    /// Which of the profile's experts embeds this category ("fashion", "general").
    pub expert: String,
    /// ImageNet-1k class ids that mean this category (class-table router; optional: the classes
    /// the category's own catalog images trigger are learned at index time).
    #[serde(default)]
    pub imagenet_classes: Vec<u32>,
    /// Text prompts averaged into the category's prototype (text-prototype router; none: made
    /// from the name).
    #[serde(default)]
    pub prompts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProductDef {
    pub id: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub price: Option<f64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub gtin: Option<String>,
    /// File name inside the `--images` folder.
    pub image: String,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The product's page in the shop.
    #[serde(default)]
    pub url: Option<String>,
    /// Where the product and its photo come from (attribution).
    #[serde(default)]
    pub source: Option<String>,
}

// ---- catalog.json ----------------------------------------------------------------------------

/// A model the catalog's vectors came from; a search must load the very same file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelStamp {
    pub model: String,
    pub output: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogModels {
    pub router: ModelStamp,
    pub texture: ModelStamp,
    pub experts: BTreeMap<String, ModelStamp>,
    /// Segmenter used for catalog images without their own alpha (informational).
    pub index_segmenter: Option<String>,
    /// Promptable segmenter (SAM 2's decoder) that refined those masks (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_refiner: Option<String>,
    /// Text tower that made the category prototypes (text-prototype router only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<ModelStamp>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Dims {
    pub embedding: usize,
    pub texture: usize,
    pub color: usize,
}

// (no deny_unknown_fields: serde does not support it together with `flatten`)
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouterData {
    pub kind: RouterKind,
    #[serde(flatten)]
    pub config: RouterConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CatalogCategory {
    #[serde(flatten)]
    pub def: CategoryDef,
    /// Normalised text prototype (text-prototype router only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prototype: Option<Vec<f32>>,
    /// ImageNet classes this category's own catalog images triggered at index time, with the
    /// summed probability (class-table router: they extend the curated ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub learned_classes: Vec<(u32, f32)>,
    /// Half-open row range of this category's products (products are stored grouped by category).
    pub rows: [usize; 2],
}

/// A product as the catalog stores it (and as the app's `product` command returns it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(rename = "Product")]
pub struct CatalogProduct {
    pub id: String,
    pub name: String,
    pub category: String,
    pub price: Option<f64>,
    pub currency: Option<String>,
    pub gtin: Option<String>,
    pub brand: Option<String>,
    pub description: Option<String>,
    /// The product's page in the shop.
    #[serde(default)]
    pub url: Option<String>,
    pub source: Option<String>,
    /// The original image's file name.
    pub source_image: String,
    /// Relative to the catalog folder.
    pub thumbnail: String,
    /// How the product was cut out at index time: "alpha", a model id, or "fallback".
    pub segmentation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub format: String,
    pub version: u32,
    pub name: String,
    pub profile: String,
    pub models: CatalogModels,
    pub dims: Dims,
    /// Mean normalised texture descriptor, subtracted before texture cosines (see stages/texture.rs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texture_center: Vec<f32>,
    /// The merchant's blend (the products file's `blend`); `None`: the profile's tuned one.
    /// Catalogs built before the profiles carried a tuned blend hold the seed's 0.5 / 0.3 / 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend: Option<BlendWeights>,
    pub router: RouterData,
    /// Compact codes of the embeddings that a search scans instead of the f32 rows (then
    /// re-scores its shortlist exactly); `None`: every search scans the f32 rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<CodesKind>,
    /// An index over the codes that a search walks instead of scanning every row (needs
    /// `codes`); `None`: searches scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ann: Option<AnnKind>,
    pub categories: Vec<CatalogCategory>,
    /// How many products (rows) the catalog holds (version 4; before it, the length of
    /// `inline_products`).
    #[serde(default)]
    pub rows: usize,
    /// Versions 1 to 3 only: the products themselves. The reader moves them into
    /// `Catalog::products`, so this is empty in an open catalog.
    #[serde(default, rename = "products", skip_serializing_if = "Option::is_none")]
    pub inline_products: Option<Vec<CatalogProduct>>,
}

/// The kinds of compact codes a catalog can carry.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CodesKind {
    /// `embeddings.i8`: one int8 per value and one f32 scale per row (`catalog/codes.rs`).
    Int8,
}

/// The approximate nearest-neighbour indexes a catalog can carry.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AnnKind {
    /// `embeddings.hnsw`: an HNSW graph over the int8 codes (`catalog/graph.rs`).
    Hnsw,
}
