//! A catalog as one file (`lookalike pack` / `lookalike unpack`, and the app's import): an
//! uncompressed tar whose first entry, `bundle.json`, lists every other entry with its size and
//! sha256, followed by exactly the files the catalog reader needs, in the listed order.
//!
//! Unpacking trusts nothing in the file: every entry must be a regular file (links, devices and
//! extension headers are refused) at a plain relative path, listed once and in order, of the listed
//! size and checksum; the limits are checked from the listing before anything is written and again
//! while reading. The catalog is written into a temp folder and opened there (and checked against
//! the loaded models when given) before it replaces the one at `out`, so a refused bundle leaves
//! the catalog at `out` untouched.
//!
//! `pack` writes a bundle; `unpack` reads one through `reader` (the tar entries, one by one) and
//! `listing` (the checks on `bundle.json`, which `pack` runs too).

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::reader::Catalog;
use super::schema::{
    CATALOG_JSON, CODES_BIN, COLORS_BIN, CatalogModels, EMBEDDINGS_BIN, GRAPH_BIN, PRODUCTS_IDX,
    PRODUCTS_JSONL, RECORDS_VERSION, TEXTURE_BIN,
};
use crate::error::Result;
use crate::models::ModelRegistry;

mod listing;
mod pack;
mod reader;
#[cfg(test)]
mod tests;
mod unpack;

pub use pack::pack;
pub use unpack::{read_manifest, unpack};

pub const BUNDLE_FORMAT: &str = "lookalike-bundle";
pub const BUNDLE_VERSION: u32 = 1;
/// The first entry of every bundle: what the rest must be.
pub const BUNDLE_JSON: &str = "bundle.json";

/// `bundle.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    pub format: String,
    pub version: u32,
    /// The catalog's name and profile, as in its `catalog.json`.
    pub name: String,
    pub profile: String,
    /// A copy of `catalog.json`'s `models`: a bundle built with other models is refused before
    /// anything is written.
    pub models: CatalogModels,
    /// Every entry after `bundle.json`, in archive order.
    pub files: Vec<BundleFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    /// Relative to the catalog folder, `/`-separated.
    pub path: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// What an unpack accepts. Checked against `bundle.json` before anything is written, and again
/// while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// The bundle file itself (content plus tar headers).
    pub max_bundle_bytes: u64,
    /// `bundle.json`.
    pub max_manifest_bytes: u64,
    /// Entries, `bundle.json` included.
    pub max_entries: usize,
    /// The unpacked files together.
    pub max_total_bytes: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits {
            max_bundle_bytes: 5 << 30,
            max_manifest_bytes: 64 << 20,
            max_entries: 1_000_000,
            max_total_bytes: 4 << 30,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PackReport {
    pub bundle: PathBuf,
    pub name: String,
    pub profile: String,
    pub products: usize,
    /// Files packed after `bundle.json`.
    pub files: usize,
    /// Their bytes together.
    pub content_bytes: u64,
    pub bundle_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnpackReport {
    pub catalog: PathBuf,
    pub name: String,
    pub profile: String,
    pub products: usize,
    pub files: usize,
    pub content_bytes: u64,
    pub bundle_bytes: u64,
    /// Whether the catalog was checked against loaded models (`ModelCheck`).
    pub models_checked: bool,
}

/// The models that will search the unpacked catalog: a bundle built with other model files,
/// outputs or profile is refused whole.
#[derive(Clone, Copy)]
pub struct ModelCheck<'a> {
    pub models: &'a ModelRegistry,
    /// The profile that will search it (the app: its engine's); `None`: the one the bundle names.
    pub profile: Option<&'a str>,
}

/// The files a catalog reader needs, in packing order: `catalog.json`, the product records
/// (from version 4), the three matrices (and the codes and graph when it has them), then each
/// product's thumbnail (once).
pub fn catalog_files(catalog: &Catalog) -> Result<Vec<String>> {
    let file = &catalog.file;
    let mut files: Vec<String> = vec![CATALOG_JSON.into()];
    if file.version >= RECORDS_VERSION {
        files.extend([PRODUCTS_JSONL, PRODUCTS_IDX].map(String::from));
    }
    files.extend([EMBEDDINGS_BIN, TEXTURE_BIN, COLORS_BIN].map(String::from));
    if file.codes.is_some() {
        files.push(CODES_BIN.into());
    }
    if file.ann.is_some() {
        files.push(GRAPH_BIN.into());
    }
    let mut seen: HashSet<String> = files.iter().cloned().collect();
    for p in catalog.all_products()? {
        if seen.insert(p.thumbnail.clone()) {
            files.push(p.thumbnail);
        }
    }
    Ok(files)
}
