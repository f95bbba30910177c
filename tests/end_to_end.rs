//! End to end on real models and real product photos: build a catalog with the indexer, then find
//! each product again from a rotated, cropped, recompressed "shopper's photo" of it.

use lookalike_engine::{Engine, EngineConfig, SearchOptions, Stage};
use lookalike_tests::{build_catalog, demo_sources, models_dir, photo_like, repo};

/// Two products per demo category: Vendure photos (segmented by U2Netp) and Saleor renders
/// (alpha cut-outs).
const PRODUCTS: &[&str] = &[
    "vendure-laptop",
    "vendure-cordless-mouse",
    "vendure-instant-camera",
    "vendure-vintage-folding-camera",
    "vendure-road-bike",
    "vendure-tent",
    "vendure-ultraboost-running-shoe",
    "vendure-hi-top-basketball-shoe",
    "vendure-spiky-cactus",
    "vendure-tulip-pot",
    "vendure-guardian-lion-statue",
    "saleor-red-dwarf-red-paint",
    "vendure-balloon-chair",
    "vendure-grey-fabric-sofa",
    "saleor-orange-juice",
    "saleor-carrot-juice",
    "saleor-code-division-t-shirt",
    "saleor-polo-shirt",
];

fn image_of(id: &str) -> Vec<u8> {
    let images = demo_sources().join("images");
    let entry = std::fs::read_dir(&images)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().is_some_and(|s| s == id))
        .unwrap_or_else(|| panic!("no image for {id}"));
    std::fs::read(entry).unwrap()
}

#[test]
fn each_product_is_its_own_top1_from_a_shoppers_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = build_catalog(tmp.path(), PRODUCTS);
    let engine = Engine::open(EngineConfig::new(models_dir(), &catalog))
        .expect("engine opens the new catalog");
    assert_eq!(engine.catalog().len(), PRODUCTS.len());
    let opts = SearchOptions::default();
    let scoring = engine.scoring(None);
    let mut misses = Vec::new();
    for (i, id) in PRODUCTS.iter().enumerate() {
        let degrees = if i % 2 == 0 { 7.0 } else { -9.0 };
        let query = photo_like(&image_of(id), degrees, 0.04, 70);
        let r = engine
            .search(&query, &opts)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        // the result contract the CLI and the app rely on
        assert_eq!(r.results.len(), 10, "min(10, catalog size) results");
        for (rank, hit) in r.results.iter().enumerate() {
            assert_eq!(hit.rank, rank + 1);
            let semantic = scoring.semantic(hit.semantic_cutout, hit.semantic_frame);
            let score = scoring.blend.blend(semantic, hit.texture, hit.color)
                + scoring.route_prior * hit.route_share;
            assert!(
                (hit.semantic - semantic).abs() < 1e-6 && (hit.score - score).abs() < 1e-5,
                "the score is the profile's scoring of the parts"
            );
            let product = engine.catalog().product_by_id(&hit.id).unwrap().unwrap();
            assert!(engine.catalog().thumbnail_path(&product).unwrap().is_file());
        }
        assert!(r.results.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(
            r.results
                .iter()
                .all(|h| h.routed == r.route.searched.contains(&h.category)),
            "`routed` marks the router's picks"
        );
        let stages: Vec<Stage> = r.timings.stages.iter().map(|t| t.stage).collect();
        assert_eq!(stages, Stage::ALL, "every stage timed, in pipeline order");
        let t = &r.timings;
        assert!(t.total_ms >= t.ms(Stage::Segment) + t.ms(Stage::Route));
        assert_eq!(r.categories.len(), engine.catalog().file.categories.len());
        let top = &r.results[0];
        println!(
            "{id:<34} -> {:<34} {:.3} via {:?} {:?}",
            top.id, top.score, r.route.searched, r.segmentation.used
        );
        if top.id != *id {
            misses.push(format!(
                "{id} -> {} (searched {:?})",
                top.id, r.route.searched
            ));
        }
    }
    assert!(misses.is_empty(), "not found as top-1: {misses:#?}");
}

#[test]
fn demo_catalog_finds_every_product_from_a_photo() {
    let catalog = repo().join("catalog/demo");
    assert!(
        catalog.join("catalog.json").is_file(),
        "catalog/demo is missing: run `bash scripts/setup.sh core`"
    );
    let engine =
        Engine::open(EngineConfig::new(models_dir(), &catalog)).expect("demo catalog opens");
    let opts = SearchOptions::default();
    let mut misses = Vec::new();
    let products: Vec<(String, String)> = engine
        .catalog()
        .all_products()
        .unwrap()
        .iter()
        .map(|p| (p.id.clone(), p.source_image.clone()))
        .collect();
    for (i, (id, file)) in products.iter().enumerate() {
        let original = std::fs::read(demo_sources().join("images").join(file)).unwrap();
        let query = photo_like(&original, if i % 2 == 0 { 5.0 } else { -5.0 }, 0.03, 75);
        let r = engine.search(&query, &opts).unwrap();
        if r.results[0].id != *id {
            misses.push(format!(
                "{id} -> {} (searched {:?})",
                r.results[0].id, r.route.searched
            ));
        }
    }
    let found = products.len() - misses.len();
    println!(
        "demo catalog: {found} of {} found as top-1; misses: {misses:#?}",
        products.len()
    );
    // The small catalog test above demands every product, the whole demo catalog at least 94%.
    assert!(
        found * 100 >= products.len() * 94,
        "only {found} of {} found as top-1: {misses:#?}",
        products.len()
    );
}

#[test]
fn category_override_and_weights_change_the_search() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = build_catalog(tmp.path(), &PRODUCTS[..6]);
    let engine = Engine::open(EngineConfig::new(models_dir(), &catalog)).unwrap();
    let query = photo_like(&image_of("vendure-laptop"), 3.0, 0.02, 80);
    let forced = SearchOptions {
        category: Some("sports".into()),
        ..Default::default()
    };
    let r = engine.search(&query, &forced).unwrap();
    assert_eq!(r.route.searched, vec!["sports"]);
    assert_eq!(
        r.results
            .iter()
            .map(|h| h.category.as_str())
            .collect::<Vec<_>>(),
        vec!["sports", "sports"],
        "only the chosen category is searched"
    );
    let r = engine.search(&query, &SearchOptions::default()).unwrap();
    assert_eq!(
        r.results.len(),
        6,
        "min(10, catalog size): every category is searched"
    );
    let bad = SearchOptions {
        category: Some("hats".into()),
        ..Default::default()
    };
    assert!(
        engine
            .search(&query, &bad)
            .unwrap_err()
            .to_string()
            .contains("unknown category `hats`")
    );
    let colour_only = SearchOptions {
        weights: Some(lookalike_engine::BlendWeights {
            semantic: 0.0,
            texture: 0.0,
            color: 1.0,
        }),
        include_candidates: true,
        ..Default::default()
    };
    let r = engine.search(&query, &colour_only).unwrap();
    // the caller's blend replaces the profile's; the router prior stays
    let prior = engine.scoring(None).route_prior;
    assert!(
        r.results
            .iter()
            .all(|h| (h.score - h.color - prior * h.route_share).abs() < 1e-6)
    );
    assert_eq!(
        r.candidates.len(),
        6,
        "the shortlist before rerank is returned on request"
    );
}

/// A Shopify product export (one row per variant and image, categories as the shop's own type
/// names, no ImageNet ids anywhere) indexed as it is: the router learns each category from the
/// catalog's own images, and every product is found again from a shopper's photo of it.
#[test]
fn a_shopify_export_becomes_a_searchable_catalog() {
    use lookalike_engine::catalog::index::{self, IndexOptions};
    let shop: &[(&str, &str, &str)] = &[
        ("vendure-laptop", "Laptops", "vendure-laptop.jpg"),
        (
            "vendure-instant-camera",
            "Cameras",
            "vendure-instant-camera.jpg",
        ),
        ("vendure-road-bike", "Bikes", "vendure-road-bike.jpg"),
        ("vendure-tent", "Camping", "vendure-tent.jpg"),
        (
            "vendure-spiky-cactus",
            "House plants",
            "vendure-spiky-cactus.jpg",
        ),
        (
            "vendure-balloon-chair",
            "Chairs",
            "vendure-balloon-chair.jpg",
        ),
        ("saleor-orange-juice", "Juice", "saleor-orange-juice.png"),
        ("saleor-polo-shirt", "Polo shirts", "saleor-polo-shirt.png"),
    ];
    let mut csv = String::from(
        "Handle,Title,Body (HTML),Vendor,Type,Variant Price,Variant Barcode,Image Src\n",
    );
    for (handle, kind, image) in shop {
        let src = format!("https://cdn.shopify.com/s/files/1/0001/{image}?v=1700000000");
        csv += &format!("{handle},{handle} title,<p>Nice</p>,Demo,{kind},10.00,,{src}\n");
        // a second variant row of the same product: no new product
        csv += &format!("{handle},,,,,12.00,,\n");
    }
    csv += "ghost-lamp,Ghost Lamp,,Demo,Lamps,5.00,,https://cdn.shopify.com/s/files/ghost.jpg\n";
    let tmp = tempfile::tempdir().unwrap();
    let products = tmp.path().join("products_export_1.csv");
    std::fs::write(&products, csv).unwrap();
    let out = tmp.path().join("shop");
    let opts = IndexOptions::new(demo_sources().join("images"), &products, &out, models_dir());
    let report = index::build(&opts, &mut |_, _, _| {}).expect("the export indexes");
    assert_eq!(report.products, shop.len());
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(report.skipped[0].id, "ghost-lamp");
    assert!(
        report.skipped[0].reason.contains("ghost.jpg"),
        "{:?}",
        report.skipped
    );

    let engine = Engine::open(EngineConfig::new(models_dir(), &out)).expect("engine opens it");
    let cats = &engine.catalog().file.categories;
    assert!(cats.iter().all(|c| c.def.imagenet_classes.is_empty()));
    assert!(cats.iter().all(|c| !c.learned_classes.is_empty()));
    let mut misses = Vec::new();
    for (handle, kind, _) in shop {
        let photo = photo_like(&image_of(handle), 6.0, 0.04, 82);
        let r = engine.search(&photo, &SearchOptions::default()).unwrap();
        if r.results[0].id != *handle || r.route.searched[0] != *kind {
            misses.push(format!(
                "{handle}: top {} routed {:?}",
                r.results[0].id, r.route.searched
            ));
        }
    }
    assert!(misses.is_empty(), "{misses:?}");
}

#[test]
fn a_cancelled_build_stops_and_leaves_the_catalog_as_it_was() {
    use lookalike_engine::ErrorCode;
    use lookalike_engine::catalog::index::{self, IndexOptions};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let tmp = tempfile::tempdir().unwrap();
    let out = build_catalog(tmp.path(), &["vendure-tent", "vendure-laptop"]);
    let before = std::fs::read(out.join("catalog.json")).unwrap();
    let more = tmp.path().join("more");
    std::fs::create_dir(&more).unwrap();
    let products = lookalike_tests::subset_products(&more, PRODUCTS);
    let cancel = Arc::new(AtomicBool::new(false));
    let mut opts = IndexOptions::new(demo_sources().join("images"), products, &out, models_dir());
    opts.cancel = Some(cancel.clone());
    // the user presses Cancel while the third product is being embedded
    let err = index::build(&opts, &mut |done, _, _| {
        if done == 3 {
            cancel.store(true, Ordering::Relaxed);
        }
    })
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled, "{err}");
    assert!(err.to_string().contains("after 3 of 18"), "{err}");
    assert_eq!(std::fs::read(out.join("catalog.json")).unwrap(), before);
    assert_eq!(
        Engine::open(EngineConfig::new(models_dir(), &out))
            .unwrap()
            .catalog()
            .len(),
        2
    );
}

#[test]
fn reopen_switches_catalogs_on_the_same_models_and_leaves_the_old_engine_working() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let cat_a = build_catalog(&a, &["vendure-tent", "vendure-laptop"]);
    let cat_b = build_catalog(&b, &["saleor-orange-juice", "vendure-spiky-cactus"]);
    let old = Engine::open(EngineConfig::new(models_dir(), &cat_a)).unwrap();
    let new = old.reopen(&cat_b).expect("the second catalog opens");
    let photo = photo_like(&image_of("vendure-spiky-cactus"), 4.0, 0.03, 80);
    let on_new = new.search(&photo, &SearchOptions::default()).unwrap();
    assert_eq!(on_new.results[0].id, "vendure-spiky-cactus");
    let on_old = old.search(&photo, &SearchOptions::default()).unwrap();
    assert!(
        on_old
            .results
            .iter()
            .all(|h| h.id != "vendure-spiky-cactus")
    );
    assert!(
        std::ptr::eq(old.models(), new.models()),
        "no model loads twice"
    );
    // a folder that is not a catalog is refused and nothing changes
    assert!(old.reopen(tmp.path()).is_err());
}

#[test]
fn without_an_index_time_segmenter_the_build_uses_the_search_segmenter() {
    use lookalike_engine::catalog::index::{self, IndexOptions};
    // what the desktop app ships: the manifest, the embedder and the INT8 search segmenter only
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    std::fs::create_dir(&models).unwrap();
    for f in [
        "manifest.toml",
        "efficientnet_lite0.onnx",
        "u2netp_int8.onnx",
        "imagenet_labels.txt",
    ] {
        std::fs::copy(models_dir().join(f), models.join(f)).unwrap();
    }
    let products =
        lookalike_tests::subset_products(tmp.path(), &["vendure-tent", "vendure-laptop"]);
    let out = tmp.path().join("shop");
    let opts = IndexOptions::new(demo_sources().join("images"), products, &out, &models);
    let report = index::build(&opts, &mut |_, _, _| {}).expect("builds with the search segmenter");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.index_segmenter.as_deref(), Some("u2netp_int8"));
    assert_eq!(report.cut_by_model, 2);
}

#[test]
fn a_build_refuses_inputs_kept_inside_the_catalog_it_replaces() {
    use lookalike_engine::catalog::index::{self, IndexOptions};
    let tmp = tempfile::tempdir().unwrap();
    let out = build_catalog(tmp.path(), &["vendure-tent"]);
    let inside = out.join("products.json");
    std::fs::copy(tmp.path().join("products.json"), &inside).unwrap();
    let opts = IndexOptions::new(demo_sources().join("images"), &inside, &out, models_dir());
    let err = index::build(&opts, &mut |_, _, _| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("inside the catalog folder"), "{err}");
    assert!(inside.is_file(), "the products file is still there");
}
