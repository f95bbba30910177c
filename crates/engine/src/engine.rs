//! `Engine`: a profile's models plus a checked catalog, shared by every search (the CLI and the
//! app hold one each). `search` is the pipeline, stage by stage, each one timed.

#[cfg(feature = "text")]
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
#[cfg(feature = "text")]
use std::sync::Mutex;

use crate::catalog::{Catalog, compat};
use crate::error::{EngineError, Result};
use crate::features::{Extractor, Features};
use crate::models::manifest::{OutputRef, ProfileSpec};
#[cfg(feature = "text")]
use crate::models::text::TextEncoder;
use crate::models::{ModelRegistry, RuntimeOptions};
use crate::result::{Hit, RouteSummary, SearchOptions, SearchResult};
use crate::stages::decode::DecodeOptions;
use crate::stages::objects::{self, DetectedObject, Region};
use crate::stages::rerank::{self, BlendWeights, Scored, Scoring};
use crate::stages::retrieve::{self, Candidate, QueryViews, SubCatalog};
use crate::stages::route::{self, Route, RouteReason, Router};
use crate::stages::segment::SegmentOptions;
use crate::stages::verdict::{MATCH_LIST, Match, MatchRule};
use crate::stages::{Clock, Stage, color, embed, segment, texture};

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

pub struct Engine {
    /// Shared with the engines [`Engine::reopen`] makes: switching catalogs loads no model again.
    models: Arc<ModelRegistry>,
    profile_name: String,
    profile: ProfileSpec,
    catalog: Catalog,
    decode: DecodeOptions,
    segment: SegmentOptions,
    router: Router,
    /// The embedding spaces in use (expert outputs), and each category's space and rows.
    spaces: Vec<OutputRef>,
    sub_catalogs: Vec<SubCatalog>,
    /// The text towers words are embedded with, by tower id, loaded on the first search with
    /// words (a SigLIP text tower is hundreds of MB; most searches never need one).
    #[cfg(feature = "text")]
    text_towers: Mutex<HashMap<String, Arc<TextEncoder>>>,
}

impl Engine {
    /// Loads the manifest, the catalog and every model a search needs, and checks the catalog was
    /// built with these very models.
    pub fn open(config: EngineConfig) -> Result<Self> {
        let manifest = crate::models::Manifest::load(&config.models_dir)?;
        let models = Arc::new(ModelRegistry::new(
            manifest,
            config.runtime,
            config.allow_random_weights,
        ));
        Self::assemble(
            models,
            &config.catalog_dir,
            config.profile,
            config.decode,
            config.segment,
        )
    }

    /// The same models and options over another catalog folder (the app's catalog switch). The
    /// catalog is checked against the models exactly as [`Engine::open`] checks it; `self` is
    /// untouched either way, so searches running on it finish on the catalog they started on.
    pub fn reopen(&self, catalog_dir: &Path) -> Result<Self> {
        Self::assemble(
            self.models.clone(),
            catalog_dir,
            None,
            self.decode.clone(),
            self.segment.clone(),
        )
    }

    fn assemble(
        models: Arc<ModelRegistry>,
        catalog_dir: &Path,
        profile: Option<String>,
        decode: DecodeOptions,
        segment: SegmentOptions,
    ) -> Result<Self> {
        let catalog = Catalog::open(catalog_dir)?;
        let profile_name = profile.unwrap_or_else(|| catalog.file.profile.clone());
        if profile_name != catalog.file.profile {
            return Err(EngineError::CatalogMismatch {
                path: catalog.dir.clone(),
                detail: format!(
                    "it was built with profile `{}`, the search asks for `{profile_name}`",
                    catalog.file.profile
                ),
            });
        }
        let profile = models.manifest().profile(&profile_name)?.clone();
        for id in profile.query_models() {
            models.get(&id)?;
        }
        compat::check(&catalog, &models, &profile_name, &profile)?;
        let classes = models
            .manifest()
            .output_spec(&profile.router.output_ref())
            .map_or(0, |o| o.len());
        let router = Router::new(&catalog.file, classes);
        let mut spaces: Vec<OutputRef> = Vec::new();
        let mut sub_catalogs = Vec::new();
        for c in &catalog.file.categories {
            // compat::check guarantees every category's expert is in the profile
            let r = profile.experts.get(&c.def.expert).ok_or_else(|| {
                EngineError::Internal(format!("expert `{}` vanished", c.def.expert))
            })?;
            let space = spaces.iter().position(|s| s == r).unwrap_or_else(|| {
                spaces.push(r.clone());
                spaces.len() - 1
            });
            sub_catalogs.push(SubCatalog {
                rows: c.rows[0]..c.rows[1],
                space,
            });
        }
        Ok(Engine {
            models,
            profile_name,
            profile,
            catalog,
            decode,
            segment,
            router,
            spaces,
            sub_catalogs,
            #[cfg(feature = "text")]
            text_towers: Mutex::default(),
        })
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

    /// The query's features, made exactly as the index builder makes a catalog item's.
    pub fn extractor(&self) -> Result<Extractor<'_>> {
        let segmenter = self.models.get(&self.profile.segmenter)?;
        Ok(Extractor::new(
            &self.models,
            &self.profile,
            Some(segmenter),
            self.decode.clone(),
            self.segment.clone(),
        ))
    }

    /// The rerank's settings for one search: the profile's tuned scoring, under the catalog's
    /// own blend when it sets one, under the caller's weights when given.
    pub fn scoring(&self, weights: Option<BlendWeights>) -> Scoring {
        let blend = weights
            .or(self.catalog.file.blend)
            .unwrap_or(self.profile.scoring.blend);
        Scoring {
            blend,
            ..self.profile.scoring
        }
    }

    /// Whether searches take words: the profile has a text tower for an expert of this catalog,
    /// and this build can run one (the engine's `text` feature: the CLI and the desktop app).
    pub fn takes_text(&self) -> bool {
        cfg!(feature = "text") && self.spaces.iter().any(|s| self.text_tower_id(s).is_some())
    }

    /// The text tower that shares the embedding space `space`, when the profile has one.
    fn text_tower_id(&self, space: &OutputRef) -> Option<&str> {
        let q = self.profile.text_query.as_ref()?;
        let manifest = self.models.manifest();
        q.towers.values().map(String::as_str).find(|id| {
            let spec = manifest.models.get(*id).and_then(|m| m.text.as_ref());
            spec.is_some_and(|t| t.image_model == space.model)
        })
    }

    /// The words' embedding in `space` (`None`: no tower shares that space).
    #[cfg(feature = "text")]
    fn text_embedding(&self, space: &OutputRef, text: &str) -> Result<Option<Vec<f32>>> {
        let Some(id) = self.text_tower_id(space) else {
            return Ok(None);
        };
        let tower = {
            let mut towers = self
                .text_towers
                .lock()
                .map_err(|_| EngineError::Internal("text tower lock poisoned".into()))?;
            match towers.get(id) {
                Some(t) => t.clone(),
                None => {
                    let t = Arc::new(TextEncoder::load(&self.models, id)?);
                    towers.insert(id.to_string(), t.clone());
                    t
                }
            }
        };
        let words = tower.embed(text)?;
        let want = self.models.manifest().output_spec(space).map(|o| o.len());
        if Some(words.len()) != want {
            return Err(EngineError::ModelMismatch {
                model: id.into(),
                detail: format!(
                    "gave {} numbers for a text; `{}`.`{}` has {}",
                    words.len(),
                    space.model,
                    space.output,
                    want.unwrap_or(0)
                ),
            });
        }
        Ok(Some(words))
    }

    #[cfg(not(feature = "text"))]
    fn text_embedding(&self, _space: &OutputRef, _text: &str) -> Result<Option<Vec<f32>>> {
        Ok(None)
    }

    /// The profile's calibrated `match` rule (`None`: uncalibrated, every search says "similar").
    pub fn match_rule(&self) -> Option<&MatchRule> {
        self.profile.match_rule.as_ref()
    }

    /// Runs one whole search on a small generated photo and throws the answer away, so the
    /// first real search does not pay for ONNX Runtime's first-run work (arena allocations,
    /// kernel choices) in every session it touches. Call it off the UI thread, after `open`.
    pub fn warm_up(&self) -> Result<()> {
        self.search(&warm_up_photo(), &SearchOptions::default())
            .map(|_| ())
    }

    pub fn search(&self, bytes: &[u8], opts: &SearchOptions) -> Result<SearchResult> {
        let scoring = match (opts.plain, opts.color) {
            (true, _) => Scoring::plain(),
            (false, None) => self.scoring(opts.weights),
            (false, Some(_)) => self.scoring(opts.weights).toward_color(),
        };
        scoring.validate()?;
        let category = self.check_options(opts)?;
        let region = opts.region.as_ref();
        let mut clock = Clock::start();

        let mut f = match opts.plain {
            true => self.extractor()?.extract_whole(bytes, region, &mut clock)?,
            false => self
                .extractor()?
                .extract_region(bytes, region, &mut clock)?,
        };
        // the plain search's "mask" is the whole frame: it has no objects to offer
        let objects = match opts.plain {
            true => Vec::new(),
            false => clock.time(Stage::Segment, || self.objects(&f.mask, opts.region)),
        };
        let route = clock.time(Stage::Route, || -> Result<Route> {
            Ok(self.router.route(f.router_input()?, category))
        })?;
        let frame_view = !opts.plain && (scoring.frame > 0.0 || opts.all_views);
        let queries = clock.time(Stage::Embed, || {
            self.embed(&mut f, &route, opts, frame_view)
        })?;
        let shortlist = clock.time(Stage::Retrieve, || {
            let emb = &self.catalog.embeddings;
            // soft routing: every category is scanned (the router weighs in at the rerank); a
            // category the caller chose is the only one
            let scope: Vec<usize> = match category {
                Some(i) => vec![i],
                None => (route.selected.iter().copied())
                    .chain((0..self.sub_catalogs.len()).filter(|i| !route.selected.contains(i)))
                    .collect(),
            };
            let (cats, k) = (&self.sub_catalogs, opts.candidates);
            let exact = retrieve::ExactScan {
                matrix: emb.data(),
                dims: emb.dims,
            };
            let int8 = self
                .catalog
                .codes
                .as_ref()
                .map(|codes| retrieve::int8::Int8Rescore {
                    codes,
                    matrix: emb.data(),
                });
            let hnsw = (self.catalog.graph.as_ref())
                .zip(self.catalog.codes.as_ref())
                .map(|(graph, codes)| retrieve::hnsw::HnswRescore {
                    graph,
                    codes,
                    matrix: emb.data(),
                    ef: retrieve::hnsw::EF_SEARCH,
                });
            let retriever: &dyn retrieve::Retriever = match (&hnsw, &int8) {
                (Some(r), _) => r,
                (None, Some(r)) => r,
                (None, None) => &exact,
            };
            let found =
                retrieve::shortlist(retriever, emb.data(), emb.dims, cats, &scope, &queries, k);
            // the values were not read when the catalog was mapped: those that rank must be numbers
            for c in &found {
                self.catalog.check_row(c.row)?;
            }
            Ok::<_, EngineError>(found)
        })?;
        let router_route = RouteSummary {
            reason: route.reason,
            searched: route.searched.clone(),
            confidence: route.confidence,
        };
        // the catalog's own images have their say on the category: the nearest products' votes
        let route = clock.time(Stage::Route, || {
            let nearest: Vec<(usize, f32)> = shortlist
                .iter()
                .filter_map(|c| {
                    // both views alike, whatever the scoring: the route does not move with it
                    Some((self.category_of(c.row)?, 0.5 * (c.cutout + c.frame)))
                })
                .collect();
            let votes = route::neighbour_shares(self.sub_catalogs.len(), &nearest);
            self.router.with_neighbours(route, &votes)
        });
        let textures = clock.time(Stage::Texture, || -> Result<Vec<f32>> {
            let q = texture::descriptor(f.texture()?, &self.catalog.file.texture_center);
            let rows = shortlist.iter().map(|c| self.catalog.texture.row(c.row));
            Ok(rows.map(|t| texture::similarity(&q, t)).collect())
        })?;
        let colors = clock.time(Stage::Color, || {
            let rows = shortlist.iter().map(|c| self.catalog.colors.row(c.row));
            match opts.color {
                Some(target) => {
                    let t = target.signature();
                    rows.map(|c| color::target_similarity(&t, c)).collect()
                }
                None => {
                    let q = f.color();
                    rows.map(|c| color::similarity(&q, c)).collect::<Vec<f32>>()
                }
            }
        });
        let (results, candidates, verdict) = clock.time(Stage::Rerank, || {
            let scored = self.scored(&shortlist, &textures, &colors, &route);
            // the verdict reads the first MATCH_LIST results whatever top_k asks for, so that a
            // shorter list never makes the first result look more alone than it is
            let ranked = rerank::rank(&scored, &scoring, opts.top_k.max(MATCH_LIST));
            let mut results = self.hits(&ranked)?;
            let verdict =
                SearchResult::judge(&results[..results.len().min(MATCH_LIST)], self.match_rule());
            // asked for another colour or for words, the photo's own product is not what is wanted
            let asked_other = opts.color.is_some() || opts.text.is_some();
            let verdict = match (verdict, asked_other) {
                (Match::Same, true) => Match::Similar,
                (v, _) => v,
            };
            results.truncate(opts.top_k);
            let candidates = match opts.include_candidates {
                true => self.hits(&rerank::blended(&scored, &scoring))?,
                false => Vec::new(),
            };
            Ok::<_, EngineError>((results, candidates, verdict))
        })?;

        Ok(SearchResult {
            image: f.image,
            categories: route.scores,
            route: RouteSummary {
                reason: route.reason,
                searched: route.searched,
                confidence: route.confidence,
            },
            segmentation: f.segmentation,
            region: opts.region,
            objects,
            color: opts.color.map(|c| c.hex()),
            text: opts.text.clone(),
            verdict,
            results,
            candidates,
            timings: clock.finish(),
            cutout: f.cutout,
            mask: f.mask,
            router_route,
        })
    }

    /// Validates the options that the weights do not cover; returns the chosen category's index.
    fn check_options(&self, opts: &SearchOptions) -> Result<Option<usize>> {
        if opts.top_k == 0 || opts.candidates < opts.top_k {
            return Err(EngineError::InvalidOptions(format!(
                "top_k ({}) must be at least 1 and at most candidates ({})",
                opts.top_k, opts.candidates
            )));
        }
        if let Some(r) = &opts.region {
            r.validate()?;
        }
        if opts.plain && opts.color.is_some() {
            return Err(EngineError::InvalidOptions(
                "the plain search ranks by the embedding alone: it takes no colour".into(),
            ));
        }
        if let Some(text) = &opts.text {
            self.check_text(text, opts.plain)?;
        }
        let Some(name) = &opts.category else {
            return Ok(None);
        };
        match self.catalog.category_index(name) {
            Some(i) => Ok(Some(i)),
            None => Err(EngineError::UnknownCategory {
                name: name.clone(),
                known: self.catalog.category_names().join(", "),
            }),
        }
    }

    fn check_text(&self, text: &str, plain: bool) -> Result<()> {
        let fail = |why: String| Err(EngineError::InvalidOptions(why));
        if plain {
            return fail("the plain search ranks by the image alone: it takes no words".into());
        }
        if text.trim().is_empty() {
            return fail("the words to refine the search with are empty".into());
        }
        if text.chars().count() > embed::MAX_TEXT_CHARS {
            return fail(format!(
                "the words to refine the search with are {} characters long; the limit is {}",
                text.chars().count(),
                embed::MAX_TEXT_CHARS
            ));
        }
        if self.profile.text_query.is_some() && !cfg!(feature = "text") {
            return fail(format!(
                "profile `{}` takes words, but this build of Lookalike has no text towers (the engine's `text` feature)",
                self.profile_name
            ));
        }
        if !self.takes_text() {
            let mut models: Vec<&str> = self.spaces.iter().map(|s| s.model.as_str()).collect();
            models.dedup();
            return fail(format!(
                "profile `{}` takes no words: its embedding model ({}) has no text tower (the full profile's SigLIP models do)",
                self.profile_name,
                models.join(", ")
            ));
        }
        Ok(())
    }

    /// The query embedded in every space retrieval needs (`None` for the others), with its
    /// whole-frame view when `frame_view` and the segmenter cut the product out of a photo;
    /// the search's words, if any, mixed into both views where a text tower shares the space.
    fn embed(
        &self,
        f: &mut Features,
        route: &Route,
        opts: &SearchOptions,
        frame_view: bool,
    ) -> Result<Vec<Option<QueryViews>>> {
        let mut queries = vec![None; self.spaces.len()];
        for space in retrieve::spaces_needed(&self.sub_catalogs, &route.selected, opts.top_k) {
            let expert = &self.spaces[space];
            let mut views = QueryViews {
                cutout: f.embedding(expert)?,
                frame: match frame_view {
                    true => f.frame_embedding(expert)?,
                    false => None,
                },
            };
            let words = match &opts.text {
                Some(text) => self.text_embedding(expert, text)?,
                None => None,
            };
            if let (Some(t), Some(q)) = (words, &self.profile.text_query) {
                views.cutout = embed::with_text(&views.cutout, &t, q.weight);
                views.frame = views.frame.map(|v| embed::with_text(&v, &t, q.weight));
            }
            queries[space] = Some(views);
        }
        Ok(queries)
    }

    /// The objects in the mask of what was searched, in shares of the whole photo.
    fn objects(&self, mask: &image::GrayImage, region: Option<Region>) -> Vec<DetectedObject> {
        let cut = segment::threshold_u8(self.segment.threshold);
        let outer = region.unwrap_or(Region::WHOLE);
        let found = objects::objects(mask, cut).into_iter();
        found
            .map(|o| DetectedObject {
                region: outer.map_from(o.region),
                area: o.area * outer.w * outer.h,
            })
            .collect()
    }

    /// The catalog category (index) a row belongs to.
    fn category_of(&self, row: usize) -> Option<usize> {
        self.sub_catalogs.iter().position(|c| c.rows.contains(&row))
    }

    /// The shortlist with every stage's score and the router prior of each row's category (none
    /// when the router is unsure or the caller chose the category).
    fn scored(
        &self,
        shortlist: &[Candidate],
        textures: &[f32],
        colors: &[f32],
        route: &Route,
    ) -> Vec<Scored> {
        let opinion = !matches!(route.reason, RouteReason::Unsure | RouteReason::Override);
        let share = |cat: Option<usize>| match (opinion, cat) {
            (true, Some(c)) => route.shares.get(c).copied().unwrap_or(0.0),
            _ => 0.0,
        };
        let parts = shortlist.iter().zip(textures.iter().zip(colors));
        parts
            .map(|(c, (t, col))| {
                let cat = self.category_of(c.row);
                Scored {
                    prior: share(cat),
                    routed: cat.is_some_and(|i| route.selected.contains(&i)),
                    ..Scored::new(c.row, c.cutout, c.frame, *t, *col)
                }
            })
            .collect()
    }

    /// The shown hits, each read from its product record.
    fn hits(&self, scored: &[Scored]) -> Result<Vec<Hit>> {
        let hit = |(i, s): (usize, &Scored)| -> Result<Hit> {
            let p = self.catalog.product(s.row)?;
            Ok(Hit {
                rank: i + 1,
                id: p.id.clone(),
                name: p.name.clone(),
                category: p.category.clone(),
                price: p.price,
                currency: p.currency.clone(),
                score: s.score,
                semantic: s.semantic,
                semantic_cutout: s.cutout,
                semantic_frame: s.frame,
                texture: s.texture,
                color: s.color,
                route_share: s.prior,
                source_image: p.source_image.clone(),
                routed: s.routed,
                swatches: color::palette_similarities(self.catalog.colors.row(s.row)),
            })
        };
        scored.iter().enumerate().map(hit).collect()
    }
}

/// A 256x192 PNG: a warm grey background and a darker ellipse, so every stage has work to do.
fn warm_up_photo() -> Vec<u8> {
    use image::ImageEncoder as _;
    let (w, h) = (256u32, 192u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 / w as f32 - 0.5, y as f32 / h as f32 - 0.5);
        if dx * dx / 0.09 + dy * dy / 0.06 < 1.0 {
            image::Rgb([150, 60, 40])
        } else {
            image::Rgb([225, 220, 210])
        }
    });
    let mut out = Vec::new();
    // encoding a buffer `image` sized itself into a Vec cannot fail; an empty result would only
    // make the warm-up report a decode error
    let _ = image::codecs::png::PngEncoder::new(&mut out).write_image(
        img.as_raw(),
        w,
        h,
        image::ExtendedColorType::Rgb8,
    );
    out
}
