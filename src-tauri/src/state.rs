//! The app's managed state: the engine, loaded once in the background at start-up. Commands see
//! `Loading` until it is ready (the UI shows a loading state), then share one `Arc<Engine>`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use lookalike_engine::catalog::schema::CatalogProduct;
use lookalike_engine::{Engine, EngineConfig, ErrorCode};
use serde::Serialize;
use ts_rs::TS;

use crate::error::ApiError;
use crate::response::{CatalogInfo, catalog_info};

/// Where the models and the catalog live.
#[derive(Debug, Clone)]
pub struct EnginePaths {
    pub models: PathBuf,
    pub catalog: PathBuf,
    /// ONNX Runtime library; `None`: the engine's default (`$ORT_DYLIB_PATH`, `<models>/runtime/`).
    pub dylib: Option<PathBuf>,
}

impl EnginePaths {
    /// `$LOOKALIKE_MODELS` / `$LOOKALIKE_CATALOG` first, then the bundle's resources, then (debug
    /// builds run from the repo) the repo's own `models/` and `catalog/demo/`.
    pub fn resolve(resource_dir: Option<&Path>) -> Self {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let bundled = resource_dir.map(|r| (r.join("models"), r.join("catalog").join("demo")));
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (models, catalog) = match bundled {
            Some((m, c)) if m.join("manifest.toml").is_file() => (m, c),
            _ => (repo.join("models"), repo.join("catalog").join("demo")),
        };
        let models = env("LOOKALIKE_MODELS").unwrap_or(models);
        // the wheel's versioned file name survives bundling (the unversioned symlink may not)
        let versioned = models.join("runtime").join("libonnxruntime.so.1.31.1");
        let dylib = (versioned.is_file() && std::env::var_os("ORT_DYLIB_PATH").is_none())
            .then_some(versioned);
        EnginePaths {
            models,
            catalog: env("LOOKALIKE_CATALOG").unwrap_or(catalog),
            dylib,
        }
    }

    pub fn config(&self) -> EngineConfig {
        let mut config = EngineConfig::new(&self.models, &self.catalog);
        #[cfg(mobile)]
        {
            config.runtime = crate::mobile::runtime_options();
        }
        config.runtime.dylib = self.dylib.clone();
        config
    }
}

/// The event that carries an [`EngineStatus`] when loading ends (the UI also polls `engine_status`).
pub const ENGINE_STATUS_EVENT: &str = "engine-status";

/// What `engine_status` returns and the `engine-status` event carries.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum EngineStatus {
    Loading,
    Ready { catalog: CatalogInfo },
    Error { error: ApiError },
}

enum Slot {
    Loading,
    Ready(Arc<Engine>),
    Failed(ApiError),
}

pub struct AppState {
    slot: RwLock<Slot>,
    /// What the engine was opened with (a catalog switch after a failed load starts from it).
    paths: RwLock<Option<EnginePaths>>,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            slot: RwLock::new(Slot::Loading),
            paths: RwLock::new(None),
        }
    }
}

/// An opened engine, warmed up before the UI hears it is ready: the shopper's first search then
/// costs what every later one does. A warm-up that fails is not the load's failure: the same
/// error reaches the user, with its own message, on the first real search.
fn ready(engine: Engine) -> Slot {
    if let Err(e) = engine.warm_up() {
        eprintln!("lookalike: the warm-up search failed: {e}");
    }
    Slot::Ready(Arc::new(engine))
}

impl AppState {
    /// Opens the engine (blocking: call it off the main thread) and stores the outcome.
    pub fn load(&self, paths: &EnginePaths) -> EngineStatus {
        *self.paths.write().unwrap_or_else(|p| p.into_inner()) = Some(paths.clone());
        let slot = match Engine::open(paths.config()) {
            Ok(engine) => ready(engine),
            Err(e) => Slot::Failed(e.into()),
        };
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = slot;
        self.status()
    }

    /// Like [`AppState::load`], but tries `preferred` (the catalog in use last time) first and,
    /// when it no longer opens, the configured one. The slot is written once,
    /// so the UI never sees the first attempt's failure.
    pub fn load_preferring(&self, paths: &EnginePaths, preferred: Option<PathBuf>) -> EngineStatus {
        let Some(dir) = preferred else {
            return self.load(paths);
        };
        *self.paths.write().unwrap_or_else(|p| p.into_inner()) = Some(paths.clone());
        let mut first = paths.clone();
        first.catalog = dir;
        // the configured catalog's failure is the one reported: it is the one the user can fix
        let slot = match Engine::open(first.config()).or_else(|_| Engine::open(paths.config())) {
            Ok(engine) => ready(engine),
            Err(e) => Slot::Failed(e.into()),
        };
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = slot;
        self.status()
    }

    /// Puts the catalog at `dir` in use, on the models already loaded. Searches in flight keep
    /// their `Arc<Engine>` and finish on the catalog they started on; a catalog that does not
    /// open (or does not fit the models) changes nothing.
    pub fn switch(&self, dir: &Path) -> Result<CatalogInfo, ApiError> {
        let next = match self.engine() {
            Ok(engine) => engine.reopen(dir)?,
            // still loading: the load would overwrite the switch when it ends
            Err(e) if e.code == ErrorCode::EngineNotReady => return Err(e),
            Err(_) => {
                let paths = self.paths.read().unwrap_or_else(|p| p.into_inner()).clone();
                let mut paths = paths.ok_or_else(|| {
                    ApiError::new(ErrorCode::EngineNotReady, "the models are still loading")
                })?;
                paths.catalog = dir.to_path_buf();
                Engine::open(paths.config())?
            }
        };
        let info = catalog_info(&next)?;
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Slot::Ready(Arc::new(next));
        Ok(info)
    }

    /// Records a failure from before the engine could be opened (a phone that cannot copy the
    /// bundled models and catalog out of the APK) and returns the status to emit.
    pub fn fail(&self, error: ApiError) -> EngineStatus {
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Slot::Failed(error);
        self.status()
    }

    pub fn status(&self) -> EngineStatus {
        match &*self.slot.read().unwrap_or_else(|p| p.into_inner()) {
            Slot::Loading => EngineStatus::Loading,
            // a catalog whose sample records do not read is reported, not shown half
            Slot::Ready(engine) => match catalog_info(engine) {
                Ok(catalog) => EngineStatus::Ready { catalog },
                Err(error) => EngineStatus::Error { error },
            },
            Slot::Failed(error) => EngineStatus::Error {
                error: error.clone(),
            },
        }
    }

    pub fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        match &*self.slot.read().unwrap_or_else(|p| p.into_inner()) {
            Slot::Ready(engine) => Ok(engine.clone()),
            Slot::Loading => Err(ApiError::new(
                ErrorCode::EngineNotReady,
                "the models and the catalog are still loading",
            )),
            Slot::Failed(error) => Err(error.clone()),
        }
    }

    /// The product's thumbnail JPEG, read from the catalog in use. `id` is looked up in the
    /// catalog, never joined to a path, so no request can read another file.
    pub fn thumbnail(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        let engine = self.engine()?;
        let catalog = engine.catalog();
        // checked again here: a link planted after the catalog opened is refused too
        let path = lookalike_engine::catalog::reader::safe_relative(
            &catalog.dir,
            &product(&engine, id)?.thumbnail,
        )
        .map_err(|why| ApiError::new(ErrorCode::Catalog, format!("thumbnail of `{id}`: {why}")))?;
        std::fs::read(&path).map_err(|e| {
            ApiError::new(
                ErrorCode::Catalog,
                format!("thumbnail {} cannot be read: {e}", path.display()),
            )
        })
    }
}

/// Product `id` of the engine's catalog: a look-up, never a path.
pub fn product(engine: &Engine, id: &str) -> Result<CatalogProduct, ApiError> {
    engine.catalog().product_by_id(id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("no product `{id}` in the catalog"),
        )
    })
}
