//! The Catalogs panel's backend without a webview: build a catalog into the app's storage with
//! progress, update it, switch between catalogs while an old engine is still searching, import a
//! bundle, and refuse a bad one with the catalog in use untouched.

use std::path::Path;
use std::sync::atomic::Ordering;

use lookalike_app_lib::catalogs::{self, Catalogs, JobKind, JobProgress};
use lookalike_app_lib::state::{AppState, EnginePaths, EngineStatus};
use lookalike_engine::SearchOptions;
use lookalike_engine::catalog::bundle;
use lookalike_tests::{build_catalog, demo_sources, models_dir, photo_like, subset_products};

fn ready(dir: &Path) -> (AppState, Catalogs) {
    let demo = build_catalog(dir, &["vendure-laptop", "vendure-tent"]);
    let state = AppState::default();
    let status = state.load(&EnginePaths {
        models: models_dir(),
        catalog: demo,
        dylib: None,
    });
    assert!(matches!(status, EngineStatus::Ready { .. }), "{status:?}");
    let store = Catalogs::default();
    store.set_dirs(&dir.join("data"), &dir.join("config"));
    (state, store)
}

fn photo(id: &str) -> Vec<u8> {
    let bytes = std::fs::read(demo_sources().join(format!("images/{id}.jpg"))).unwrap();
    photo_like(&bytes, 4.0, 0.03, 80)
}

#[test]
fn build_update_and_switch_back_and_forth() {
    let tmp = tempfile::tempdir().unwrap();
    let (state, store) = ready(tmp.path());
    let before = state.engine().unwrap();
    let shop = tmp.path().join("shop");
    std::fs::create_dir(&shop).unwrap();
    let products = subset_products(&shop, &["vendure-spiky-cactus", "vendure-road-bike"]);
    let products = {
        let renamed = shop.join("garden-shop.json");
        std::fs::rename(&products, &renamed).unwrap();
        renamed
    };
    let images = demo_sources().join("images");

    let mut events: Vec<JobProgress> = Vec::new();
    let job = store.start_job().unwrap();
    let built = catalogs::build_impl(&state, &store, &images, &products, &job, &mut |p| {
        events.push(p)
    })
    .unwrap();
    drop(job);
    assert_eq!(built.report.embedded, 2);
    assert_eq!(built.catalog.size, 2);
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.job == JobKind::Build && e.total == 2)
    );
    assert_eq!(events.last().map(|e| e.done), Some(2));

    // the switch: new searches see the new catalog, an engine already handed out keeps the old
    let now = state.engine().unwrap();
    assert_eq!(now.catalog().dir, store.folder("garden-shop").unwrap());
    let cactus = photo("vendure-spiky-cactus");
    let on_new = now.search(&cactus, &SearchOptions::default()).unwrap();
    assert_eq!(on_new.results[0].id, "vendure-spiky-cactus");
    let on_old = before.search(&cactus, &SearchOptions::default()).unwrap();
    assert!(
        on_old
            .results
            .iter()
            .all(|h| h.id != "vendure-spiky-cactus")
    );
    assert!(
        std::ptr::eq(now.models(), before.models()),
        "models load once"
    );

    // remembered for the next start, listed as saved and updatable
    assert_eq!(store.remembered(), Some(now.catalog().dir.clone()));
    let view = catalogs::view(&state, &store);
    assert_eq!(view.saved.len(), 1);
    assert!(view.saved[0].in_use && view.saved[0].updatable);
    assert!(view.can_build && !view.busy);

    // an update over unchanged files embeds nothing
    let job = store.start_job().unwrap();
    let again = catalogs::update_impl(&state, &store, "garden-shop", &job, &mut |_| {}).unwrap();
    drop(job);
    assert_eq!((again.report.embedded, again.report.reused), (0, 2));

    // a cancelled update changes nothing and leaves the catalog in use
    let job = store.start_job().unwrap();
    job.cancel.store(true, Ordering::Relaxed);
    let err = catalogs::update_impl(&state, &store, "garden-shop", &job, &mut |_| {}).unwrap_err();
    assert_eq!(err.code, "cancelled", "{err}");
    drop(job);
    assert_eq!(state.engine().unwrap().catalog().len(), 2);

    // another shop whose products file has the same name gets its own saved catalog
    let other = tmp.path().join("other-shop");
    std::fs::create_dir(&other).unwrap();
    let theirs = subset_products(&other, &["saleor-orange-juice"]);
    let theirs = {
        let renamed = other.join("garden-shop.json");
        std::fs::rename(&theirs, &renamed).unwrap();
        renamed
    };
    let job = store.start_job().unwrap();
    let second = catalogs::build_impl(&state, &store, &images, &theirs, &job, &mut |_| {}).unwrap();
    drop(job);
    assert_eq!((second.catalog.size, second.report.reused), (1, 0));
    let names: Vec<String> = store.saved(None).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["garden-shop", "garden-shop-2"]);
    catalogs::switch_impl(&state, &store, "garden-shop").unwrap();
    assert_eq!(
        state.engine().unwrap().catalog().len(),
        2,
        "the first shop is intact"
    );

    // a folder that is not a catalog is refused; the catalog in use stays
    let err = catalogs::open_impl(&state, &store, tmp.path()).unwrap_err();
    assert_eq!(err.code, "catalog", "{err}");
    assert_eq!(
        state.engine().unwrap().catalog().dir,
        store.folder("garden-shop").unwrap()
    );
    // saved catalogs are switched to by name, never by path
    assert_eq!(
        catalogs::switch_impl(&state, &store, "../shop")
            .unwrap_err()
            .code,
        "not_found"
    );
}

#[test]
fn a_bundle_imports_and_a_bad_one_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (state, store) = ready(tmp.path());
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let source = build_catalog(&other, &["saleor-orange-juice", "vendure-tent"]);
    let file = tmp.path().join("juice-bar.lookalike");
    bundle::pack(&source, &file).unwrap();

    // a catalog built here under the same name is not overwritten by the import
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    let products = subset_products(&mine, &["vendure-laptop"]);
    let products = {
        let renamed = mine.join("juice-bar.json");
        std::fs::rename(&products, &renamed).unwrap();
        renamed
    };
    let job = store.start_job().unwrap();
    let images = demo_sources().join("images");
    catalogs::build_impl(&state, &store, &images, &products, &job, &mut |_| {}).unwrap();
    drop(job);

    let info = catalogs::import_impl(&state, &store, &file).unwrap();
    assert_eq!(info.size, 2);
    let dir = store.folder("juice-bar-2").unwrap();
    // importing the same shop again updates its folder instead of adding a third
    catalogs::import_impl(&state, &store, &file).unwrap();
    let names: Vec<String> = store.saved(None).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["juice-bar", "juice-bar-2"]);
    catalogs::switch_impl(&state, &store, "juice-bar").unwrap();
    assert_eq!(
        state.engine().unwrap().catalog().len(),
        1,
        "the built one is intact"
    );
    catalogs::switch_impl(&state, &store, "juice-bar-2").unwrap();
    assert_eq!(state.engine().unwrap().catalog().dir, dir);
    let juice = std::fs::read(demo_sources().join("images/saleor-orange-juice.png")).unwrap();
    let hits = state
        .engine()
        .unwrap()
        .search(
            &photo_like(&juice, 3.0, 0.02, 85),
            &SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(hits.results[0].id, "saleor-orange-juice");

    // the same bundle with one byte flipped: refused whole, the imported catalog stays in use
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();
    let snapshot = std::fs::read(dir.join("catalog.json")).unwrap();
    let err = catalogs::import_impl(&state, &store, &file).unwrap_err();
    assert_eq!(err.code, "bundle", "{err}");
    assert_eq!(state.engine().unwrap().catalog().dir, dir);
    assert_eq!(std::fs::read(dir.join("catalog.json")).unwrap(), snapshot);
}

#[test]
fn shop_links_must_be_plain_http() {
    let tmp = tempfile::tempdir().unwrap();
    let (state, store) = ready(tmp.path());
    let ids = ["vendure-tent", "vendure-laptop", "vendure-road-bike"];
    let path = subset_products(tmp.path(), &ids);
    let mut products: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let urls = [
        "https://shop.example/tent?colour=green",
        "javascript:alert(1)",
        "file:///etc/passwd",
    ];
    for (p, url) in products["products"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(urls)
    {
        p["url"] = url.into();
    }
    std::fs::write(&path, products.to_string()).unwrap();
    let job = store.start_job().unwrap();
    let images = demo_sources().join("images");
    catalogs::build_impl(&state, &store, &images, &path, &job, &mut |_| {}).unwrap();
    assert_eq!(
        catalogs::shop_url(&state, "vendure-tent").unwrap(),
        "https://shop.example/tent?colour=green"
    );
    for id in ["vendure-laptop", "vendure-road-bike"] {
        let err = catalogs::shop_url(&state, id).unwrap_err();
        assert_eq!(err.code, "bad_request", "{id}: {err}");
    }
    assert_eq!(
        catalogs::shop_url(&state, "nope").unwrap_err().code,
        "not_found"
    );
}
