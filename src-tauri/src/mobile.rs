//! Phones: where ONNX Runtime comes from, session options that suit a phone, and the models and
//! demo catalog copied out of the APK on first run.
//!
//! On Android, Tauri's `bundle.resources` are APK *assets*: `tauri android build` copies each
//! resource to `gen/android/app/src/main/assets/<target>` (so `models/manifest.toml`,
//! `catalog/demo/catalog.json`, ...), readable only through Android's `AssetManager`, and
//! `app.path().resource_dir()` is the URI `asset://localhost/`, not a folder. The engine opens
//! models and the catalog by path (it hashes each model file and reads the `.bin` matrices), so
//! [`prepare_engine_paths`] copies them once to `app_local_data_dir()/bundled/` and copies again
//! only when the bundled data or the app version changes (a stamp file records what was copied).
//!
//! Which files to copy comes from the data, not from a list in code: the catalog's `profile` and
//! the manifest's `[profiles]` give the model files a search runs, and `catalog.json`'s products
//! give the thumbnails. The platform-neutral part ([`plan_bundle`], [`install_bundle`],
//! [`runtime_options`]) compiles and is tested everywhere; the JNI part only on Android.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use lookalike_engine::catalog::records::Records;
use lookalike_engine::catalog::schema::{
    CATALOG_JSON, CODES_BIN, COLORS_BIN, CatalogFile, EMBEDDINGS_BIN, GRAPH_BIN, PRODUCTS_IDX,
    PRODUCTS_JSONL, TEXTURE_BIN,
};
use lookalike_engine::models::{Manifest, RuntimeOptions};

/// Where `bundle.resources` puts the models (the manifest's folder), relative to the assets root.
pub const MODELS_ASSETS: &str = "models";
/// Where `bundle.resources` puts the demo catalog, relative to the assets root.
pub const CATALOG_ASSETS: &str = "catalog/demo";
/// The ONNX Runtime library that the `onnxruntime-android` AAR packages for each ABI.
pub const ORT_LIBRARY: &str = "libonnxruntime.so";
/// Folder under the app's data folder that holds the copied models and catalog.
pub const INSTALL_DIR: &str = "bundled";
/// File inside [`INSTALL_DIR`], written last: what was copied. No stamp, or another one: copy again.
pub const STAMP_FILE: &str = ".bundle-stamp";
const STAMP_FORMAT: &str = "lookalike-bundle 1";

/// Read access to the files that `bundle.resources` packaged (APK assets on Android).
pub trait AssetSource {
    /// Streams the asset at `path` (`/`-separated, relative to the assets root) into `out`.
    fn copy_to(&mut self, path: &str, out: &mut dyn Write) -> Result<u64, String>;

    fn read(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        self.copy_to(path, &mut bytes)?;
        Ok(bytes)
    }
}

/// Assets laid out in a folder, as `bundle.resources` lays them out (the repository root works:
/// `models/...`, `catalog/demo/...`). For tests and desktop tools.
#[derive(Debug, Clone)]
pub struct DirAssets(pub PathBuf);

impl AssetSource for DirAssets {
    fn copy_to(&mut self, path: &str, out: &mut dyn Write) -> Result<u64, String> {
        let full = self.0.join(path);
        let mut file = std::fs::File::open(&full)
            .map_err(|e| format!("bundled file `{path}` cannot be read: {e}"))?;
        std::io::copy(&mut file, out)
            .map_err(|e| format!("bundled file `{path}` cannot be copied: {e}"))
    }
}

/// What the bundle holds and the stamp that identifies it.
#[derive(Debug, Clone)]
pub struct BundlePlan {
    /// Asset paths to copy (`/`-separated, relative to the assets root), manifest and catalog.json first.
    pub files: Vec<String>,
    pub stamp: String,
    manifest: Vec<u8>,
    catalog: Vec<u8>,
}

/// Reads the bundled manifest and `catalog.json` and lists every file a search needs: the
/// manifest, the model files of the catalog's profile, `catalog.json`, its three matrices and
/// each product's thumbnail. Paths that would leave their folder are refused.
pub fn plan_bundle(assets: &mut dyn AssetSource, app_version: &str) -> Result<BundlePlan, String> {
    let manifest_path = format!("{MODELS_ASSETS}/manifest.toml");
    let catalog_path = format!("{CATALOG_ASSETS}/{CATALOG_JSON}");
    let manifest_bytes = assets.read(&manifest_path)?;
    let catalog_bytes = assets.read(&catalog_path)?;

    let manifest_text = std::str::from_utf8(&manifest_bytes)
        .map_err(|_| format!("bundled `{manifest_path}` is not UTF-8 text"))?;
    let manifest =
        Manifest::parse(manifest_text, Path::new(MODELS_ASSETS)).map_err(|e| e.to_string())?;
    let catalog: CatalogFile = serde_json::from_slice(&catalog_bytes)
        .map_err(|e| format!("bundled `{catalog_path}` is not a catalog: {e}"))?;
    let profile = manifest
        .profile(&catalog.profile)
        .map_err(|e| e.to_string())?;

    let mut files = vec![manifest_path, catalog_path];
    for id in profile.query_models() {
        let spec = manifest.model(&id).map_err(|e| e.to_string())?;
        files.push(join_checked(MODELS_ASSETS, &spec.file)?);
    }
    for name in [EMBEDDINGS_BIN, TEXTURE_BIN, COLORS_BIN] {
        files.push(join_checked(CATALOG_ASSETS, name)?);
    }
    if catalog.codes.is_some() {
        files.push(join_checked(CATALOG_ASSETS, CODES_BIN)?);
    }
    if catalog.ann.is_some() {
        files.push(join_checked(CATALOG_ASSETS, GRAPH_BIN)?);
    }
    // the products' records are part of what the stamp covers: a renamed product changes
    // products.jsonl, not catalog.json
    let mut records_stamp = String::new();
    let thumbnails: Vec<String> = match catalog.inline_products {
        Some(list) => list.into_iter().map(|p| p.thumbnail).collect(),
        None => {
            // version 4: the records say where each thumbnail is
            let mut read = |name: &str| -> Result<Vec<u8>, String> {
                files.push(join_checked(CATALOG_ASSETS, name)?);
                let bytes = assets.read(&format!("{CATALOG_ASSETS}/{name}"))?;
                records_stamp += &format!("{name} {:016x} {}\n", fnv1a64(&bytes), bytes.len());
                Ok(bytes)
            };
            let (lines, index) = (read(PRODUCTS_JSONL)?, read(PRODUCTS_IDX)?);
            let records =
                Records::from_bytes(lines, index).map_err(|e| format!("bundled catalog: {e}"))?;
            (records.iter().map(|p| p.map(|p| p.thumbnail)))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("bundled catalog: {e}"))?
        }
    };
    for thumbnail in &thumbnails {
        files.push(join_checked(CATALOG_ASSETS, thumbnail)?);
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));

    let stamp = format!(
        "{STAMP_FORMAT}\napp {app_version}\nmanifest {:016x} {}\ncatalog {:016x} {}\n{records_stamp}files {}\n",
        fnv1a64(&manifest_bytes),
        manifest_bytes.len(),
        fnv1a64(&catalog_bytes),
        catalog_bytes.len(),
        files.len()
    );
    Ok(BundlePlan {
        files,
        stamp,
        manifest: manifest_bytes,
        catalog: catalog_bytes,
    })
}

/// Where [`install_bundle`] left the models and the catalog.
#[derive(Debug, Clone)]
pub struct Installed {
    pub models: PathBuf,
    pub catalog: PathBuf,
    /// `false`: the stamp matched and nothing was copied.
    pub copied: bool,
}

/// Copies the bundle into `data_dir/bundled/` unless the copy there carries the same stamp.
///
/// A new copy is made in `bundled.partial/` (each file synced, the stamp written last) and then
/// renamed into place, so an interrupted copy is never mistaken for a complete one and files that
/// a newer bundle dropped do not linger. Blocking I/O: call it off the main thread.
pub fn install_bundle(
    assets: &mut dyn AssetSource,
    data_dir: &Path,
    app_version: &str,
) -> Result<Installed, String> {
    let plan = plan_bundle(assets, app_version)?;
    let root = data_dir.join(INSTALL_DIR);
    let installed = |copied| Installed {
        models: root.join(MODELS_ASSETS),
        catalog: root.join(CATALOG_ASSETS),
        copied,
    };

    let current = std::fs::read_to_string(root.join(STAMP_FILE)).unwrap_or_default();
    if current == plan.stamp && plan.files.iter().all(|f| root.join(f).is_file()) {
        return Ok(installed(false));
    }

    let io = |what: &str, path: &Path, e: std::io::Error| format!("{what} {}: {e}", path.display());
    let staging = data_dir.join(format!("{INSTALL_DIR}.partial"));
    remove_dir_if_present(&staging).map_err(|e| io("cannot clear", &staging, e))?;
    for (i, rel) in plan.files.iter().enumerate() {
        let dest = staging.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("cannot create", parent, e))?;
        }
        let file = std::fs::File::create(&dest).map_err(|e| io("cannot create", &dest, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        match i {
            0 => out
                .write_all(&plan.manifest)
                .map_err(|e| io("cannot write", &dest, e))?,
            1 => out
                .write_all(&plan.catalog)
                .map_err(|e| io("cannot write", &dest, e))?,
            _ => {
                assets.copy_to(rel, &mut out)?;
            }
        }
        let file = out
            .into_inner()
            .map_err(|e| io("cannot write", &dest, e.into_error()))?;
        file.sync_all().map_err(|e| io("cannot write", &dest, e))?;
    }
    let stamp_path = staging.join(STAMP_FILE);
    let mut stamp =
        std::fs::File::create(&stamp_path).map_err(|e| io("cannot create", &stamp_path, e))?;
    stamp
        .write_all(plan.stamp.as_bytes())
        .map_err(|e| io("cannot write", &stamp_path, e))?;
    stamp
        .sync_all()
        .map_err(|e| io("cannot write", &stamp_path, e))?;

    remove_dir_if_present(&root).map_err(|e| io("cannot replace", &root, e))?;
    std::fs::rename(&staging, &root).map_err(|e| io("cannot move the new copy to", &root, e))?;
    Ok(installed(true))
}

/// Session settings for phones: one intra-op thread per big core (at most 4: the little cores
/// only slow a parallel run down). Arena on, memory patterns off, as on the desktop: with the
/// INT8 segmenter a whole search peaks at about 250 MB on x86-64 (`cargo xtask race`), and
/// without the arena a search is 1.4x slower for no memory saved (`RuntimeOptions`).
pub fn runtime_options() -> RuntimeOptions {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let big = big_cores(Path::new("/sys/devices/system/cpu")).unwrap_or(cores);
    RuntimeOptions {
        intra_threads: big.clamp(1, 4).min(cores),
        ..RuntimeOptions::default()
    }
}

/// The cores whose top frequency (`cpuN/cpufreq/cpuinfo_max_freq`) is above the slowest
/// cluster's; every core when all share one ceiling. `None` when no frequency can be read.
pub fn big_cores(sys_cpu: &Path) -> Option<usize> {
    let mut freqs = Vec::new();
    for entry in std::fs::read_dir(sys_cpu).ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_cpu = name
            .strip_prefix("cpu")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_cpu {
            continue;
        }
        let freq = std::fs::read_to_string(entry.path().join("cpufreq/cpuinfo_max_freq"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        if let Some(f) = freq {
            freqs.push(f);
        }
    }
    let slowest = *freqs.iter().min()?;
    let big = freqs.iter().filter(|&&f| f > slowest).count();
    Some(if big == 0 { freqs.len() } else { big })
}

/// The ONNX Runtime library for `ort`'s `load-dynamic` on Android: an absolute path to a file
/// that exists, or an error that says what is missing.
///
/// The `com.microsoft.onnxruntime:onnxruntime-android` AAR (app/build.gradle.kts) puts
/// `jni/arm64-v8a/libonnxruntime.so` in the APK next to this crate's `liblookalike_app_lib.so`.
/// The Gradle project packages native libraries the legacy way (`useLegacyPackaging = true`), so
/// the installer extracts both to `ApplicationInfo.nativeLibraryDir`. The engine checks that the
/// path it is given exists before it calls `ort::init_from` (`models::runtime::environment`), so
/// a bare `libonnxruntime.so` for `dlopen` to look up would only ever fail there with "file not
/// found"; no such fallback is offered. See [`ort_dylib_in`].
#[cfg(target_os = "android")]
pub fn ort_dylib() -> Result<PathBuf, String> {
    ort_dylib_in(android::native_library_dir())
}

/// `ort_dylib` (Android only) without JNI: `dir/libonnxruntime.so` when it is a file, otherwise
/// an error naming the path (or why the folder is unknown) and the likely cause.
pub fn ort_dylib_in(native_library_dir: Result<PathBuf, String>) -> Result<PathBuf, String> {
    let dir =
        native_library_dir.map_err(|e| format!("ONNX Runtime cannot be located: the app's {e}"))?;
    let path = dir.join(ORT_LIBRARY);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "ONNX Runtime is missing: `{}` is not a file. The APK must hold \
             lib/<abi>/{ORT_LIBRARY} (the onnxruntime-android AAR) and extract it at install \
             (useLegacyPackaging = true in app/build.gradle.kts)",
            path.display()
        ))
    }
}

/// Copies the bundled models and demo catalog out of the APK (first run, or when they changed)
/// and says where they are. Blocking (JNI + file copies): the caller runs it on the engine-load
/// thread, never on the main thread.
#[cfg(target_os = "android")]
pub fn prepare_engine_paths(app: &tauri::AppHandle) -> Result<crate::state::EnginePaths, String> {
    use tauri::Manager;
    let data_dir = app
        .path()
        .app_local_data_dir()
        .map_err(|e| format!("the app's data folder is unknown: {e}"))?;
    let mut assets = android::ApkAssets::new()?;
    let installed = install_bundle(
        &mut assets,
        &data_dir,
        &app.package_info().version.to_string(),
    )?;
    Ok(crate::state::EnginePaths {
        models: installed.models,
        catalog: installed.catalog,
        dylib: Some(ort_dylib()?),
    })
}

fn join_checked(dir: &str, rel: &str) -> Result<String, String> {
    let plain = !rel.is_empty()
        && !rel.contains('\\')
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(format!(
            "bundled path `{rel}` must be relative and stay inside `{dir}`"
        ));
    }
    Ok(format!("{dir}/{rel}"))
}

fn remove_dir_if_present(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// FNV-1a, 64 bit: a stable fingerprint for the stamp (not a security check: the engine checks
/// each model's sha256 and the catalog's consistency when it opens them).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(target_os = "android")]
mod android {
    //! JNI access to the app's `Context`: `ndk-context` holds the `JavaVM` and the application
    //! context, which tao's `onCreate` records before the app's setup runs.

    use std::io::Write;
    use std::path::PathBuf;

    use jni::objects::{GlobalRef, JByteArray, JObject, JString, JValue};
    use jni::{JNIEnv, JavaVM};
    use lookalike_engine::ErrorCode;

    use super::AssetSource;
    use crate::error::ApiError;

    const CHUNK: usize = 1 << 20;

    enum Fail {
        Jni(jni::errors::Error),
        Other(String),
    }

    impl From<jni::errors::Error> for Fail {
        fn from(e: jni::errors::Error) -> Self {
            Fail::Jni(e)
        }
    }

    /// A readable message for a JNI failure; a pending Java exception is described and cleared.
    fn describe(env: &mut JNIEnv, fail: Fail) -> String {
        match fail {
            Fail::Other(message) => message,
            Fail::Jni(jni::errors::Error::JavaException) => {
                let text = env
                    .exception_occurred()
                    .ok()
                    .filter(|ex| !ex.is_null())
                    .and_then(|ex| {
                        env.exception_clear().ok()?;
                        let text = env
                            .call_method(&ex, "toString", "()Ljava/lang/String;", &[])
                            .and_then(|v| v.l())
                            .ok()?;
                        let text = JString::from(text);
                        let text: String = env.get_string(&text).ok()?.into();
                        Some(text)
                    });
                let _ = env.exception_clear();
                text.unwrap_or_else(|| "a Java exception".into())
            }
            Fail::Jni(e) => e.to_string(),
        }
    }

    fn java_vm() -> Result<(JavaVM, JObject<'static>), String> {
        let ctx = ndk_context::android_context();
        // SAFETY: tao stores the process's JavaVM and a global reference to the application
        // context in ndk-context before any app code runs; both live as long as the process.
        let vm =
            unsafe { JavaVM::from_raw(ctx.vm().cast()) }.map_err(|e| format!("no Java VM: {e}"))?;
        let context = unsafe { JObject::from_raw(ctx.context().cast()) };
        Ok((vm, context))
    }

    /// `MainActivity.shareImage(name, bytes)`: a photo shared into the app (an `ACTION_SEND`
    /// `image/*` intent, read by the activity); the UI takes it from `shared.rs`.
    #[unsafe(no_mangle)]
    pub extern "system" fn Java_app_lookalike_search_MainActivity_shareImage<'l>(
        mut env: JNIEnv<'l>,
        _activity: JObject<'l>,
        name: JString<'l>,
        bytes: JByteArray<'l>,
    ) {
        let name: String = env
            .get_string(&name)
            .map(Into::into)
            .unwrap_or_else(|_| "shared photo".into());
        let offered = env
            .convert_byte_array(&bytes)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::Io,
                    format!("cannot read the shared photo {name}: {e}"),
                )
            })
            .and_then(|bytes| crate::shared::offer(&name, bytes));
        if let Err(e) = offered {
            crate::shared::refuse(e);
        }
    }

    /// `MainActivity.shareRefused(message)`: a shared photo the activity could not read (too
    /// large, or its provider refused): the UI says so.
    #[unsafe(no_mangle)]
    pub extern "system" fn Java_app_lookalike_search_MainActivity_shareRefused<'l>(
        mut env: JNIEnv<'l>,
        _activity: JObject<'l>,
        message: JString<'l>,
    ) {
        let message: String = env
            .get_string(&message)
            .map(Into::into)
            .unwrap_or_else(|_| "the shared photo could not be read".into());
        crate::shared::refuse(ApiError::new(ErrorCode::Io, message));
    }

    /// `context.getApplicationInfo().nativeLibraryDir`.
    pub fn native_library_dir() -> Result<PathBuf, String> {
        let (vm, context) = java_vm()?;
        let mut env = vm
            .attach_current_thread()
            .map_err(|e| format!("cannot attach to the Java VM: {e}"))?;
        let result = env.with_local_frame(8, |env| -> Result<String, Fail> {
            let info = env
                .call_method(
                    &context,
                    "getApplicationInfo",
                    "()Landroid/content/pm/ApplicationInfo;",
                    &[],
                )?
                .l()?;
            let dir = JString::from(
                env.get_field(&info, "nativeLibraryDir", "Ljava/lang/String;")?
                    .l()?,
            );
            let dir: String = env.get_string(&dir)?.into();
            Ok(dir)
        });
        result
            .map(PathBuf::from)
            .map_err(|f| format!("nativeLibraryDir: {}", describe(&mut env, f)))
    }

    /// The APK's assets, through the application's `AssetManager`.
    pub struct ApkAssets {
        vm: JavaVM,
        manager: GlobalRef,
    }

    impl ApkAssets {
        pub fn new() -> Result<Self, String> {
            let (vm, context) = java_vm()?;
            let manager = {
                let mut env = vm
                    .attach_current_thread()
                    .map_err(|e| format!("cannot attach to the Java VM: {e}"))?;
                let result = env.with_local_frame(4, |env| -> Result<GlobalRef, Fail> {
                    let manager = env
                        .call_method(
                            &context,
                            "getAssets",
                            "()Landroid/content/res/AssetManager;",
                            &[],
                        )?
                        .l()?;
                    Ok(env.new_global_ref(manager)?)
                });
                result.map_err(|f| {
                    format!(
                        "the APK's assets cannot be opened: {}",
                        describe(&mut env, f)
                    )
                })?
            };
            Ok(ApkAssets { vm, manager })
        }
    }

    impl AssetSource for ApkAssets {
        fn copy_to(&mut self, path: &str, out: &mut dyn Write) -> Result<u64, String> {
            let mut env = self
                .vm
                .attach_current_thread()
                .map_err(|e| format!("cannot attach to the Java VM: {e}"))?;
            let manager = self.manager.as_obj();
            let result = env.with_local_frame(8, |env| -> Result<u64, Fail> {
                let name = env.new_string(path)?;
                let stream = env
                    .call_method(
                        manager,
                        "open",
                        "(Ljava/lang/String;)Ljava/io/InputStream;",
                        &[JValue::Object(&name)],
                    )?
                    .l()?;
                let copied = copy_stream(env, &stream, out);
                // close even after a failed read; a pending exception must be cleared first
                let copied = copied.map_err(|f| Fail::Other(describe(env, f)));
                let _ = env.call_method(&stream, "close", "()V", &[]);
                let _ = env.exception_clear();
                copied
            });
            result.map_err(|f| {
                format!(
                    "bundled file `{path}` cannot be read from the APK: {}",
                    describe(&mut env, f)
                )
            })
        }
    }

    fn copy_stream(env: &mut JNIEnv, stream: &JObject, out: &mut dyn Write) -> Result<u64, Fail> {
        let buf = env.new_byte_array(CHUNK as i32)?;
        let mut chunk = vec![0i8; CHUNK];
        let mut bytes = Vec::with_capacity(CHUNK);
        let mut total = 0u64;
        loop {
            let n = env
                .call_method(stream, "read", "([B)I", &[JValue::Object(&buf)])?
                .i()?;
            let Ok(n) = usize::try_from(n) else {
                return Ok(total);
            }; // -1: end of stream
            env.get_byte_array_region(&buf, 0, &mut chunk[..n])?;
            bytes.clear();
            bytes.extend(chunk[..n].iter().map(|&b| b as u8));
            out.write_all(&bytes)
                .map_err(|e| Fail::Other(e.to_string()))?;
            total += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The repository is laid out as `bundle.resources` lays out the APK's assets.
    fn repo_assets() -> DirAssets {
        let root = repo();
        assert!(
            root.join(CATALOG_ASSETS).join(CATALOG_JSON).is_file()
                && root.join("models/u2netp_int8.onnx").is_file(),
            "the demo catalog and models are missing: run `bash scripts/setup.sh` first"
        );
        DirAssets(root)
    }

    /// In-memory assets that count reads.
    struct MemAssets {
        files: HashMap<String, Vec<u8>>,
        reads: usize,
    }

    impl AssetSource for MemAssets {
        fn copy_to(&mut self, path: &str, out: &mut dyn Write) -> Result<u64, String> {
            self.reads += 1;
            let bytes = self
                .files
                .get(path)
                .ok_or_else(|| format!("bundled file `{path}` is missing"))?;
            out.write_all(bytes).map_err(|e| e.to_string())?;
            Ok(bytes.len() as u64)
        }
    }

    fn catalog_json() -> serde_json::Value {
        let text = std::fs::read(repo_assets().0.join(CATALOG_ASSETS).join(CATALOG_JSON)).unwrap();
        serde_json::from_slice(&text).unwrap()
    }

    /// The demo catalog's products, read as the engine reads them.
    fn demo_products() -> Vec<lookalike_engine::catalog::schema::CatalogProduct> {
        let dir = repo_assets().0.join(CATALOG_ASSETS);
        let catalog = lookalike_engine::Catalog::open(&dir).unwrap();
        catalog.all_products().unwrap()
    }

    fn mem_assets(
        catalog: &serde_json::Value,
        products: &[lookalike_engine::catalog::schema::CatalogProduct],
    ) -> MemAssets {
        let mut files = HashMap::new();
        let (lines, index) = lookalike_engine::catalog::records::encode(products).unwrap();
        files.insert(format!("{CATALOG_ASSETS}/{PRODUCTS_JSONL}"), lines);
        files.insert(format!("{CATALOG_ASSETS}/{PRODUCTS_IDX}"), index);
        files.insert(
            "models/manifest.toml".into(),
            std::fs::read(repo().join("models/manifest.toml")).unwrap(),
        );
        files.insert(
            "catalog/demo/catalog.json".into(),
            serde_json::to_vec(catalog).unwrap(),
        );
        MemAssets { files, reads: 0 }
    }

    #[test]
    fn plan_comes_from_the_manifest_and_the_catalog() {
        let plan = plan_bundle(&mut repo_assets(), "0.1.0").unwrap();
        let products = demo_products();
        assert!(!products.is_empty());
        for p in &products {
            let thumb = format!("catalog/demo/{}", p.thumbnail);
            assert!(plan.files.contains(&thumb), "{thumb} is not planned");
        }
        // searches run INT8 U2Netp and EfficientNet-Lite0; the indexer's FP32 U2Netp and the
        // optional U2Net are not copied
        for f in [
            "models/manifest.toml",
            "models/u2netp_int8.onnx",
            "models/efficientnet_lite0.onnx",
            "catalog/demo/catalog.json",
            "catalog/demo/products.jsonl",
            "catalog/demo/products.idx",
            "catalog/demo/embeddings.bin",
            "catalog/demo/texture.bin",
            "catalog/demo/color_signatures.bin",
        ] {
            assert!(plan.files.contains(&f.to_string()), "{f} is not planned");
        }
        assert!(!plan.files.iter().any(|f| f.ends_with("u2net.onnx")
            || f.ends_with("u2netp.onnx")
            || f.contains("runtime")));
        let thumbs_on_disk = std::fs::read_dir(repo().join("catalog/demo/thumbs"))
            .unwrap()
            .count();
        assert_eq!(plan.files.len(), 9 + thumbs_on_disk);
        assert!(plan.stamp.contains("app 0.1.0"));
    }

    #[test]
    fn install_copies_once_then_only_when_the_bundle_changes() {
        let data = tempfile::tempdir().unwrap();
        let mut assets = repo_assets();
        let first = install_bundle(&mut assets, data.path(), "0.1.0").unwrap();
        assert!(first.copied);
        assert_eq!(first.models, data.path().join("bundled/models"));
        assert_eq!(first.catalog, data.path().join("bundled/catalog/demo"));
        for f in ["models/u2netp_int8.onnx", "catalog/demo/embeddings.bin"] {
            assert_eq!(
                std::fs::read(data.path().join("bundled").join(f)).unwrap(),
                std::fs::read(repo().join(f)).unwrap()
            );
        }
        assert!(!data.path().join("bundled.partial").exists());

        assert!(
            !install_bundle(&mut assets, data.path(), "0.1.0")
                .unwrap()
                .copied
        );

        // a file the new bundle does not have is gone after the update
        let stale = data.path().join("bundled/catalog/demo/thumbs/stale.jpg");
        std::fs::write(&stale, b"old").unwrap();
        assert!(
            install_bundle(&mut assets, data.path(), "0.2.0")
                .unwrap()
                .copied
        );
        assert!(!stale.exists());

        // a copy that lost a file is made again
        std::fs::remove_file(data.path().join("bundled/catalog/demo/texture.bin")).unwrap();
        assert!(
            install_bundle(&mut assets, data.path(), "0.2.0")
                .unwrap()
                .copied
        );
    }

    #[test]
    fn the_installed_copy_opens_with_the_phone_options() {
        let data = tempfile::tempdir().unwrap();
        let installed = install_bundle(&mut repo_assets(), data.path(), "0.1.0").unwrap();
        let mut config = lookalike_engine::EngineConfig::new(&installed.models, &installed.catalog);
        config.runtime = runtime_options();
        let engine =
            lookalike_engine::Engine::open(config).expect("the copied models and catalog open");
        assert_eq!(engine.catalog().len(), demo_products().len());
    }

    #[test]
    fn a_renamed_product_changes_the_stamp() {
        // catalog.json is the same; only products.jsonl says the new name
        let plan =
            |products: &[_]| plan_bundle(&mut mem_assets(&catalog_json(), products), "0.1.0");
        let mut products = demo_products();
        let before = plan(&products).unwrap().stamp;
        assert!(before.contains("products.jsonl "), "{before}");
        products[0].name.push('!');
        assert_ne!(plan(&products).unwrap().stamp, before);
    }

    #[test]
    fn hostile_or_missing_files_are_refused_with_their_name() {
        let mut products = demo_products();
        products[0].thumbnail = "../../../shared_prefs/x.xml".into();
        let err = plan_bundle(&mut mem_assets(&catalog_json(), &products), "0.1.0").unwrap_err();
        assert!(err.contains("../../../shared_prefs/x.xml"), "{err}");

        // records that do not parse are named, not skipped
        let mut assets = mem_assets(&catalog_json(), &demo_products());
        let lines = format!("{CATALOG_ASSETS}/{PRODUCTS_JSONL}");
        assets.files.get_mut(&lines).unwrap()[0] = b'[';
        let err = plan_bundle(&mut assets, "0.1.0").unwrap_err();
        assert!(err.contains("products.jsonl line 1"), "{err}");

        let data = tempfile::tempdir().unwrap();
        let mut assets = mem_assets(&catalog_json(), &demo_products());
        let err = install_bundle(&mut assets, data.path(), "0.1.0").unwrap_err();
        assert!(err.contains("models/u2netp_int8.onnx"), "{err}");
        assert!(
            !data.path().join(INSTALL_DIR).exists(),
            "nothing half-copied is installed"
        );
    }

    #[test]
    fn ort_dylib_is_only_a_path_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        // no library in nativeLibraryDir: an error naming the path, never a bare name
        let err = ort_dylib_in(Ok(dir.path().to_path_buf())).unwrap_err();
        assert!(
            err.contains(&dir.path().join(ORT_LIBRARY).display().to_string()),
            "{err}"
        );
        assert!(err.contains("useLegacyPackaging"), "{err}");
        // a folder of that name is not the library
        std::fs::create_dir(dir.path().join(ORT_LIBRARY)).unwrap();
        assert!(ort_dylib_in(Ok(dir.path().to_path_buf())).is_err());
        std::fs::remove_dir(dir.path().join(ORT_LIBRARY)).unwrap();
        // nativeLibraryDir unknown (JNI failed): the JNI message is kept
        let err = ort_dylib_in(Err("nativeLibraryDir: no Java VM".into())).unwrap_err();
        assert!(err.contains("no Java VM"), "{err}");
        // the library is there: its absolute path, which the engine's existence check accepts
        std::fs::write(dir.path().join(ORT_LIBRARY), b"\x7fELF").unwrap();
        let path = ort_dylib_in(Ok(dir.path().to_path_buf())).unwrap();
        assert_eq!(path, dir.path().join(ORT_LIBRARY));
        assert!(path.is_absolute() && path.exists());
    }

    #[test]
    fn big_cores_are_the_fast_clusters() {
        let sys = tempfile::tempdir().unwrap();
        let cpu = |i: usize, f: &str| {
            let d = sys.path().join(format!("cpu{i}/cpufreq"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("cpuinfo_max_freq"), f).unwrap();
        };
        assert_eq!(big_cores(sys.path()), None);
        for i in 0..4 {
            cpu(i, "1800000\n");
        }
        assert_eq!(big_cores(sys.path()), Some(4), "one cluster: every core");
        for i in 4..7 {
            cpu(i, "2400000\n");
        }
        cpu(7, "3000000\n");
        std::fs::create_dir_all(sys.path().join("cpufreq")).unwrap();
        std::fs::create_dir_all(sys.path().join("cpuidle")).unwrap();
        assert_eq!(big_cores(sys.path()), Some(4), "4 little + 3 big + 1 prime");
        let options = runtime_options();
        assert!(options.cpu_arena && !options.memory_pattern);
        assert!((1..=4).contains(&options.intra_threads));
    }
}
