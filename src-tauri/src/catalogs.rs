//! The Catalogs panel's backend: which catalog is in use, opening a catalog folder, importing a
//! `.lookalike` bundle, building or updating one from a folder of images and a products file
//! (desktop), and the health report. Long jobs run one at a time on the blocking pool, report
//! progress as `catalog-job` events and can be cancelled.
//!
//! Every path comes from a native dialog that Rust shows, never from the web view, so the UI can
//! reach only what the user picked. Imported and built catalogs live in the app's data folder;
//! the catalog in use is remembered across restarts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use lookalike_engine::ErrorCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ApiError;
use crate::response::CatalogInfo;
use crate::state::AppState;

/// The event that carries a long job's [`JobProgress`].
pub const CATALOG_JOB_EVENT: &str = "catalog-job";

/// Test seam for the desktop end-to-end test only: WebDriver cannot click a native dialog, so
/// in a debug build, when this variable holds a JSON list of paths, each pick takes the next one
/// instead. Release builds ignore it.
pub const E2E_PICKS_ENV: &str = "LOOKALIKE_E2E_PICKS";

#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Build,
    Import,
    Health,
}

/// One step of a long job.
#[derive(Debug, Clone, Serialize, TS)]
pub struct JobProgress {
    pub job: JobKind,
    pub done: usize,
    pub total: usize,
    /// What was just done (a product id), for the progress line.
    pub item: String,
}

/// What the Catalogs panel shows.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CatalogsView {
    /// `None` while the engine loads or after it failed.
    pub current: Option<CatalogInfo>,
    /// Catalogs imported or built into the app's own storage, by name.
    pub saved: Vec<SavedCatalog>,
    /// This build can make catalogs (the desktop app; phones import them).
    pub can_build: bool,
    /// A long job is running.
    pub busy: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SavedCatalog {
    pub name: String,
    pub in_use: bool,
    /// Built here from a folder and products file that "Update" can read again.
    pub updatable: bool,
}

/// Where a built catalog's inputs are (kept beside it, so "Update" needs no new picks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Sources {
    images: PathBuf,
    products: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    catalog: PathBuf,
}

/// The app's catalog folders and the one long job that may run.
#[derive(Default)]
pub struct Catalogs {
    dirs: OnceLock<Dirs>,
    job: Mutex<Option<Arc<AtomicBool>>>,
}

#[derive(Debug, Clone)]
struct Dirs {
    /// `<app data>/catalogs/`: imported and built catalogs, one folder each.
    root: PathBuf,
    /// `<app config>/last-catalog.json`.
    memory: PathBuf,
}

/// A running job; dropping it frees the slot.
pub struct Job<'a> {
    catalogs: &'a Catalogs,
    pub cancel: Arc<AtomicBool>,
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        *self.catalogs.job.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Catalogs {
    /// Sets where catalogs are kept (the app's data and config folders); once, at start-up.
    pub fn set_dirs(&self, data: &Path, config: &Path) {
        let _ = self.dirs.set(Dirs {
            root: data.join("catalogs"),
            memory: config.join("last-catalog.json"),
        });
    }

    fn dirs(&self) -> Result<&Dirs, ApiError> {
        self.dirs.get().ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                "the app's storage folders are not known yet",
            )
        })
    }

    /// The folder a catalog called `name` is kept in, inside the app's storage.
    pub fn folder(&self, name: &str) -> Result<PathBuf, ApiError> {
        Ok(self.dirs()?.root.join(slug(name)))
    }

    /// Claims the job slot: one build, import or health check at a time.
    pub fn start_job(&self) -> Result<Job<'_>, ApiError> {
        let mut slot = self.job.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(ApiError::new(
                ErrorCode::Busy,
                "another catalog job is running: wait for it or cancel it",
            ));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        *slot = Some(cancel.clone());
        Ok(Job {
            catalogs: self,
            cancel,
        })
    }

    /// Asks the running job to stop; `false` when none runs.
    pub fn cancel(&self) -> bool {
        let slot = self.job.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .inspect(|c| c.store(true, Ordering::Relaxed))
            .is_some()
    }

    pub fn busy(&self) -> bool {
        self.job.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// The catalog in use last time, if it still looks like one.
    pub fn remembered(&self) -> Option<PathBuf> {
        let text = std::fs::read_to_string(&self.dirs().ok()?.memory).ok()?;
        let r: Remembered = serde_json::from_str(&text).ok()?;
        r.catalog
            .join(lookalike_engine::catalog::schema::CATALOG_JSON)
            .is_file()
            .then_some(r.catalog)
    }

    pub fn remember(&self, catalog: &Path) -> Result<(), ApiError> {
        let memory = &self.dirs()?.memory;
        let json = serde_json::to_string(&Remembered {
            catalog: catalog.to_path_buf(),
        })
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        write_file(memory, json.as_bytes())
    }

    /// The saved catalogs, by name; `in_use` marks the one at `current`.
    pub fn saved(&self, current: Option<&Path>) -> Vec<SavedCatalog> {
        let Ok(dirs) = self.dirs() else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(&dirs.root) else {
            return Vec::new();
        };
        let mut saved: Vec<SavedCatalog> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.join(lookalike_engine::catalog::schema::CATALOG_JSON)
                    .is_file()
            })
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?.to_string();
                (slug(&name) == name).then(|| SavedCatalog {
                    in_use: current == Some(p.as_path()),
                    updatable: self.sources(&name).is_some(),
                    name,
                })
            })
            .collect();
        saved.sort_by(|a, b| a.name.cmp(&b.name));
        saved
    }

    /// The saved catalog a build from `sources` goes to: the one built from the same files before
    /// (an update), else the first free name (`products-export-1`, then `-2`, ...), so two shops
    /// whose exports share a file name, or an imported catalog, are never overwritten by a build.
    #[cfg(desktop)]
    fn name_for_build(&self, stem: &str, sources: &Sources) -> Result<String, ApiError> {
        self.first_name(stem, |name| {
            Ok(match self.sources(name) {
                Some(s) => &s == sources,
                None => !self.folder(name)?.exists(),
            })
        })
    }

    /// The saved catalog an imported bundle of shop `shop` goes to: the folder that already holds
    /// an import of that same shop (an update), else the first free name. A built catalog (one
    /// with sources) or another shop's import is never replaced.
    fn name_for_import(&self, stem: &str, shop: &str) -> Result<String, ApiError> {
        self.first_name(stem, |name| {
            let dir = self.folder(name)?;
            Ok(self.sources(name).is_none()
                && (!dir.exists() || catalog_name(&dir).as_deref() == Some(shop)))
        })
    }

    /// The first of `stem`, `stem-2`, ... `stem-999` (as slugs) that `fits`.
    fn first_name(
        &self,
        stem: &str,
        fits: impl Fn(&str) -> Result<bool, ApiError>,
    ) -> Result<String, ApiError> {
        // room for the `-999` suffix inside slug's 48 characters
        let base: String = slug(stem).chars().take(44).collect();
        let base = base.trim_end_matches('-').to_string();
        for n in 1..=999 {
            let name = match n {
                1 => base.clone(),
                _ => format!("{base}-{n}"),
            };
            if fits(&name)? {
                return Ok(name);
            }
        }
        Err(ApiError::new(
            ErrorCode::Io,
            format!("999 saved catalogs are already called `{base}`"),
        ))
    }

    fn sources_file(&self, name: &str) -> Option<PathBuf> {
        Some(
            self.dirs()
                .ok()?
                .root
                .join(format!(".{}.sources.json", slug(name))),
        )
    }

    fn sources(&self, name: &str) -> Option<Sources> {
        let text = std::fs::read_to_string(self.sources_file(name)?).ok()?;
        serde_json::from_str(&text).ok()
    }

    #[cfg(desktop)]
    fn save_sources(&self, name: &str, sources: &Sources) -> Result<(), ApiError> {
        let file = self
            .sources_file(name)
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no storage folder"))?;
        let json = serde_json::to_string(sources)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        write_file(&file, json.as_bytes())
    }
}

/// The `name` in a saved catalog's `catalog.json`, if it reads.
fn catalog_name(dir: &Path) -> Option<String> {
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let path = dir.join(lookalike_engine::catalog::schema::CATALOG_JSON);
    let file = std::fs::File::open(path).ok()?;
    let named: Named = serde_json::from_reader(std::io::BufReader::new(file)).ok()?;
    Some(named.name)
}

/// Writes a small file through a temp file, so a crash never leaves half of it.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    let fail = |e: std::io::Error| {
        ApiError::new(
            ErrorCode::Io,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// A folder name from anything a user named: lowercase letters, digits and dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(48).collect();
    if out.is_empty() {
        "catalog".into()
    } else {
        out
    }
}

/// The panel's view of the app's catalogs.
pub fn view(state: &AppState, catalogs: &Catalogs) -> CatalogsView {
    let engine = state.engine().ok();
    CatalogsView {
        // a catalog whose samples do not read shows as none here; its status says why
        current: (engine.as_deref()).and_then(|e| crate::response::catalog_info(e).ok()),
        saved: catalogs.saved(engine.as_ref().map(|e| e.catalog().dir.as_path())),
        can_build: cfg!(desktop),
        busy: catalogs.busy(),
    }
}

/// Switches to the catalog at `dir` and remembers it.
pub fn open_impl(
    state: &AppState,
    catalogs: &Catalogs,
    dir: &Path,
) -> Result<CatalogInfo, ApiError> {
    let info = state.switch(dir)?;
    // the switch happened: failing to note it for the next start must not undo it for the UI
    if let Err(e) = catalogs.remember(dir) {
        eprintln!("lookalike: {e}");
    }
    Ok(info)
}

/// Verifies the bundle entry by entry against the loaded models and unpacks it into the app's
/// storage (replacing a saved catalog of the same name only once the new one is whole), then
/// switches to it. Anything wrong refuses the bundle whole; the catalog in use stays in use.
pub fn import_impl(
    state: &AppState,
    catalogs: &Catalogs,
    bundle: &Path,
) -> Result<CatalogInfo, ApiError> {
    use lookalike_engine::catalog::bundle::{self, BundleLimits, ModelCheck};
    let engine = state.engine()?;
    let limits = BundleLimits::default();
    let shop = bundle::read_manifest(bundle, &limits)?.name;
    let stem = bundle
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = catalogs.folder(&catalogs.name_for_import(&stem, &shop)?)?;
    let check = ModelCheck {
        models: engine.models(),
        profile: Some(engine.profile_name()),
    };
    bundle::unpack(bundle, &out, &limits, Some(check))?;
    open_impl(state, catalogs, &out)
}

/// Switches to a saved catalog, by name (looked up in the app's storage, never a free path).
pub fn switch_impl(
    state: &AppState,
    catalogs: &Catalogs,
    name: &str,
) -> Result<CatalogInfo, ApiError> {
    let saved = catalogs.saved(None);
    let found = saved
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no saved catalog `{name}`")))?;
    open_impl(state, catalogs, &catalogs.folder(&found.name)?)
}

/// Builds (or, when it exists, updates) the catalog `name` in the app's storage from a folder of
/// images and a products file, then switches to it. A failed or cancelled build leaves both the
/// catalog there and the one in use as they were.
#[cfg(desktop)]
pub fn build_impl(
    state: &AppState,
    catalogs: &Catalogs,
    images: &Path,
    products: &Path,
    job: &Job<'_>,
    progress: &mut dyn FnMut(JobProgress),
) -> Result<BuildOutcome, ApiError> {
    let sources = Sources {
        images: images.to_path_buf(),
        products: products.to_path_buf(),
    };
    let stem = products
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = catalogs.name_for_build(&stem, &sources)?;
    build_into(state, catalogs, &name, &sources, job, progress)
}

/// Builds saved catalog `name` from `sources` and switches to it.
#[cfg(desktop)]
fn build_into(
    state: &AppState,
    catalogs: &Catalogs,
    name: &str,
    sources: &Sources,
    job: &Job<'_>,
    progress: &mut dyn FnMut(JobProgress),
) -> Result<BuildOutcome, ApiError> {
    use lookalike_engine::catalog::index::{self, IndexOptions};
    let (images, products) = (&sources.images, &sources.products);
    let out = catalogs.folder(name)?;
    // first, so a catalog that is built is always one that Update can rebuild
    catalogs.save_sources(name, sources)?;
    let engine = state.engine()?;
    let mut opts = IndexOptions::new(images, products, &out, &engine.models().manifest().dir);
    opts.profile = engine.profile_name().to_string();
    opts.runtime = engine.models().runtime_options().clone();
    opts.cancel = Some(job.cancel.clone());
    let report = index::build(&opts, &mut |done, total, id| {
        progress(JobProgress {
            job: JobKind::Build,
            done,
            total,
            item: id.to_string(),
        })
    })?;
    let catalog = open_impl(state, catalogs, &out)?;
    Ok(BuildOutcome { catalog, report })
}

/// Re-runs the build of saved catalog `name` from the folder and products file it was built from.
#[cfg(desktop)]
pub fn update_impl(
    state: &AppState,
    catalogs: &Catalogs,
    name: &str,
    job: &Job<'_>,
    progress: &mut dyn FnMut(JobProgress),
) -> Result<BuildOutcome, ApiError> {
    let sources = catalogs.sources(name).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("catalog `{name}` was not built in this app: build it again from its files"),
        )
    })?;
    build_into(state, catalogs, name, &sources, job, progress)
}

/// A finished build: the catalog now in use and what the build did.
#[cfg(desktop)]
#[derive(Debug, Clone, Serialize, TS)]
pub struct BuildOutcome {
    pub catalog: CatalogInfo,
    pub report: lookalike_engine::catalog::index::IndexReport,
}

/// A picked folder or file, or `None` when the user closed the dialog.
pub enum Pick {
    Folder(&'static str),
    File(&'static str, &'static str, &'static [&'static str]),
}

/// Shows a native dialog (blocking: call it from the blocking pool).
pub fn pick<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    what: Pick,
) -> Result<Option<PathBuf>, ApiError> {
    if let Some(picks) = e2e_picks() {
        return Ok(picks.lock().unwrap_or_else(|p| p.into_inner()).pop());
    }
    use tauri_plugin_dialog::DialogExt;
    let dialog = app.dialog().file();
    let picked = match what {
        #[cfg(desktop)]
        Pick::Folder(title) => dialog.set_title(title).blocking_pick_folder(),
        // phones have no folder picker (they only import bundles, which are files)
        #[cfg(mobile)]
        Pick::Folder(_) => {
            return Err(ApiError::new(
                ErrorCode::Unsupported,
                "phones open catalogs as bundles: use Import",
            ));
        }
        Pick::File(title, filter, extensions) => dialog
            .set_title(title)
            .add_filter(filter, extensions)
            .blocking_pick_file(),
    };
    picked
        .map(|p| {
            p.into_path().map_err(|_| {
                ApiError::new(
                    ErrorCode::Unsupported,
                    "this system handed over a link, not a file path: pick a file stored on the device",
                )
            })
        })
        .transpose()
}

/// The end-to-end test's answers to the dialogs, last first (see [`E2E_PICKS_ENV`]).
fn e2e_picks() -> Option<&'static Mutex<Vec<PathBuf>>> {
    // debug builds only (the end-to-end test runs one): a release app always shows the dialogs
    if !cfg!(debug_assertions) {
        return None;
    }
    static PICKS: OnceLock<Option<Mutex<Vec<PathBuf>>>> = OnceLock::new();
    PICKS
        .get_or_init(|| {
            let text = std::env::var(E2E_PICKS_ENV).ok()?;
            let mut paths: Vec<PathBuf> = serde_json::from_str(&text).ok()?;
            paths.reverse();
            Some(Mutex::new(paths))
        })
        .as_ref()
}

/// A product's shop page, if it is a plain http(s) link (nothing else is handed to the system).
pub fn shop_url(state: &AppState, id: &str) -> Result<String, ApiError> {
    let engine = state.engine()?;
    let product = crate::state::product(&engine, id)?;
    let url = product.url.as_deref().unwrap_or_default().trim();
    let lower = url.to_ascii_lowercase();
    let web = (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    if !web {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("product `{id}` has no http(s) shop link"),
        ));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_folder_names() {
        assert_eq!(slug("products_export_1"), "products-export-1");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("Été 2026 — Shop"), "t-2026-shop");
        assert_eq!(slug("..."), "catalog");
        assert_eq!(slug(&"x".repeat(200)).len(), 48);
    }

    #[test]
    fn one_job_at_a_time_and_cancel_reaches_it() {
        let c = Catalogs::default();
        assert!(!c.cancel(), "nothing to cancel");
        let job = c.start_job().unwrap();
        assert_eq!(c.start_job().err().map(|e| e.code), Some(ErrorCode::Busy));
        assert!(c.cancel());
        assert!(job.cancel.load(Ordering::Relaxed));
        drop(job);
        assert!(!c.busy());
        assert!(c.start_job().is_ok());
    }

    #[test]
    fn remembers_the_catalog_in_use_only_while_it_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let c = Catalogs::default();
        c.set_dirs(&tmp.path().join("data"), &tmp.path().join("config"));
        assert_eq!(c.remembered(), None);
        let shop = tmp.path().join("shop");
        std::fs::create_dir(&shop).unwrap();
        c.remember(&shop).unwrap();
        assert_eq!(c.remembered(), None, "not a catalog");
        std::fs::write(shop.join("catalog.json"), "{}").unwrap();
        assert_eq!(c.remembered(), Some(shop));
    }
}
