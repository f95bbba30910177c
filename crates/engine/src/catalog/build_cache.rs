//! What `lookalike index` keeps between builds, so that a rebuild re-embeds only what changed.
//!
//! A product's stored vectors are reused when its image bytes (sha256), its category's expert and
//! the extraction key are the same. The key covers everything else a vector depends on: the
//! model files' checksums, each model's manifest entry (preprocessing included), the decode and
//! segment options, the thumbnail size, the engine's version and [`FEATURES_VERSION`]. The cache lives in the catalog
//! folder and is written in the same atomic swap as the catalog; searches never read it and
//! bundles leave it out.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::format::Matrix;
use super::reader::Catalog;
use super::schema::{CatalogModels, Dims};
use crate::error::{EngineError, Result};
use crate::features::FEATURES_VERSION;
use crate::models::Manifest;
use crate::stages::color;
use crate::stages::decode::DecodeOptions;
use crate::stages::segment::{CutoutUse, MaskSource, SegmentOptions};

pub const BUILD_CACHE_JSON: &str = "build-cache.json";
/// The texture descriptors before centring (the centre moves whenever the catalog changes).
pub const TEXTURE_RAW_BIN: &str = "texture_raw.bin";
const CACHE_FORMAT: &str = "lookalike-build-cache";
const CACHE_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheFile {
    pub format: String,
    pub version: u32,
    pub key: String,
    /// One per catalog row, in row order.
    pub items: Vec<CacheItem>,
}

/// What a row's vectors were made from, and what the extractor said that the catalog files do
/// not keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheItem {
    pub id: String,
    pub image_sha256: String,
    pub expert: String,
    pub cut: CutoutUse,
    pub mask: MaskSource,
    /// The product's `segmentation` label ("alpha", the segmenter's id, "fallback").
    pub segmentation: String,
    /// Class-table router: the image's top classes (they extend its category's table).
    pub classes: Vec<(u32, f32)>,
}

/// Stored features of one product, ready to go back into a catalog.
pub struct Stored {
    pub item: CacheItem,
    pub embedding: Vec<f32>,
    pub texture_raw: Vec<f32>,
    pub color: [f32; color::DIMS],
    pub thumb_jpeg: Vec<u8>,
}

/// Everything an extraction's output depends on besides the image itself, as one sha256.
pub fn extraction_key(
    profile: &str,
    stamps: &CatalogModels,
    manifest: &Manifest,
    decode: &DecodeOptions,
    segment: &SegmentOptions,
    thumb_size: u32,
) -> String {
    let mut h = Sha256::new();
    let mut add = |part: &str| {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    };
    add(&format!(
        "engine {} features v{FEATURES_VERSION} profile {profile} thumb {thumb_size}",
        env!("CARGO_PKG_VERSION")
    ));
    add(&serde_json::to_string(stamps).unwrap_or_default());
    let mut ids: Vec<&str> = std::iter::once(&stamps.router)
        .chain([&stamps.texture])
        .chain(stamps.experts.values())
        .map(|s| s.model.as_str())
        .chain(stamps.index_segmenter.as_deref())
        .chain(stamps.index_refiner.as_deref())
        .collect();
    // the refiner's encoder too: its features decide the refined masks
    let encoders: Vec<&str> = ids
        .iter()
        .filter_map(|id| manifest.models.get(*id)?.prompt.as_ref())
        .map(|p| p.encoder.as_str())
        .collect();
    ids.extend(encoders);
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        // Debug covers every field, preprocessing included; a format change only costs a rebuild
        add(&format!("{id} {:?}", manifest.models.get(id)));
    }
    add(&format!("{decode:?} {segment:?}"));
    // the refiner's own settings (its agreement threshold, its prompting) decide masks too
    if stamps.index_refiner.is_some() {
        let spec = manifest
            .profiles
            .get(profile)
            .and_then(|p| p.index_refiner.as_ref());
        add(&format!(
            "refiner {spec:?} v{}",
            crate::stages::refine::REFINE_VERSION
        ));
    }
    format!("{:x}", h.finalize())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The previous build of a catalog folder, when it has a cache made under the same key.
pub struct Previous {
    catalog: Catalog,
    rows: HashMap<String, usize>,
    items: Vec<CacheItem>,
    texture_raw: Matrix,
}

impl Previous {
    /// `None`: nothing to reuse (no catalog there, no cache, another key, other dims). A catalog
    /// or cache that does not read back, or disagrees with itself, is not an error either: the
    /// build simply starts from scratch.
    pub fn open(dir: &Path, key: &str, dims: Dims) -> Option<Self> {
        let catalog = Catalog::open(dir).ok()?;
        if catalog.file.dims != dims {
            return None;
        }
        let cache: CacheFile =
            serde_json::from_slice(&read_regular(dir, BUILD_CACHE_JSON)?).ok()?;
        let rows_agree = cache.items.len() == catalog.len()
            && (cache.items.iter().enumerate())
                .all(|(row, item)| catalog.product(row).is_ok_and(|p| item.id == p.id));
        let votes_sane = cache
            .items
            .iter()
            .flat_map(|i| &i.classes)
            .all(|(_, p)| p.is_finite() && *p >= 0.0);
        if cache.format != CACHE_FORMAT
            || cache.version != CACHE_VERSION
            || cache.key != key
            || !rows_agree
            || !votes_sane
        {
            return None;
        }
        let texture_raw = Matrix::from_bytes(&read_regular(dir, TEXTURE_RAW_BIN)?).ok()?;
        if texture_raw.rows != catalog.len() || texture_raw.dims != dims.texture {
            return None;
        }
        let rows = cache
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.clone(), i))
            .collect();
        Some(Previous {
            catalog,
            rows,
            items: cache.items,
            texture_raw,
        })
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|i| i.id.as_str())
    }

    /// The stored features of `id` if they were made from the same image bytes by the same expert.
    pub fn reuse(&self, id: &str, image_sha256: &str, expert: &str) -> Option<Stored> {
        let row = *self.rows.get(id)?;
        let item = &self.items[row];
        if item.image_sha256 != image_sha256 || item.expert != expert {
            return None;
        }
        let product = self.catalog.product(row).ok()?;
        let thumb = self.catalog.thumbnail_path(&product).ok()?;
        let color = self.catalog.colors.row(row).try_into().ok()?;
        Some(Stored {
            item: item.clone(),
            embedding: self.catalog.embeddings.row(row).to_vec(),
            texture_raw: self.texture_raw.row(row).to_vec(),
            color,
            thumb_jpeg: std::fs::read(thumb).ok()?,
        })
    }
}

/// A cache file's bytes: a regular file of sane size (never a link, pipe or device).
fn read_regular(dir: &Path, name: &str) -> Option<Vec<u8>> {
    const MAX: u64 = 1 << 30;
    let path = dir.join(name);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    (meta.file_type().is_file() && meta.len() <= MAX).then(|| std::fs::read(&path).ok())?
}

/// Writes the cache beside a catalog being built (`items` and `texture_raw` in row order).
pub fn write(dir: &Path, key: &str, items: Vec<CacheItem>, texture_raw: &Matrix) -> Result<()> {
    let file = CacheFile {
        format: CACHE_FORMAT.into(),
        version: CACHE_VERSION,
        key: key.into(),
        items,
    };
    let json = serde_json::to_string(&file)
        .map_err(|e| EngineError::Internal(format!("{BUILD_CACHE_JSON}: {e}")))?;
    let io = |what: &str, e| EngineError::io(format!("writing {what} in {}", dir.display()), e);
    std::fs::write(dir.join(BUILD_CACHE_JSON), json).map_err(|e| io(BUILD_CACHE_JSON, e))?;
    texture_raw
        .write(&dir.join(TEXTURE_RAW_BIN))
        .map_err(|e| io(TEXTURE_RAW_BIN, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::schema::ModelStamp;

    fn stamps(sha: &str) -> CatalogModels {
        let s = |m: &str| ModelStamp {
            model: m.into(),
            output: "out".into(),
            sha256: sha.into(),
        };
        CatalogModels {
            router: s("r"),
            texture: s("r"),
            experts: [("general".to_string(), s("r"))].into(),
            index_segmenter: Some("seg".into()),
            index_refiner: None,
            text: None,
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            version: 1,
            overlays: Vec::new(),
            models: Default::default(),
            profiles: Default::default(),
            dir: Default::default(),
            merged: Vec::new(),
        }
    }

    #[test]
    fn the_key_changes_with_anything_a_vector_depends_on() {
        let (m, d, s) = (
            manifest(),
            DecodeOptions::default(),
            SegmentOptions::default(),
        );
        let base = extraction_key("lite", &stamps("aa"), &m, &d, &s, 256);
        assert_eq!(base, extraction_key("lite", &stamps("aa"), &m, &d, &s, 256));
        assert_ne!(base, extraction_key("lite", &stamps("ab"), &m, &d, &s, 256));
        assert_ne!(base, extraction_key("full", &stamps("aa"), &m, &d, &s, 256));
        assert_ne!(base, extraction_key("lite", &stamps("aa"), &m, &d, &s, 128));
        let mut other_seg = stamps("aa");
        other_seg.index_segmenter = None;
        assert_ne!(base, extraction_key("lite", &other_seg, &m, &d, &s, 256));
        let mut looser = SegmentOptions::default();
        looser.margin += 0.01;
        assert_ne!(
            base,
            extraction_key("lite", &stamps("aa"), &m, &d, &looser, 256)
        );
    }

    #[test]
    fn the_key_changes_with_the_refiners_settings() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let mut m = Manifest::load(&dir).unwrap();
        let (d, s) = (DecodeOptions::default(), SegmentOptions::default());
        let mut refined = stamps("aa");
        refined.index_refiner = Some("sam2_decoder".into());
        let base = extraction_key("full", &refined, &m, &d, &s, 256);
        assert_ne!(base, extraction_key("full", &stamps("aa"), &m, &d, &s, 256));
        if let Some(r) = m
            .profiles
            .get_mut("full")
            .and_then(|p| p.index_refiner.as_mut())
        {
            r.min_agreement = 0.75;
        }
        assert_ne!(base, extraction_key("full", &refined, &m, &d, &s, 256));
    }
}
