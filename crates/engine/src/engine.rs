//! `Engine`: a profile's models plus a checked catalog, shared by every search (the CLI and the
//! app hold one each). `search` is the pipeline, stage by stage, each one timed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::{Catalog, compat};
use crate::error::{EngineError, Result};
use crate::features::{Extractor, Features};
use crate::models::manifest::{OutputRef, ProfileSpec};
use crate::models::{ModelRegistry, RuntimeOptions};
use crate::result::{Hit, RouteSummary, SearchOptions, SearchResult};
use crate::stages::decode::DecodeOptions;
use crate::stages::rerank::{self, Scored};
use crate::stages::retrieve::{self, Candidate, SubCatalog};
use crate::stages::route::{Route, Router};
use crate::stages::segment::SegmentOptions;
use crate::stages::{Clock, Stage, texture};

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

    pub fn search(&self, bytes: &[u8], opts: &SearchOptions) -> Result<SearchResult> {
        let weights = opts.weights.unwrap_or(self.catalog.file.blend);
        weights.validate()?;
        let category = self.check_options(opts)?;
        let mut clock = Clock::start();

        let mut f = self.extractor()?.extract(bytes, &mut clock)?;
        let route = clock.time(Stage::Route, || -> Result<Route> {
            Ok(self.router.route(f.router_input()?, category))
        })?;
        let queries = clock.time(Stage::Embed, || self.embed(&mut f, &route, opts.top_k))?;
        let shortlist = clock.time(Stage::Retrieve, || {
            let emb = &self.catalog.embeddings;
            let (cats, k) = (&self.sub_catalogs, opts.candidates);
            retrieve::shortlist(&emb.data, emb.dims, cats, &route.selected, &queries, k)
        });
        let textures = clock.time(Stage::Texture, || -> Result<Vec<f32>> {
            let q = texture::descriptor(f.texture()?, &self.catalog.file.texture_center);
            let rows = shortlist.iter().map(|c| self.catalog.texture.row(c.row));
            Ok(rows.map(|t| texture::similarity(&q, t)).collect())
        })?;
        let colors = clock.time(Stage::Color, || {
            let q = f.color();
            let rows = shortlist.iter().map(|c| self.catalog.colors.row(c.row));
            rows.map(|c| crate::stages::color::similarity(&q, c))
                .collect::<Vec<f32>>()
        });
        let (results, candidates) = clock.time(Stage::Rerank, || {
            let scored = scored(&shortlist, &textures, &colors);
            let results = rerank::rank(&scored, &weights, opts.top_k);
            let candidates = match opts.include_candidates {
                true => rerank::blended(&scored, &weights),
                false => Vec::new(),
            };
            (self.hits(&results), self.hits(&candidates))
        });

        Ok(SearchResult {
            image: f.image,
            categories: route.scores,
            route: RouteSummary {
                reason: route.reason,
                searched: route.searched,
                confidence: route.confidence,
            },
            segmentation: f.segmentation,
            results,
            candidates,
            timings: clock.finish(),
            cutout: f.cutout,
            mask: f.mask,
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

    /// The query embedded in every space retrieval needs (`None` for the others).
    fn embed(
        &self,
        f: &mut Features,
        route: &Route,
        top_k: usize,
    ) -> Result<Vec<Option<Vec<f32>>>> {
        let mut queries = vec![None; self.spaces.len()];
        for space in retrieve::spaces_needed(&self.sub_catalogs, &route.selected, top_k) {
            queries[space] = Some(f.embedding(&self.spaces[space])?);
        }
        Ok(queries)
    }

    fn hits(&self, scored: &[Scored]) -> Vec<Hit> {
        let products = &self.catalog.file.products;
        let hit = |(i, s): (usize, &Scored)| {
            let p = &products[s.row];
            Hit {
                rank: i + 1,
                id: p.id.clone(),
                name: p.name.clone(),
                category: p.category.clone(),
                price: p.price,
                currency: p.currency.clone(),
                score: s.score,
                semantic: s.semantic,
                texture: s.texture,
                color: s.color,
                source_image: p.source_image.clone(),
                routed: s.routed,
            }
        };
        scored.iter().enumerate().map(hit).collect()
    }
}

fn scored(shortlist: &[Candidate], textures: &[f32], colors: &[f32]) -> Vec<Scored> {
    let parts = shortlist.iter().zip(textures.iter().zip(colors));
    parts
        .map(|(c, (t, col))| Scored::new(c.row, c.semantic, *t, *col, c.routed))
        .collect()
}
