//! Catalog health on a small real catalog in which one demo photo is listed twice under two ids:
//! the pair must be reported as near-duplicates, distinct products must not, the router
//! confusion must cover every product, and self-retrieval must find most products first.

use std::path::{Path, PathBuf};

use lookalike_engine::catalog::health::{self, HealthReport};
use lookalike_engine::catalog::index::{self, IndexOptions};
use lookalike_engine::{Engine, EngineConfig};
use lookalike_tests::{demo_sources, models_dir};

/// Across categories and both embedding spaces (apparel and footwear: fashion), alpha renders
/// and photos.
const PRODUCTS: &[&str] = &[
    "vendure-laptop",
    "vendure-instant-camera",
    "vendure-tent",
    "vendure-ultraboost-running-shoe",
    "vendure-spiky-cactus",
    "vendure-balloon-chair",
    "saleor-orange-juice",
    "saleor-code-division-t-shirt",
    "saleor-black-hoodie",
];
/// `vendure-tent`'s photo again, under another id and name.
const COPY: &str = "vendure-tent-listed-again";

/// Writes a products file: the demo's categories and router, the chosen demo products, and the
/// duplicate listing of `vendure-tent`.
fn products_with_duplicate(dir: &Path, ids: &[&str]) -> PathBuf {
    let text = std::fs::read_to_string(demo_sources().join("products.json")).unwrap();
    let mut all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let demo = all["products"].as_array().unwrap().clone();
    let find = |id: &str| demo.iter().find(|p| p["id"] == id).unwrap().clone();
    let mut chosen: Vec<serde_json::Value> = ids.iter().map(|id| find(id)).collect();
    if ids.contains(&"vendure-tent") {
        let mut copy = find("vendure-tent");
        copy["id"] = COPY.into();
        copy["name"] = "Camping tent (second listing)".into();
        chosen.push(copy);
    }
    all["products"] = chosen.into();
    let path = dir.join("products.json");
    std::fs::write(&path, serde_json::to_string_pretty(&all).unwrap()).unwrap();
    path
}

fn build(dir: &Path, ids: &[&str], images: &Path) -> Engine {
    let products = products_with_duplicate(dir, ids);
    let out = dir.join("catalog");
    let opts = IndexOptions::new(images, products, &out, models_dir());
    let report = index::build(&opts, &mut |_, _, _| {}).expect("index builds");
    assert!(report.skipped.is_empty(), "skipped: {:?}", report.skipped);
    Engine::open(EngineConfig::new(models_dir(), &out)).expect("engine opens")
}

fn check(engine: &Engine, images: Option<&Path>) -> HealthReport {
    let mut calls = Vec::new();
    let report = health::check(engine, images, &mut |done, total| calls.push((done, total)))
        .expect("the check runs");
    let n = engine.catalog().len();
    assert_eq!(calls.last(), Some(&(n, n)), "progress reaches the end");
    assert_eq!(calls.len(), n, "one progress call per product");
    report
}

#[test]
fn a_photo_listed_twice_is_a_near_duplicate_and_the_report_covers_every_product() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = build(tmp.path(), PRODUCTS, &demo_sources().join("images"));
    let n = PRODUCTS.len() + 1;
    assert_eq!(engine.catalog().len(), n);
    let r = check(&engine, None);
    assert_eq!(r.products, n);
    assert!(r.problems.is_empty(), "{:?}", r.problems);

    // near-duplicates: exactly the twice-listed photo
    let pairs = &r.duplicates.pairs;
    let ids: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.a.id.as_str(), p.b.id.as_str()))
        .collect();
    assert_eq!(ids.len(), 1, "only the duplicate listing: {pairs:?}");
    let mut pair = [ids[0].0, ids[0].1];
    pair.sort();
    assert_eq!(pair, ["vendure-tent", COPY]);
    assert!(pairs[0].cosine > 0.99, "{pairs:?}");
    assert!(pairs[0].color_agrees, "the same photo has the same colours");
    assert_eq!(pairs[0].expert, "general");

    // router confusion: every product once, rows and columns the catalog's categories
    let c = &r.router;
    assert_eq!(c.categories, engine.catalog().category_names());
    assert_eq!(c.counts.len(), c.categories.len());
    assert!(c.counts.iter().all(|row| row.len() == c.categories.len()));
    assert_eq!(c.counts.iter().flatten().sum::<usize>(), n);
    assert_eq!(c.total, n);
    for (name, row) in c.categories.iter().zip(&c.counts) {
        let in_category = (engine.catalog().all_products().unwrap().iter())
            .filter(|p| p.category == *name)
            .count();
        assert_eq!(row.iter().sum::<usize>(), in_category, "row {name}");
    }
    let diagonal: usize = (0..c.counts.len()).map(|i| c.counts[i][i]).sum();
    assert!((c.accuracy - diagonal as f32 / n as f32).abs() < 1e-6);

    // self-retrieval: most products find themselves first (the twin may win for one of the pair)
    let s = &r.self_retrieval;
    assert_eq!(s.queried, n);
    assert_eq!(s.ranks.len(), n);
    let firsts = s.ranks.iter().filter(|x| x.rank == Some(1)).count();
    assert!(firsts >= n - 2, "only {firsts} of {n} first: {s:#?}");
    assert!((s.recall_at_1 - firsts as f32 / n as f32).abs() < 1e-6);
    assert_eq!(s.not_first.len(), n - firsts);
    for miss in &s.not_first {
        let first = miss.first.as_ref().expect("something came first instead");
        assert_ne!(first.id, miss.product.id);
    }
    assert!(s.recall_at_10 >= s.recall_at_1);

    // the catalog's cut-outs agree with catalog.json, and the JSON is one object
    let products = engine.catalog().all_products().unwrap();
    let fallback_ids: Vec<&str> = (products.iter())
        .filter(|p| p.segmentation == "fallback")
        .map(|p| p.id.as_str())
        .collect();
    let reported: Vec<&str> = r.fallbacks.catalog.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(reported, fallback_ids);
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["router"]["counts"].is_array() && json["duplicates"]["pairs"].is_array());
}

#[test]
fn a_missing_image_is_a_problem_not_an_abort_and_two_runs_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = [
        "vendure-laptop",
        "saleor-orange-juice",
        "vendure-spiky-cactus",
    ];
    let engine = build(tmp.path(), &ids, &demo_sources().join("images"));
    // an images folder that lacks the cactus
    let images = tmp.path().join("images");
    std::fs::create_dir(&images).unwrap();
    for p in &engine.catalog().all_products().unwrap() {
        if p.id != "vendure-spiky-cactus" {
            let from = demo_sources().join("images").join(&p.source_image);
            std::fs::copy(from, images.join(&p.source_image)).unwrap();
        }
    }
    let r = check(&engine, Some(&images));
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].product.id, "vendure-spiky-cactus");
    assert!(
        r.problems[0].detail.contains("cannot read"),
        "{:?}",
        r.problems
    );
    assert_eq!(r.self_retrieval.queried, 2);
    assert_eq!(r.router.total, 2);
    assert_eq!(r.images.as_deref(), Some(images.to_string_lossy().as_ref()));
    // deterministic perturbation: a second run reports the same ranks and routes
    let again = check(&engine, Some(&images));
    let ranks = |r: &HealthReport| -> Vec<Option<usize>> {
        r.self_retrieval.ranks.iter().map(|x| x.rank).collect()
    };
    assert_eq!(ranks(&r), ranks(&again));
    assert_eq!(r.router.counts, again.router.counts);
}
