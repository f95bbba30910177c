//! Bad input gets a clear, specific error and breaks nothing: missing or corrupt model files;
//! catalogs that do not match their models or have been tampered with. Bad image files (corrupt,
//! truncated, huge, non-images, formats we do not decode, every EXIF orientation) are the
//! committed corpus in `tests/bad-inputs/`, checked by `bad_input_corpus.rs`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lookalike_engine::catalog::records;
use lookalike_engine::catalog::schema::{CatalogProduct, PRODUCTS_IDX, PRODUCTS_JSONL};
use lookalike_engine::{Catalog, Engine, EngineConfig, EngineError, SearchOptions};
use lookalike_tests::{build_catalog, models_dir};

const PRODUCTS: &[&str] = &[
    "vendure-laptop",
    "vendure-tent",
    "saleor-orange-juice",
    "saleor-polo-shirt",
];

/// One small real catalog for the whole file (built once; tests only read it).
fn shared_catalog() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        build_catalog(dir.path(), PRODUCTS);
        dir
    });
    Box::leak(dir.path().join("catalog").into_boxed_path())
}

#[test]
fn engine_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
}

// ---- models --------------------------------------------------------------------------------

/// A copy of the models folder (manifest + the lite models) that a test may damage.
fn models_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "manifest.toml",
        "u2netp_int8.onnx",
        "efficientnet_lite0.onnx",
    ] {
        std::fs::copy(models_dir().join(f), dir.path().join(f)).unwrap();
    }
    // the runtime library stays where set-up put it
    std::os::unix::fs::symlink(models_dir().join("runtime"), dir.path().join("runtime")).unwrap();
    dir
}

fn open_with(models: &Path) -> Result<Engine, EngineError> {
    Engine::open(EngineConfig::new(models, shared_catalog()))
}

#[test]
fn missing_model_file_is_named() {
    let models = models_copy();
    std::fs::remove_file(models.path().join("u2netp_int8.onnx")).unwrap();
    match open_with(models.path()) {
        Err(EngineError::ModelMissing { model, path }) => {
            assert_eq!(model, "u2netp_int8");
            assert!(path.ends_with("u2netp_int8.onnx"));
        }
        other => panic!("expected ModelMissing, got {:?}", other.err()),
    }
}

#[test]
fn corrupt_model_file_fails_its_checksum() {
    let models = models_copy();
    let path = models.path().join("efficientnet_lite0.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&path, bytes).unwrap();
    let err = open_with(models.path())
        .err()
        .expect("a corrupt model must not load");
    let msg = err.to_string();
    assert!(matches!(err, EngineError::ModelChecksum { .. }), "{msg}");
    assert!(
        msg.contains("12b15dc99c59469da0ec4cea89edc3930d7e7a357ccb25ed608cc0c28dbc6f50"),
        "names the expected sha256: {msg}"
    );
}

#[test]
fn manifest_that_disagrees_with_the_graph_is_refused() {
    let models = models_copy();
    let manifest = models.path().join("manifest.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            r#"{ name = "texture", kind = "texture""#,
            r#"{ name = "texture_v2", kind = "texture""#,
        ),
    )
    .unwrap();
    // the profile references `texture`, so the manifest itself is refused first
    let err = open_with(models.path()).err().unwrap().to_string();
    assert!(err.contains("texture"), "{err}");
    let text = std::fs::read_to_string(models_dir().join("manifest.toml")).unwrap();
    let renamed = text
        .replace(
            r#"{ name = "texture", kind = "texture""#,
            r#"{ name = "texture_v2", kind = "texture""#,
        )
        .replace(
            r#"texture = { model = "efficientnet_lite0", output = "texture" }"#,
            r#"texture = { model = "efficientnet_lite0", output = "texture_v2" }"#,
        );
    std::fs::write(&manifest, renamed).unwrap();
    let err = open_with(models.path()).err().unwrap();
    assert!(matches!(err, EngineError::ModelMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("`texture_v2` is not in the graph"),
        "{err}"
    );
}

// ---- catalogs ------------------------------------------------------------------------------

fn catalog_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = shared_catalog();
    let dst = dir.path().join("catalog");
    std::fs::create_dir_all(dst.join("thumbs")).unwrap();
    for entry in walk(src) {
        let rel = entry.strip_prefix(src).unwrap();
        std::fs::copy(&entry, dst.join(rel)).unwrap();
    }
    dir
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

fn edit_catalog_json(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("catalog.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
}

/// Rewrites the catalog's product records (`products.jsonl`, `products.idx`) through `edit`.
fn edit_products(dir: &Path, edit: impl FnOnce(&mut Vec<CatalogProduct>)) {
    let mut products = Catalog::open(dir).unwrap().all_products().unwrap();
    edit(&mut products);
    records::write(dir, &products).unwrap();
}

/// `Catalog::open_checked`'s refusal (what an import, a pack or a build's read-back says).
fn checked_err(dir: &Path) -> String {
    Catalog::open_checked(dir)
        .expect_err("a damaged catalog must fail the full check")
        .to_string()
}

fn open_catalog(dir: &Path) -> EngineError {
    Engine::open(EngineConfig::new(models_dir(), dir))
        .err()
        .expect("a damaged catalog must be refused")
}

#[test]
fn catalog_built_with_other_models_is_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    edit_catalog_json(&cat, |v| {
        v["models"]["texture"]["sha256"] = "0".repeat(64).into()
    });
    let err = open_catalog(&cat);
    assert!(matches!(err, EngineError::CatalogMismatch { .. }), "{err}");
    assert!(err.to_string().contains("re-index"), "{err}");
    let mut config = EngineConfig::new(models_dir(), shared_catalog());
    config.profile = Some("full".into());
    let err = Engine::open(config).err().unwrap().to_string();
    assert!(err.contains("built with profile `lite`"), "{err}");
}

#[test]
fn truncated_or_resized_vectors_are_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let path = cat.join("embeddings.bin");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(
        err.contains("embeddings.bin") && err.contains("truncated"),
        "{err}"
    );

    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    edit_products(&cat, |list| {
        list.pop();
    });
    edit_catalog_json(&cat, |v| {
        v["rows"] = (v["rows"].as_u64().unwrap() - 1).into();
        let cats = v["categories"].as_array_mut().unwrap();
        let last = cats.last_mut().unwrap();
        last["rows"][1] = (last["rows"][1].as_u64().unwrap() - 1).into();
    });
    let err = open_catalog(&cat).to_string();
    assert!(
        err.contains("embeddings.bin") && err.contains("from another catalog"),
        "{err}"
    );
}

/// The error a shown thumbnail gets: opening reads no thumbnail (a million products open as fast
/// as four), the full check and the thumbnail's own read refuse it.
fn thumbnail_err(dir: &Path, id: &str) -> String {
    let engine =
        Engine::open(EngineConfig::new(models_dir(), dir)).expect("opening reads no thumbnail");
    let product = engine.catalog().product_by_id(id).unwrap().unwrap();
    let e = engine
        .catalog()
        .thumbnail_path(&product)
        .unwrap_err()
        .to_string();
    assert!(e.contains(id), "{e}");
    e
}

#[test]
fn missing_thumbnails_and_hostile_paths_are_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    std::fs::remove_file(cat.join("thumbs/vendure-tent.jpg")).unwrap();
    let err = checked_err(&cat);
    assert!(
        err.contains("vendure-tent") && err.contains("missing"),
        "{err}"
    );
    assert!(thumbnail_err(&cat, "vendure-tent").contains("is missing"));
    for hostile in ["../../../etc/passwd", "/etc/passwd", "thumbs/../../x.jpg"] {
        let tmp = catalog_copy();
        let cat = tmp.path().join("catalog");
        edit_products(&cat, |list| list[0].thumbnail = hostile.into());
        let err = checked_err(&cat);
        assert!(err.contains("stay inside the catalog"), "{hostile}: {err}");
        let id = Catalog::open(&cat).unwrap().product(0).unwrap().id;
        assert!(thumbnail_err(&cat, &id).contains("stay inside the catalog"));
    }
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let thumb = cat.join("thumbs/vendure-tent.jpg");
    std::fs::remove_file(&thumb).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &thumb).unwrap();
    let err = checked_err(&cat);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(thumbnail_err(&cat, "vendure-tent").contains("symbolic link"));
    // a linked thumbs/ folder escapes too (regression: found by the `catalog` fuzz target)
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let outside = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(cat.join("thumbs")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), outside.path().join(e.file_name())).unwrap();
    }
    std::fs::remove_dir_all(cat.join("thumbs")).unwrap();
    std::os::unix::fs::symlink(outside.path(), cat.join("thumbs")).unwrap();
    let err = checked_err(&cat);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(thumbnail_err(&cat, "vendure-tent").contains("symbolic link"));
}

#[test]
fn damaged_product_records_are_refused_or_named_where_read() {
    // files missing, truncated, from another build: opening refuses, naming the file
    for (name, damage) in [
        (PRODUCTS_JSONL, "remove"),
        (PRODUCTS_IDX, "remove"),
        (PRODUCTS_IDX, "truncate"),
        (PRODUCTS_JSONL, "truncate"),
    ] {
        let tmp = catalog_copy();
        let cat = tmp.path().join("catalog");
        let path = cat.join(name);
        match damage {
            "remove" => std::fs::remove_file(&path).unwrap(),
            _ => {
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
            }
        }
        let err = open_catalog(&cat).to_string();
        assert!(err.contains(name), "{name} {damage}: {err}");
    }
    // records of another catalog of the same size: the full check finds the rows that
    // disagree with their categories
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    edit_products(&cat, |list| list.reverse());
    assert!(checked_err(&cat).contains("stored in category"));

    // one line damaged: the catalog opens, a search that shows that product says which line,
    // the full check refuses it
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let lines = std::fs::read(cat.join(PRODUCTS_JSONL)).unwrap();
    let text = String::from_utf8(lines).unwrap();
    let row = text
        .lines()
        .position(|l| l.contains("\"id\":\"vendure-tent\""))
        .unwrap();
    // the same length, so the index still fits the file
    let damaged = text.replacen("\"id\":\"vendure-tent\"", "\"id\":[\"vendure-ten\"", 1);
    std::fs::write(cat.join(PRODUCTS_JSONL), &damaged).unwrap();
    let err = checked_err(&cat);
    assert!(
        err.contains(&format!("products.jsonl line {}", row + 1)),
        "{err}"
    );
    let engine =
        Engine::open(EngineConfig::new(models_dir(), &cat)).expect("opening parses no line");
    // four products: every one is among the hits
    let photo =
        std::fs::read(lookalike_tests::demo_sources().join("images/vendure-tent.jpg")).unwrap();
    let err = engine
        .search(&photo, &SearchOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("products.jsonl line {}", row + 1)) && err.contains("rebuild"),
        "{err}"
    );
}

#[test]
fn vectors_that_are_links_or_devices_are_refused_before_reading() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    std::fs::remove_file(cat.join("texture.bin")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", cat.join("texture.bin")).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(err.contains("texture.bin is not a regular file"), "{err}");
    // a vector file far longer than the catalog needs is refused from its size alone
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(cat.join("embeddings.bin"))
        .unwrap();
    f.set_len(1 << 30).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(err.contains("embeddings.bin is 1073741824 bytes"), "{err}");
}

#[test]
fn garbage_catalog_json_is_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    std::fs::write(cat.join("catalog.json"), "{ not json").unwrap();
    assert!(
        open_catalog(&cat)
            .to_string()
            .contains("catalog.json is not valid")
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(
        open_catalog(empty.path())
            .to_string()
            .contains("lookalike index")
    );
}
