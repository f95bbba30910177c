//! `lookalike index`: builds a catalog folder from a products file and a folder of images, with the
//! same stages a search uses (decode, segment, embed, texture, colour), so query and catalog
//! vectors are made the same way. A rebuild reuses the vectors of every product whose image and
//! models did not change (`build_cache.rs`). Writes atomically: a temp folder swapped into place.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use image::RgbaImage;
use serde::Serialize;

use super::atomic::{restore_interrupted, write_atomically};
use super::build_cache::{self, CacheItem, Previous, Stored};
use super::codes::Codes;
use super::format::Matrix;
pub use super::products::read_products;
use super::reader::Catalog;
use super::records;
use super::schema::*;
use crate::error::{EngineError, Result};
use crate::features::Extractor;
use crate::models::manifest::{Interpolation, OutputRef, ProfileSpec, RouterKind};
use crate::models::preprocess::composite;
use crate::models::resample;
use crate::models::{Manifest, ModelRegistry, RuntimeOptions};
use crate::stages::decode::DecodeOptions;
use crate::stages::refine::Refiner;
use crate::stages::retrieve::hnsw::{self, HnswParams};
use crate::stages::segment::{CutoutUse, MaskSource, SegmentOptions};
use crate::stages::{Clock, color, route, texture};

#[derive(Debug, Clone)]
pub struct IndexOptions {
    pub images_dir: PathBuf,
    pub products_file: PathBuf,
    pub out_dir: PathBuf,
    pub models_dir: PathBuf,
    pub profile: String,
    pub runtime: RuntimeOptions,
    pub allow_random_weights: bool,
    /// Longest side of the stored thumbnails.
    pub thumb_size: u32,
    /// Set from another thread to stop the build between two products (the app's Cancel); the
    /// catalog at `out_dir` is then left as it was.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Whether to write int8 codes of the embeddings (`embeddings.i8`).
    pub codes: CodesChoice,
    /// Whether to write an HNSW graph over the codes (`embeddings.hnsw`).
    pub ann: AnnChoice,
}

/// `lookalike index --ann`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnnChoice {
    /// An HNSW graph from [`HNSW_MIN_PRODUCTS`] products on: below that, the int8 scan takes a
    /// few milliseconds and finds every row.
    #[default]
    Auto,
    Hnsw,
    None,
}

/// From this many products `AnnChoice::Auto` writes an HNSW graph.
pub const HNSW_MIN_PRODUCTS: usize = 100_000;

impl AnnChoice {
    pub fn kind(self, products: usize) -> Option<AnnKind> {
        match self {
            AnnChoice::Hnsw => Some(AnnKind::Hnsw),
            AnnChoice::Auto if products >= HNSW_MIN_PRODUCTS => Some(AnnKind::Hnsw),
            _ => None,
        }
    }
}

/// `lookalike index --codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodesChoice {
    /// Int8 codes from [`INT8_MIN_PRODUCTS`] products on: a smaller catalog scans its f32 rows
    /// in about a millisecond and keeps the exact scan.
    #[default]
    Auto,
    Int8,
    None,
}

/// From this many products `CodesChoice::Auto` writes int8 codes.
pub const INT8_MIN_PRODUCTS: usize = 10_000;

impl CodesChoice {
    pub fn kind(self, products: usize) -> Option<CodesKind> {
        match self {
            CodesChoice::Int8 => Some(CodesKind::Int8),
            CodesChoice::Auto if products >= INT8_MIN_PRODUCTS => Some(CodesKind::Int8),
            _ => None,
        }
    }
}

impl IndexOptions {
    pub fn new(
        images_dir: impl Into<PathBuf>,
        products_file: impl Into<PathBuf>,
        out_dir: impl Into<PathBuf>,
        models_dir: impl Into<PathBuf>,
    ) -> Self {
        IndexOptions {
            images_dir: images_dir.into(),
            products_file: products_file.into(),
            out_dir: out_dir.into(),
            models_dir: models_dir.into(),
            profile: "lite".into(),
            runtime: RuntimeOptions::default(),
            allow_random_weights: false,
            thumb_size: 256,
            cancel: None,
            codes: CodesChoice::Auto,
            ann: AnnChoice::Auto,
        }
    }
}

/// What a build did (`lookalike index --json` prints it; so does the app's Catalogs panel).
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct IndexReport {
    /// Products in the new catalog.
    pub products: usize,
    /// Products whose image went through the models.
    pub embedded: usize,
    /// Products whose stored vectors were kept (same image bytes, models and preprocessing).
    pub reused: usize,
    /// Products of the previous catalog that the products file no longer lists.
    pub removed: usize,
    /// Products left out, with the reason (unreadable image, ...).
    pub skipped: Vec<Skipped>,
    pub seconds: f64,
    pub per_category: Vec<CategoryCount>,
    pub index_segmenter: Option<String>,
    /// The promptable segmenter that refined the saliency masks (SAM 2), when the profile has
    /// one and its files are present.
    pub index_refiner: Option<String>,
    pub cut_by_alpha: usize,
    pub cut_by_model: usize,
    /// Of `cut_by_model`, the cut-outs whose mask came from `index_refiner`.
    pub refined: usize,
    pub whole_image_fallback: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct CategoryCount {
    pub name: String,
    pub products: usize,
}

/// Index-time class votes: each catalog image's top classes extend its category's class table.
const LEARNED_TOP: usize = 3;
const LEARNED_MIN_PROB: f32 = 0.05;

/// One product: its catalog entry and its features (fresh from the extractor or reused).
struct Item {
    product: CatalogProduct,
    features: Stored,
}

/// Builds the catalog, reusing what an earlier build at `out_dir` already extracted.
/// `progress(done, total, product_id)` is called after each product.
pub fn build(
    opts: &IndexOptions,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<IndexReport> {
    let started = Instant::now();
    inputs_outside_the_catalog(opts)?;
    if (opts.codes, opts.ann) == (CodesChoice::None, AnnChoice::Hnsw) {
        return Err(EngineError::Catalog {
            path: opts.out_dir.clone(),
            detail:
                "an HNSW graph links the int8 codes: `--ann hnsw` needs `--codes int8` or `auto`"
                    .into(),
        });
    }
    let products = read_products(&opts.products_file)?;
    let manifest = Manifest::load(&opts.models_dir)?;
    let profile = manifest.profile(&opts.profile)?.clone();
    check_categories(opts, &products, &profile)?;
    let models = ModelRegistry::new(manifest, opts.runtime.clone(), opts.allow_random_weights);
    // the best index-time segmenter there is, else the one searches use (the desktop app ships
    // only that one)
    let index_segmenter = profile
        .index_segmenters
        .iter()
        .chain([&profile.segmenter])
        .find(|id| models.is_available(id))
        .cloned();
    let refiner = refiner(&models, &profile)?;
    let index_refiner = refiner.as_ref().map(|r| r.decoder.id.clone());
    let stamps = stamps(
        &models,
        &profile,
        index_segmenter.clone(),
        index_refiner.clone(),
    )?;
    let (decode, segment) = (DecodeOptions::default(), SegmentOptions::default());
    let key = build_cache::extraction_key(
        &opts.profile,
        &stamps,
        models.manifest(),
        &decode,
        &segment,
        opts.thumb_size,
    );
    restore_interrupted(&opts.out_dir)?;
    let prototypes = prototypes(&models, &profile, &products)?;
    let dims = dims(&models, &profile, &opts.profile)?;
    let previous = Previous::open(&opts.out_dir, &key, dims);
    let segmenter = match &index_segmenter {
        Some(id) => Some(models.get(id)?),
        None => None,
    };
    // the very extractor a search uses, with the index-time segmenter
    let extractor =
        Extractor::new(&models, &profile, segmenter, decode, segment).with_refiner(refiner);

    let mut report = IndexReport {
        index_segmenter,
        index_refiner: index_refiner.clone(),
        ..Default::default()
    };
    let total = products.products.len();
    let mut items: Vec<Item> = Vec::with_capacity(total);
    for (done, p) in products.products.iter().enumerate() {
        if opts
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(EngineError::Cancelled(format!(
                "the build of {} stopped after {done} of {total} products; the catalog there is unchanged",
                opts.out_dir.display()
            )));
        }
        let expert = &category_def(&products, &p.category).expert;
        let source = Source {
            opts,
            extractor: &extractor,
            profile: &profile,
            previous: previous.as_ref(),
        };
        match source.item(p, expert) {
            Ok((item, reused)) => {
                *(if reused {
                    &mut report.reused
                } else {
                    &mut report.embedded
                }) += 1;
                match (item.features.item.cut, item.features.item.mask) {
                    (CutoutUse::Fallback, _) => report.whole_image_fallback += 1,
                    (_, MaskSource::Alpha) => report.cut_by_alpha += 1,
                    (_, MaskSource::Model) => report.cut_by_model += 1,
                }
                if index_refiner.as_deref() == Some(item.features.item.segmentation.as_str()) {
                    report.refined += 1;
                }
                items.push(item);
            }
            Err(e) => report.skipped.push(Skipped {
                id: p.id.clone(),
                reason: e.to_string(),
            }),
        }
        progress(done + 1, total, &p.id);
    }
    if items.is_empty() {
        return Err(EngineError::Products {
            path: opts.products_file.clone(),
            detail: format!(
                "no product could be indexed; first problem: {}",
                report.skipped.first().map_or("none", |s| s.reason.as_str())
            ),
        });
    }
    if let Some(prev) = &previous {
        let listed: HashSet<&str> = products.products.iter().map(|p| p.id.as_str()).collect();
        report.removed = prev.ids().filter(|id| !listed.contains(id)).count();
    }

    let (categories, ordered) = group_by_category(&products, &prototypes, &items, &mut report);
    let raw_textures: Vec<Vec<f32>> = ordered
        .iter()
        .map(|i| i.features.texture_raw.clone())
        .collect();
    let texture_center = texture::center(&raw_textures);
    let mut embeddings = Matrix::new(dims.embedding);
    let mut textures = Matrix::new(dims.texture);
    let mut textures_raw = Matrix::new(dims.texture);
    let mut colors = Matrix::new(dims.color);
    for i in &ordered {
        let f = &i.features;
        embeddings.push(&f.embedding);
        textures.push(&texture::descriptor(&f.texture_raw, &texture_center));
        textures_raw.push(&f.texture_raw);
        colors.push(&f.color);
    }
    // a graph is built on the codes: it brings them along (unless they were refused)
    let ann = match opts.codes {
        CodesChoice::None => None,
        _ => opts.ann.kind(ordered.len()),
    };
    let codes = ann
        .map(|_| CodesKind::Int8)
        .or(opts.codes.kind(ordered.len()));
    let file = CatalogFile {
        format: CATALOG_FORMAT.into(),
        version: CATALOG_VERSION,
        name: products.name.clone(),
        profile: opts.profile.clone(),
        models: stamps,
        dims,
        texture_center,
        blend: products.blend,
        router: RouterData {
            kind: profile.router.kind,
            config: products.router.clone(),
        },
        codes,
        ann,
        categories,
        rows: ordered.len(),
        inline_products: None,
    };
    report.products = file.rows;
    let matrices = [
        (EMBEDDINGS_BIN, &embeddings),
        (TEXTURE_BIN, &textures),
        (COLORS_BIN, &colors),
    ];
    let cache: Vec<CacheItem> = ordered.iter().map(|i| i.features.item.clone()).collect();
    let codes = file.codes.map(|CodesKind::Int8| Codes::of(&embeddings));
    let graph = match (file.ann, &codes) {
        (Some(AnnKind::Hnsw), Some(c)) => Some(hnsw::build(c, &HnswParams::default()).map_err(
            |e| EngineError::Catalog {
                path: opts.out_dir.clone(),
                detail: format!("cannot build the HNSW graph: {e}"),
            },
        )?),
        _ => None,
    };
    write_atomically(&opts.out_dir, |dir| {
        write_catalog(dir, &file, &ordered, &matrices)?;
        if let Some(c) = &codes {
            c.write(&dir.join(CODES_BIN)).map_err(|e| {
                EngineError::io(format!("writing {CODES_BIN} in {}", dir.display()), e)
            })?;
        }
        if let Some(g) = &graph {
            g.write(&dir.join(GRAPH_BIN)).map_err(|e| {
                EngineError::io(format!("writing {GRAPH_BIN} in {}", dir.display()), e)
            })?;
        }
        build_cache::write(dir, &key, cache, &textures_raw)?;
        // read it back with the same checks a search uses before it replaces anything
        Catalog::open_checked(dir).map(|_| ())
    })?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The swap replaces the catalog folder whole: images or a products file kept inside it would go.
fn inputs_outside_the_catalog(opts: &IndexOptions) -> Result<()> {
    let Ok(out) = opts.out_dir.canonicalize() else {
        return Ok(()); // no catalog there yet
    };
    let inputs = [
        ("images folder", &opts.images_dir),
        ("products file", &opts.products_file),
    ];
    for (what, path) in inputs {
        if path.canonicalize().is_ok_and(|p| p.starts_with(&out)) {
            return Err(EngineError::Catalog {
                path: opts.out_dir.clone(),
                detail: format!(
                    "the {what} {} is inside the catalog folder, which a build replaces whole: keep it elsewhere",
                    path.display()
                ),
            });
        }
    }
    Ok(())
}

/// Every category must name one of the profile's experts.
fn check_categories(
    opts: &IndexOptions,
    products: &ProductsFile,
    profile: &ProfileSpec,
) -> Result<()> {
    let perr = |detail: String| EngineError::Products {
        path: opts.products_file.clone(),
        detail,
    };
    for c in &products.categories {
        if !profile.experts.contains_key(&c.expert) {
            let known: Vec<&String> = profile.experts.keys().collect();
            return Err(perr(format!(
                "category `{}` asks for expert `{}`; profile `{}` has {known:?}",
                c.name, c.expert, opts.profile
            )));
        }
    }
    Ok(())
}

/// The profile's index refiner (SAM 2), when it has one and both of its files are present: like
/// the index segmenters, a better offline segmenter is used where it was exported.
fn refiner(models: &ModelRegistry, profile: &ProfileSpec) -> Result<Option<Refiner>> {
    let Some(spec) = &profile.index_refiner else {
        return Ok(None);
    };
    let decoder = models.manifest().model(&spec.model)?;
    let encoder = decoder
        .prompt
        .as_ref()
        .map(|p| p.encoder.clone())
        .unwrap_or_default();
    if !models.is_available(&spec.model) || !models.is_available(&encoder) {
        return Ok(None);
    }
    Refiner::new(
        models.get(&encoder)?,
        models.get(&spec.model)?,
        spec.min_agreement,
    )
    .map(Some)
}

/// The checksums of the models the vectors come from (a search must load the very same files).
fn stamps(
    models: &ModelRegistry,
    profile: &ProfileSpec,
    index_segmenter: Option<String>,
    index_refiner: Option<String>,
) -> Result<CatalogModels> {
    let stamp = |r: &OutputRef| -> Result<ModelStamp> {
        Ok(ModelStamp {
            model: r.model.clone(),
            output: r.output.clone(),
            sha256: models.get(&r.model)?.sha256.clone(),
        })
    };
    Ok(CatalogModels {
        router: stamp(&profile.router.output_ref())?,
        texture: stamp(&profile.texture)?,
        experts: profile
            .experts
            .iter()
            .map(|(k, r)| Ok((k.clone(), stamp(r)?)))
            .collect::<Result<BTreeMap<_, _>>>()?,
        index_segmenter,
        index_refiner,
        text: match &profile.router.text_model {
            Some(t) => Some(ModelStamp {
                model: t.clone(),
                output: String::new(),
                sha256: models.get(t)?.sha256.clone(),
            }),
            None => None,
        },
    })
}

/// Text-prototype router: the text tower turns each category's prompts into its prototype.
fn prototypes(
    models: &ModelRegistry,
    profile: &ProfileSpec,
    products: &ProductsFile,
) -> Result<BTreeMap<String, Vec<f32>>> {
    let (RouterKind::TextPrototypes, Some(text_model)) =
        (&profile.router.kind, &profile.router.text_model)
    else {
        return Ok(BTreeMap::new());
    };
    #[cfg(feature = "text")]
    {
        let encoder = crate::models::text::TextEncoder::load(models, text_model)?;
        products
            .categories
            .iter()
            .map(|c| Ok((c.name.clone(), encoder.prototype(&prompts_for(c))?)))
            .collect()
    }
    #[cfg(not(feature = "text"))]
    {
        let _ = (models, products);
        Err(EngineError::ModelMismatch {
            model: text_model.clone(),
            detail: "this build has no text towers (build lookalike-engine with feature `text`)"
                .into(),
        })
    }
}

/// A category's prompts, or prompts made from its name when the products file gives none.
#[cfg(feature = "text")]
fn prompts_for(c: &CategoryDef) -> Vec<String> {
    if !c.prompts.is_empty() {
        return c.prompts.clone();
    }
    let name = c.name.to_lowercase();
    vec![
        format!("a photo of {name}"),
        format!("a product photo of {name}"),
        format!("{name} on a plain background"),
    ]
}

fn dims(models: &ModelRegistry, profile: &ProfileSpec, profile_name: &str) -> Result<Dims> {
    let dims_of = |r: &OutputRef| models.manifest().output_spec(r).map_or(0, |o| o.len());
    let emb_dims: HashSet<usize> = profile.experts.values().map(dims_of).collect();
    let [embedding] = emb_dims.into_iter().collect::<Vec<_>>()[..] else {
        return Err(EngineError::Manifest {
            path: models.manifest().dir.join("manifest.toml"),
            detail: format!(
                "profile `{profile_name}`: its experts' embeddings have different dimensions (one catalog matrix needs one)"
            ),
        });
    };
    Ok(Dims {
        embedding,
        texture: dims_of(&profile.texture),
        color: color::DIMS,
    })
}

/// Where a product's features come from: the previous build when nothing it depends on changed,
/// else the feature extractor.
struct Source<'a> {
    opts: &'a IndexOptions,
    extractor: &'a Extractor<'a>,
    profile: &'a ProfileSpec,
    previous: Option<&'a Previous>,
}

impl Source<'_> {
    /// The product's item, and whether its features were reused.
    fn item(&self, p: &ProductDef, expert: &str) -> Result<(Item, bool)> {
        let path = self.opts.images_dir.join(&p.image);
        let bytes = std::fs::read(&path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
        let sha = build_cache::sha256_hex(&bytes);
        let reused = self
            .previous
            .and_then(|prev| prev.reuse(&p.id, &sha, expert));
        let was_reused = reused.is_some();
        let features = match reused {
            Some(stored) => stored,
            None => self.extract(&bytes, sha, expert, p)?,
        };
        let product = catalog_product(p, features.item.segmentation.clone());
        Ok((Item { product, features }, was_reused))
    }

    fn extract(&self, bytes: &[u8], sha: String, expert: &str, p: &ProductDef) -> Result<Stored> {
        let expert_ref = &self.profile.experts[expert];
        let mut f = self.extractor.extract(bytes, &mut Clock::start())?;
        let embedding = f.embedding(expert_ref)?;
        let classes = match self.profile.router.kind {
            RouterKind::ClassTable => {
                route::top_classes(f.router_input()?, LEARNED_TOP, LEARNED_MIN_PROB)
            }
            RouterKind::TextPrototypes => Vec::new(),
        };
        // raw: centred once the whole catalog is known
        let texture_raw = f.texture()?.to_vec();
        Ok(Stored {
            item: CacheItem {
                id: p.id.clone(),
                image_sha256: sha,
                expert: expert.to_string(),
                cut: f.segmentation.used,
                mask: f.segmentation.source,
                segmentation: f.segmentation.label(),
                classes,
            },
            embedding,
            texture_raw,
            color: f.color(),
            thumb_jpeg: thumbnail_jpeg(&f.working, self.opts.thumb_size)?,
        })
    }
}

fn catalog_product(p: &ProductDef, segmentation: String) -> CatalogProduct {
    CatalogProduct {
        id: p.id.clone(),
        name: p.name.clone(),
        category: p.category.clone(),
        price: p.price,
        currency: p.currency.clone(),
        gtin: p.gtin.clone(),
        brand: p.brand.clone(),
        description: p.description.clone(),
        url: p.url.clone(),
        source: p.source.clone(),
        source_image: p.image.clone(),
        thumbnail: format!("{THUMBS_DIR}/{}.jpg", p.id),
        segmentation,
    }
}

/// Rows grouped by category, in the products file's category order (empty categories dropped),
/// each category with the classes its own images voted for.
fn group_by_category<'a>(
    products: &ProductsFile,
    prototypes: &BTreeMap<String, Vec<f32>>,
    items: &'a [Item],
    report: &mut IndexReport,
) -> (Vec<CatalogCategory>, Vec<&'a Item>) {
    let mut categories = Vec::new();
    let mut ordered: Vec<&Item> = Vec::with_capacity(items.len());
    for c in &products.categories {
        let start = ordered.len();
        ordered.extend(items.iter().filter(|i| i.product.category == c.name));
        if ordered.len() == start {
            continue;
        }
        report.per_category.push(CategoryCount {
            name: c.name.clone(),
            products: ordered.len() - start,
        });
        let mut learned: BTreeMap<u32, f32> = BTreeMap::new();
        for (k, p) in ordered[start..]
            .iter()
            .flat_map(|i| &i.features.item.classes)
        {
            *learned.entry(*k).or_default() += p;
        }
        categories.push(CatalogCategory {
            def: c.clone(),
            prototype: prototypes.get(&c.name).cloned(),
            learned_classes: learned.into_iter().collect(),
            rows: [start, ordered.len()],
        });
    }
    (categories, ordered)
}

/// Writes the catalog's own files into `dir`.
fn write_catalog(
    dir: &Path,
    file: &CatalogFile,
    ordered: &[&Item],
    matrices: &[(&str, &Matrix)],
) -> Result<()> {
    let io = |what: &str, e: std::io::Error| {
        EngineError::io(format!("writing {what} in {}", dir.display()), e)
    };
    std::fs::create_dir(dir.join(THUMBS_DIR)).map_err(|e| io(THUMBS_DIR, e))?;
    for i in ordered {
        std::fs::write(dir.join(&i.product.thumbnail), &i.features.thumb_jpeg)
            .map_err(|e| io(&i.product.thumbnail, e))?;
    }
    for (name, m) in matrices {
        m.write(&dir.join(name)).map_err(|e| io(name, e))?;
    }
    let products: Vec<CatalogProduct> = ordered.iter().map(|i| i.product.clone()).collect();
    records::write(dir, &products).map_err(|e| EngineError::Catalog {
        path: dir.to_path_buf(),
        detail: format!("writing the product records: {e}"),
    })?;
    let json = serde_json::to_string_pretty(file)
        .map_err(|e| EngineError::Internal(format!("catalog.json: {e}")))?;
    std::fs::write(dir.join(CATALOG_JSON), json).map_err(|e| io(CATALOG_JSON, e))
}

fn category_def<'a>(products: &'a ProductsFile, name: &str) -> &'a CategoryDef {
    // read_products guarantees every product's category exists
    products
        .categories
        .iter()
        .find(|c| c.name == name)
        .unwrap_or(&products.categories[0])
}

/// The stored thumbnail, as JPEG bytes: transparent parts on white, longest side `size`.
fn thumbnail_jpeg(img: &RgbaImage, size: u32) -> Result<Vec<u8>> {
    let rgb = composite(img, [255, 255, 255]);
    let (w, h) = resample::fit(rgb.dimensions(), size);
    let small = resample::rgb(&rgb, w, h, Interpolation::Bilinear);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
        .encode_image(&small)
        .map_err(|e| EngineError::Internal(format!("encoding a thumbnail: {e}")))?;
    Ok(jpeg)
}
