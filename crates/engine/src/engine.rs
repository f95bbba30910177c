//! `Engine`: a profile's models plus a checked catalog, shared by every search (the CLI and the
//! app hold one each). `search` runs the stages in order and times each one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use image::RgbaImage;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::catalog::schema::ModelStamp;
use crate::error::{EngineError, Result};
use crate::models::manifest::{OutputRef, ProfileSpec, RouterKind};
use crate::models::{InferenceCache, Manifest, ModelRegistry, RuntimeOptions};
use crate::stages::decode::{self, DecodeOptions, ImageInfo};
use crate::stages::rerank::{self, BlendWeights, Scored};
use crate::stages::route::{self, CategoryScore, Route, RouteReason};
use crate::stages::segment::{self, SegmentOptions, SegmentationInfo};
use crate::stages::{color, embed, retrieve, texture};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Folder holding `manifest.toml` and the model files.
    pub models_dir: PathBuf,
    pub catalog_dir: PathBuf,
    /// `None`: the profile the catalog was built with.
    pub profile: Option<String>,
    pub runtime: RuntimeOptions,
    /// Allow models marked `weights = "random-init"` (tests and benchmarks of the code path only).
    pub allow_random_weights: bool,
    pub decode: DecodeOptions,
    pub segment: SegmentOptions,
}

impl EngineConfig {
    pub fn new(models_dir: impl Into<PathBuf>, catalog_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            models_dir: models_dir.into(),
            catalog_dir: catalog_dir.into(),
            profile: None,
            runtime: RuntimeOptions::default(),
            allow_random_weights: false,
            decode: DecodeOptions::default(),
            segment: SegmentOptions::default(),
        }
    }
}

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

/// Milliseconds spent in each stage. A model pass is charged to the first stage that needs it
/// (in the lite profile the router's pass also yields the embedding and the texture descriptor).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub decode: f64,
    pub segment: f64,
    pub route: f64,
    pub embed: f64,
    pub retrieve: f64,
    pub texture: f64,
    pub color: f64,
    pub rerank: f64,
    pub total: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub rank: usize,
    pub id: String,
    pub name: String,
    pub category: String,
    pub price: Option<f64>,
    pub currency: Option<String>,
    pub score: f32,
    pub semantic: f32,
    pub texture: f32,
    pub color: f32,
    /// The catalog image's file name.
    pub source_image: String,
    /// Path of the thumbnail (catalog folder joined with the catalog's relative path).
    pub thumbnail: String,
    /// False for items topped up from other categories because the routed ones ran short.
    pub routed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteSummary {
    pub reason: RouteReason,
    pub searched: Vec<String>,
    pub confidence: f32,
}

#[derive(Clone, Serialize)]
pub struct SearchResult {
    pub image: ImageInfo,
    pub categories: Vec<CategoryScore>,
    pub route: RouteSummary,
    pub segmentation: SegmentationInfo,
    pub results: Vec<Hit>,
    /// The shortlist in semantic order, before rerank (only with `include_candidates`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Hit>,
    pub timings_ms: Timings,
    /// The product cut-out (RGBA, transparent background) for display.
    #[serde(skip)]
    pub cutout: RgbaImage,
    /// The segmentation mask over the whole working image (designer view).
    #[serde(skip)]
    pub mask: image::GrayImage,
}

impl SearchResult {
    /// A shortlist (a search's `candidates`, made with `include_candidates`) re-ranked under
    /// other blend weights exactly as the search itself ranks (routed categories first), without
    /// running the models again: `lookalike eval` compares blends this way.
    pub fn rank_shortlist(shortlist: &[Hit], weights: &BlendWeights, top_k: usize) -> Vec<Hit> {
        let scored: Vec<(Scored, bool)> = shortlist
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let s = Scored {
                    row: i,
                    semantic: h.semantic,
                    texture: h.texture,
                    color: h.color,
                    score: 0.0,
                };
                (s, h.routed)
            })
            .collect();
        rerank::rank_routed_first(&scored, weights, top_k.min(scored.len()))
            .iter()
            .enumerate()
            .map(|(i, (s, _))| Hit {
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
            .field("timings_ms", &self.timings_ms)
            .field("cutout", &self.cutout.dimensions())
            .field("mask", &self.mask.dimensions())
            .finish()
    }
}

pub struct Engine {
    models: ModelRegistry,
    profile_name: String,
    profile: ProfileSpec,
    catalog: Catalog,
    decode: DecodeOptions,
    segment: SegmentOptions,
    /// Built once from the catalog (class-table router only).
    class_table: Option<route::ClassTable>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl Engine {
    /// Loads the manifest, the catalog and every model a search needs, and checks the catalog was
    /// built with these very models.
    pub fn open(config: EngineConfig) -> Result<Self> {
        let manifest = Manifest::load(&config.models_dir)?;
        let catalog = Catalog::open(&config.catalog_dir)?;
        let profile_name = config
            .profile
            .clone()
            .unwrap_or_else(|| catalog.file.profile.clone());
        if profile_name != catalog.file.profile {
            return Err(EngineError::CatalogMismatch {
                path: catalog.dir.clone(),
                detail: format!(
                    "it was built with profile `{}`, the search asks for `{profile_name}`",
                    catalog.file.profile
                ),
            });
        }
        let profile = manifest.profile(&profile_name)?.clone();
        let models = ModelRegistry::new(
            manifest,
            config.runtime.clone(),
            config.allow_random_weights,
        );
        for id in profile.query_models() {
            models.get(&id)?;
        }
        let mut engine = Engine {
            models,
            profile_name,
            profile,
            catalog,
            decode: config.decode,
            segment: config.segment,
            class_table: None,
        };
        engine.check_catalog()?;
        if engine.profile.router.kind == RouterKind::ClassTable {
            let cats = &engine.catalog.file.categories;
            let classes = engine
                .models
                .manifest()
                .output_spec(&engine.profile.router.output_ref())
                .map_or(0, |o| o.len());
            let curated: Vec<&[u32]> = cats
                .iter()
                .map(|c| c.def.imagenet_classes.as_slice())
                .collect();
            let learned: Vec<&[(u32, f32)]> =
                cats.iter().map(|c| c.learned_classes.as_slice()).collect();
            engine.class_table = Some(route::ClassTable::new(classes, &curated, &learned));
        }
        Ok(engine)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn profile_name(&self) -> &str {
        &self.profile_name
    }

    pub fn models(&self) -> &ModelRegistry {
        &self.models
    }

    fn check_catalog(&self) -> Result<()> {
        let file = &self.catalog.file;
        let mismatch = |detail: String| EngineError::CatalogMismatch {
            path: self.catalog.dir.clone(),
            detail,
        };
        let stamp_ok = |part: &str, stamp: &ModelStamp, want: &OutputRef| -> Result<()> {
            let model = self.models.get(&want.model)?;
            if stamp.model != want.model || stamp.output != want.output {
                return Err(mismatch(format!(
                    "its {part} is `{}`.`{}`, the profile uses `{}`.`{}`",
                    stamp.model, stamp.output, want.model, want.output
                )));
            }
            if stamp.sha256 != model.sha256 {
                return Err(mismatch(format!(
                    "its {part} vectors come from `{}` sha256 {}, the loaded file is sha256 {} (re-index the catalog)",
                    stamp.model, stamp.sha256, model.sha256
                )));
            }
            Ok(())
        };
        stamp_ok(
            "router",
            &file.models.router,
            &self.profile.router.output_ref(),
        )?;
        stamp_ok("texture", &file.models.texture, &self.profile.texture)?;
        for c in &file.categories {
            let want = self.profile.experts.get(&c.def.expert).ok_or_else(|| {
                mismatch(format!(
                    "category `{}` uses expert `{}`, which profile `{}` lacks",
                    c.def.name, c.def.expert, self.profile_name
                ))
            })?;
            let stamp = file.models.experts.get(&c.def.expert).ok_or_else(|| {
                mismatch(format!(
                    "category `{}` uses expert `{}`, which the catalog does not record",
                    c.def.name, c.def.expert
                ))
            })?;
            stamp_ok(&format!("expert `{}`", c.def.expert), stamp, want)?;
        }
        let manifest = self.models.manifest();
        let dims = |r: &OutputRef| manifest.output_spec(r).map_or(0, |o| o.len());
        if let Some(r) = self
            .profile
            .experts
            .values()
            .find(|r| dims(r) != file.dims.embedding)
        {
            return Err(mismatch(format!(
                "embeddings have {} dims, `{}`.`{}` gives {}",
                file.dims.embedding,
                r.model,
                r.output,
                dims(r)
            )));
        }
        if dims(&self.profile.texture) != file.dims.texture {
            return Err(mismatch(format!(
                "texture vectors have {} dims, the profile's texture gives {}",
                file.dims.texture,
                dims(&self.profile.texture)
            )));
        }
        let router_kind = self.profile.router.kind;
        if file.router.kind != router_kind {
            return Err(mismatch(format!(
                "router kind {:?}, the profile uses {router_kind:?}",
                file.router.kind
            )));
        }
        let classes = dims(&self.profile.router.output_ref());
        for c in &file.categories {
            match router_kind {
                RouterKind::ClassTable => {
                    if c.def.imagenet_classes.is_empty()
                        || c.def
                            .imagenet_classes
                            .iter()
                            .any(|k| *k as usize >= classes)
                    {
                        return Err(mismatch(format!(
                            "category `{}` needs class ids in 0..{classes}",
                            c.def.name
                        )));
                    }
                }
                RouterKind::TextPrototypes => {
                    if c.prototype.is_none() {
                        return Err(mismatch(format!(
                            "category `{}` has no text prototype",
                            c.def.name
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn search(&self, bytes: &[u8], opts: &SearchOptions) -> Result<SearchResult> {
        let start = Instant::now();
        let mut t = Timings::default();
        let weights = opts.weights.unwrap_or(self.catalog.file.blend);
        weights.validate()?;
        if opts.top_k == 0 || opts.candidates < opts.top_k {
            return Err(EngineError::InvalidOptions(format!(
                "top_k ({}) must be at least 1 and at most candidates ({})",
                opts.top_k, opts.candidates
            )));
        }
        let override_index = match &opts.category {
            Some(name) => Some(
                self.catalog
                    .category_index(name)
                    .ok_or_else(|| EngineError::UnknownCategory(name.clone()))?,
            ),
            None => None,
        };

        let s = Instant::now();
        let decoded = decode::decode(bytes, &self.decode)?;
        t.decode = ms(s);

        let s = Instant::now();
        let segmenter = if decoded.info.alpha_cutout {
            None
        } else {
            Some(self.models.get(&self.profile.segmenter)?)
        };
        let seg = segment::segment(&decoded, segmenter.as_deref(), &self.segment)?;
        t.segment = ms(s);

        let mut inference = InferenceCache::new(&self.models, &seg.cutout);
        let s = Instant::now();
        let mut route = self.route(&mut inference)?;
        if let Some(i) = override_index {
            route = route::overridden(route, &self.catalog.category_names(), i);
        }
        t.route = ms(s);

        // embed + retrieve: one query embedding per expert output in use, routed categories first,
        // topped up from other categories (same-space experts first) when they hold too few items.
        let s = Instant::now();
        let mut queries: HashMap<OutputRef, Vec<f32>> = HashMap::new();
        for &ci in &route.selected {
            let r = self.expert_of(ci)?;
            if !queries.contains_key(r) {
                queries.insert(r.clone(), embed::embedding(inference.output(r)?));
            }
        }
        t.embed = ms(s);

        let s = Instant::now();
        let cats = &self.catalog.file.categories;
        let emb = &self.catalog.embeddings;
        let scan = |indices: &[usize],
                    queries: &HashMap<OutputRef, Vec<f32>>|
         -> Result<Vec<(usize, f32)>> {
            // one scan per expert in use; a second expert's scores are aligned onto the first's
            // (the best-routed category's) so the merged top-50 is fair across experts
            let mut groups: Vec<(&OutputRef, Vec<std::ops::Range<usize>>)> = Vec::new();
            for &ci in indices {
                let r = self.expert_of(ci)?;
                if !queries.contains_key(r) {
                    continue;
                }
                let g = match groups.iter().position(|(gr, _)| *gr == r) {
                    Some(g) => g,
                    None => {
                        groups.push((r, Vec::new()));
                        groups.len() - 1
                    }
                };
                let [a, b] = cats[ci].rows;
                groups[g].1.push(a..b);
            }
            let mut reference = None;
            let mut scored = Vec::new();
            for (r, ranges) in &groups {
                let Some(q) = queries.get(*r) else { continue };
                let mut found =
                    retrieve::scan_top_k(&emb.data, emb.dims, ranges, q, opts.candidates);
                let from = found.moments();
                match reference {
                    None => reference = Some(from),
                    Some(to) => retrieve::align(&mut found.top, from, to),
                }
                scored.extend(found.top);
            }
            Ok(retrieve::top_k(scored, opts.candidates))
        };
        let mut extra_embed = 0.0;
        let mut shortlist: Vec<(usize, f32, bool)> = scan(&route.selected, &queries)?
            .into_iter()
            .map(|(r, sc)| (r, sc, true))
            .collect();
        let rest: Vec<usize> = (0..cats.len())
            .filter(|i| !route.selected.contains(i))
            .collect();
        if shortlist.len() < opts.candidates && !rest.is_empty() {
            let mut extra = scan(&rest, &queries)?;
            if shortlist.len() + extra.len() < opts.top_k {
                // other experts' spaces: embed the query with them too
                let e = Instant::now();
                for &ci in &rest {
                    let r = self.expert_of(ci)?;
                    if !queries.contains_key(r) {
                        queries.insert(r.clone(), embed::embedding(inference.output(r)?));
                    }
                }
                extra_embed = ms(e);
                extra = scan(&rest, &queries)?;
            }
            let room = opts.candidates - shortlist.len();
            shortlist.extend(extra.into_iter().take(room).map(|(r, sc)| (r, sc, false)));
        }
        t.retrieve = ms(s) - extra_embed;
        t.embed += extra_embed;

        let s = Instant::now();
        let tq = texture::descriptor(
            inference.output(&self.profile.texture)?,
            &self.catalog.file.texture_center,
        );
        let tex: Vec<f32> = shortlist
            .iter()
            .map(|(r, ..)| texture::similarity(&tq, self.catalog.texture.row(*r)))
            .collect();
        t.texture = ms(s);

        let s = Instant::now();
        let qsig = color::signature(&seg.cutout);
        let col: Vec<f32> = shortlist
            .iter()
            .map(|(r, ..)| color::similarity(&qsig, self.catalog.colors.row(*r)))
            .collect();
        t.color = ms(s);

        let s = Instant::now();
        let scored: Vec<(Scored, bool)> = shortlist
            .iter()
            .zip(tex.iter().zip(&col))
            .map(|((row, semantic, routed), (texture, color))| {
                let s = Scored {
                    row: *row,
                    semantic: *semantic,
                    texture: *texture,
                    color: *color,
                    score: 0.0,
                };
                (s, *routed)
            })
            .collect();
        let results = rerank::rank_routed_first(&scored, &weights, opts.top_k)
            .iter()
            .enumerate()
            .map(|(i, (c, routed))| self.hit(i + 1, c, *routed))
            .collect();
        let candidates = if opts.include_candidates {
            scored
                .iter()
                .enumerate()
                .map(|(i, (c, routed))| {
                    let blended = Scored {
                        score: weights.blend(c.semantic, c.texture, c.color),
                        ..*c
                    };
                    self.hit(i + 1, &blended, *routed)
                })
                .collect()
        } else {
            Vec::new()
        };
        t.rerank = ms(s);
        t.total = ms(start);

        Ok(SearchResult {
            image: decoded.info,
            categories: route.scores.clone(),
            route: RouteSummary {
                reason: route.reason,
                searched: route.searched.clone(),
                confidence: route.confidence,
            },
            segmentation: seg.info,
            results,
            candidates,
            timings_ms: t,
            cutout: seg.cutout,
            mask: seg.mask,
        })
    }

    fn expert_of(&self, category: usize) -> Result<&OutputRef> {
        let expert = &self.catalog.file.categories[category].def.expert;
        self.profile
            .experts
            .get(expert)
            .ok_or_else(|| EngineError::UnknownCategory(expert.clone()))
    }

    fn route(&self, inference: &mut InferenceCache) -> Result<Route> {
        let cats = &self.catalog.file.categories;
        let names = self.catalog.category_names();
        let cfg = &self.catalog.file.router.config;
        let raw = inference.output(&self.profile.router.output_ref())?;
        Ok(match self.profile.router.kind {
            RouterKind::ClassTable => {
                let table = self
                    .class_table
                    .as_ref()
                    .ok_or_else(|| EngineError::InvalidOptions("class table not built".into()))?;
                let (shares, mass) = table.scores(raw);
                route::decide(&names, &shares, mass, cfg)
            }
            RouterKind::TextPrototypes => {
                let q = embed::embedding(raw);
                let protos: Vec<&[f32]> = cats
                    .iter()
                    .map(|c| c.prototype.as_deref().unwrap_or(&[]))
                    .collect();
                let shares = route::prototype_scores(&q, &protos, cfg.temperature);
                let best = shares.iter().copied().fold(0.0, f32::max);
                route::decide(&names, &shares, best, cfg)
            }
        })
    }

    fn hit(&self, rank: usize, c: &Scored, routed: bool) -> Hit {
        let p = &self.catalog.file.products[c.row];
        Hit {
            rank,
            id: p.id.clone(),
            name: p.name.clone(),
            category: p.category.clone(),
            price: p.price,
            currency: p.currency.clone(),
            score: c.score,
            semantic: c.semantic,
            texture: c.texture,
            color: c.color,
            source_image: p.source_image.clone(),
            thumbnail: self
                .catalog
                .thumbnail_path(p)
                .to_string_lossy()
                .into_owned(),
            routed,
        }
    }
}
