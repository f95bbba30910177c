//! `lookalike index`: builds a catalog folder from a products file and a folder of images, with the
//! same stages a search uses (decode, segment, embed, texture, colour), so query and catalog
//! vectors are made the same way. Writes atomically: a temp folder renamed into place.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use image::RgbaImage;

use super::atomic::write_atomically;
use super::format::Matrix;
pub use super::products::read_products;
use super::reader::Catalog;
use super::schema::*;
use crate::error::{EngineError, Result};
use crate::features::Extractor;
use crate::models::manifest::{Interpolation, OutputRef, ProfileSpec, RouterKind};
use crate::models::preprocess::composite;
use crate::models::resample;
use crate::models::{Manifest, ModelRegistry, RuntimeOptions};
use crate::stages::decode::DecodeOptions;
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
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct IndexReport {
    pub products: usize,
    /// Products left out, with the reason (unreadable image, ...).
    pub skipped: Vec<(String, String)>,
    pub per_category: Vec<(String, usize)>,
    pub index_segmenter: Option<String>,
    pub cut_by_alpha: usize,
    pub cut_by_model: usize,
    pub whole_image_fallback: usize,
}

/// Index-time class votes: each catalog image's top classes extend its category's class table.
const LEARNED_TOP: usize = 3;
const LEARNED_MIN_PROB: f32 = 0.05;

/// One product's features, as the feature extractor made them.
struct Item {
    product: CatalogProduct,
    /// How the cut-out was made (the report counts these).
    cut: (CutoutUse, MaskSource),
    classes: Vec<(u32, f32)>,
    embedding: Vec<f32>,
    texture: Vec<f32>,
    color: [f32; color::DIMS],
    thumb: RgbaImage,
}

/// Builds the catalog. `progress(done, total, product_id)` is called after each product.
pub fn build(
    opts: &IndexOptions,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<IndexReport> {
    let products = read_products(&opts.products_file)?;
    let manifest = Manifest::load(&opts.models_dir)?;
    let profile = manifest.profile(&opts.profile)?.clone();
    check_categories(opts, &products, &profile)?;
    let models = ModelRegistry::new(manifest, opts.runtime.clone(), opts.allow_random_weights);
    let index_segmenter = profile
        .index_segmenters
        .iter()
        .find(|id| models.is_available(id))
        .cloned();
    let stamps = stamps(&models, &profile, index_segmenter.clone())?;
    let prototypes = prototypes(&models, &profile, &products)?;
    let dims = dims(&models, &profile, &opts.profile)?;
    let segmenter = match &index_segmenter {
        Some(id) => Some(models.get(id)?),
        None => None,
    };
    // the very extractor a search uses, with the index-time segmenter
    let extractor = Extractor::new(
        &models,
        &profile,
        segmenter,
        DecodeOptions::default(),
        SegmentOptions::default(),
    );

    let mut report = IndexReport {
        index_segmenter,
        ..Default::default()
    };
    let total = products.products.len();
    let mut items: Vec<Item> = Vec::with_capacity(total);
    for (done, p) in products.products.iter().enumerate() {
        let expert = &profile.experts[&category_def(&products, &p.category).expert];
        match extract_item(opts, &extractor, &profile, expert, p) {
            Ok(item) => {
                match item.cut {
                    (CutoutUse::Fallback, _) => report.whole_image_fallback += 1,
                    (_, MaskSource::Alpha) => report.cut_by_alpha += 1,
                    (_, MaskSource::Model) => report.cut_by_model += 1,
                }
                items.push(item);
            }
            Err(e) => report.skipped.push((p.id.clone(), e.to_string())),
        }
        progress(done + 1, total, &p.id);
    }
    if items.is_empty() {
        return Err(EngineError::Products {
            path: opts.products_file.clone(),
            detail: format!(
                "no product could be indexed; first problem: {}",
                report.skipped.first().map_or("none", |s| s.1.as_str())
            ),
        });
    }

    let (categories, ordered) = group_by_category(&products, &prototypes, &items, &mut report);
    let raw_textures: Vec<Vec<f32>> = ordered.iter().map(|i| i.texture.clone()).collect();
    let texture_center = texture::center(&raw_textures);
    let mut embeddings = Matrix::new(dims.embedding);
    let mut textures = Matrix::new(dims.texture);
    let mut colors = Matrix::new(dims.color);
    for i in &ordered {
        embeddings.push(&i.embedding);
        textures.push(&texture::descriptor(&i.texture, &texture_center));
        colors.push(&i.color);
    }
    let file = CatalogFile {
        format: CATALOG_FORMAT.into(),
        version: CATALOG_VERSION,
        name: products.name.clone(),
        profile: opts.profile.clone(),
        models: stamps,
        dims,
        texture_center,
        blend: products.blend.unwrap_or_default(),
        router: RouterData {
            kind: profile.router.kind,
            config: products.router.clone(),
        },
        categories,
        products: ordered.iter().map(|i| i.product.clone()).collect(),
    };
    report.products = file.products.len();
    let matrices = [
        (EMBEDDINGS_BIN, &embeddings),
        (TEXTURE_BIN, &textures),
        (COLORS_BIN, &colors),
    ];
    write_atomically(&opts.out_dir, |dir| {
        write_catalog(dir, &file, &ordered, &matrices, opts.thumb_size)
    })?;
    Ok(report)
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

/// The checksums of the models the vectors come from (a search must load the very same files).
fn stamps(
    models: &ModelRegistry,
    profile: &ProfileSpec,
    index_segmenter: Option<String>,
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

/// One product through the feature extractor.
fn extract_item(
    opts: &IndexOptions,
    extractor: &Extractor,
    profile: &ProfileSpec,
    expert: &OutputRef,
    p: &ProductDef,
) -> Result<Item> {
    let path = opts.images_dir.join(&p.image);
    let bytes = std::fs::read(&path)
        .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
    let mut f = extractor.extract(&bytes, &mut Clock::start())?;
    let embedding = f.embedding(expert)?;
    let classes = match profile.router.kind {
        RouterKind::ClassTable => {
            route::top_classes(f.router_input()?, LEARNED_TOP, LEARNED_MIN_PROB)
        }
        RouterKind::TextPrototypes => Vec::new(),
    };
    // raw: centred once the whole catalog is known
    let texture = f.texture()?.to_vec();
    Ok(Item {
        product: CatalogProduct {
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
            segmentation: f.segmentation.label(),
        },
        cut: (f.segmentation.used, f.segmentation.source),
        classes,
        embedding,
        texture,
        color: f.color(),
        thumb: f.working,
    })
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
        report
            .per_category
            .push((c.name.clone(), ordered.len() - start));
        let mut learned: BTreeMap<u32, f32> = BTreeMap::new();
        for (k, p) in ordered[start..].iter().flat_map(|i| &i.classes) {
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

/// Writes every file of the catalog into `dir` and reads it back with a search's checks.
fn write_catalog(
    dir: &Path,
    file: &CatalogFile,
    ordered: &[&Item],
    matrices: &[(&str, &Matrix)],
    thumb_size: u32,
) -> Result<()> {
    let io = |what: &str, e: std::io::Error| {
        EngineError::io(format!("writing {what} in {}", dir.display()), e)
    };
    std::fs::create_dir(dir.join(THUMBS_DIR)).map_err(|e| io(THUMBS_DIR, e))?;
    for i in ordered {
        let thumb = thumbnail(&i.thumb, thumb_size);
        let path = dir.join(&i.product.thumbnail);
        thumb
            .save_with_format(&path, image::ImageFormat::Jpeg)
            .map_err(|e| EngineError::Catalog {
                path: path.clone(),
                detail: format!("cannot write thumbnail: {e}"),
            })?;
    }
    for (name, m) in matrices {
        m.write(&dir.join(name)).map_err(|e| io(name, e))?;
    }
    let json = serde_json::to_string_pretty(file)
        .map_err(|e| EngineError::Internal(format!("catalog.json: {e}")))?;
    std::fs::write(dir.join(CATALOG_JSON), json).map_err(|e| io(CATALOG_JSON, e))?;
    // read it back with the same checks a search uses before it replaces anything
    Catalog::open(dir).map(|_| ())
}

fn category_def<'a>(products: &'a ProductsFile, name: &str) -> &'a CategoryDef {
    // read_products guarantees every product's category exists
    products
        .categories
        .iter()
        .find(|c| c.name == name)
        .unwrap_or(&products.categories[0])
}

/// A JPEG-ready thumbnail: transparent parts on white, longest side `size`.
fn thumbnail(img: &RgbaImage, size: u32) -> image::RgbImage {
    let rgb = composite(img, [255, 255, 255]);
    let (w, h) = resample::fit(rgb.dimensions(), size);
    resample::rgb(&rgb, w, h, Interpolation::Bilinear)
}
