//! The seed's `full` profile (SigLIP2 router with text prototypes, FashionSigLIP / SigLIP2 experts,
//! DINOv2 texture) driven end to end by the small generated graphs in models/generated/: same
//! input/output names, dtypes and shapes as the exported models, deterministic outputs, no torch.
//! They are marked `random-init`: nothing here is a real search, and the engine says so.

use std::path::Path;

use lookalike_engine::catalog::index::{self, IndexOptions};
use lookalike_engine::models::text::TextEncoder;
use lookalike_engine::stages::route::RouteReason;
use lookalike_engine::{Engine, EngineConfig, EngineError, SearchOptions};
use lookalike_tests::{demo_sources, models_dir, photo_like, subset_products};

/// A models folder whose `full` entries are the generated test graphs (the rest as committed).
fn test_models(dir: &Path) {
    let models = models_dir();
    let mut manifest: toml::Table = std::fs::read_to_string(models.join("manifest.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let snippet: toml::Table =
        std::fs::read_to_string(models.join("generated/manifest_snippet.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let sam2: toml::Table =
        std::fs::read_to_string(models.join("generated/sam2_manifest_snippet.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let entries = manifest["models"].as_table().unwrap().clone();
    let mut merged = entries.clone();
    for (id, entry) in snippet["models"]
        .as_table()
        .unwrap()
        .iter()
        .chain(sam2["models"].as_table().unwrap())
    {
        merged.insert(id.clone(), entry.clone());
    }
    manifest.insert("models".into(), toml::Value::Table(merged));
    std::fs::write(
        dir.join("manifest.toml"),
        toml::to_string(&manifest).unwrap(),
    )
    .unwrap();
    for link in [
        "u2netp.onnx",
        "u2netp_int8.onnx",
        "efficientnet_lite0.onnx",
        "runtime",
        "generated",
    ] {
        std::os::unix::fs::symlink(models.join(link), dir.join(link)).unwrap();
    }
}

fn build(dir: &Path, ids: &[&str], second_threshold: Option<f32>) -> std::path::PathBuf {
    let products = subset_products(dir, ids);
    if let Some(t) = second_threshold {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&products).unwrap()).unwrap();
        v["router"]["second_threshold"] = t.into();
        std::fs::write(&products, v.to_string()).unwrap();
    }
    let out = dir.join("catalog");
    let mut opts = IndexOptions::new(
        demo_sources().join("images"),
        products,
        &out,
        dir.join("models"),
    );
    opts.profile = "full".into();
    opts.allow_random_weights = true;
    let report = index::build(&opts, &mut |_, _, _| {}).expect("full-profile catalog builds");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    // the seed's catalog segmenter: SAM 2 (here its test graphs), prompted by U2Netp's masks
    assert_eq!(report.index_refiner.as_deref(), Some("sam2_decoder"));
    assert!(
        report.refined > 0 && report.refined <= report.cut_by_model,
        "{report:?}"
    );
    out
}

fn engine(dir: &Path, catalog: &Path) -> Engine {
    let mut config = EngineConfig::new(dir.join("models"), catalog);
    config.allow_random_weights = true;
    Engine::open(config).expect("full profile opens on test graphs")
}

fn photo(id: &str, ext: &str) -> Vec<u8> {
    let original =
        std::fs::read(demo_sources().join("images").join(format!("{id}.{ext}"))).unwrap();
    photo_like(&original, 4.0, 0.02, 85)
}

const PRODUCTS: &[&str] = &[
    "saleor-polo-shirt",
    "saleor-code-division-t-shirt",
    "vendure-ultraboost-running-shoe",
    "vendure-hi-top-basketball-shoe",
    "vendure-laptop",
    "vendure-instant-camera",
    "vendure-road-bike",
    "saleor-orange-juice",
];

#[test]
fn full_profile_indexes_prototypes_routes_and_finds_products() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("models")).unwrap();
    test_models(&tmp.path().join("models"));
    let catalog = build(tmp.path(), PRODUCTS, None);

    // random-init models are refused without the explicit flag
    let refused = Engine::open(EngineConfig::new(tmp.path().join("models"), &catalog))
        .err()
        .expect("refused");
    assert!(
        matches!(refused, EngineError::RandomWeights { .. }),
        "{refused}"
    );

    let engine = engine(tmp.path(), &catalog);
    let file = &engine.catalog().file;
    assert_eq!(file.profile, "full");
    assert_eq!(file.models.index_refiner.as_deref(), Some("sam2_decoder"));
    assert!(
        (engine.catalog().all_products().unwrap().iter()).any(|p| p.segmentation == "sam2_decoder"),
        "catalog.json says which products SAM cut out"
    );
    assert_eq!(
        (file.dims.embedding, file.dims.texture),
        (768, 384),
        "SigLIP 768-d, DINOv2 CLS 384-d"
    );
    assert_eq!(
        file.models.text.as_ref().map(|t| t.model.as_str()),
        Some("siglip2_text")
    );
    for c in &file.categories {
        let p = c
            .prototype
            .as_ref()
            .expect("every category has a text prototype");
        assert_eq!(p.len(), 768);
        assert!(
            (p.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-4,
            "prototypes are normalised"
        );
        let expert = if ["apparel", "footwear"].contains(&c.def.name.as_str()) {
            "fashion"
        } else {
            "general"
        };
        assert_eq!(c.def.expert, expert);
    }
    assert_eq!(file.models.experts["fashion"].model, "fashion_siglip");
    assert_eq!(file.models.experts["general"].model, "siglip2");

    let mut found = 0;
    for id in PRODUCTS {
        let ext = if id.starts_with("saleor") {
            "png"
        } else {
            "jpg"
        };
        let query = photo(id, ext);
        // routing: the test text tower knows nothing of images, so only the mechanics are checked
        let r = engine.search(&query, &SearchOptions::default()).unwrap();
        assert_eq!(r.results.len(), PRODUCTS.len());
        let shares: f32 = r.categories.iter().map(|c| c.score).sum();
        assert!(
            (shares - 1.0).abs() < 1e-3,
            "prototype shares form a distribution"
        );
        // retrieval through the category's own expert, DINOv2 texture and colour: the test graphs
        // pool pixels on a coarse grid, so a lightly rotated copy stays nearest to itself
        let category = engine
            .catalog()
            .product_by_id(id)
            .unwrap()
            .unwrap()
            .category;
        let own = SearchOptions {
            category: Some(category),
            ..Default::default()
        };
        found += usize::from(engine.search(&query, &own).unwrap().results[0].id == *id);
    }
    assert!(
        found * 4 >= PRODUCTS.len() * 3,
        "only {found} of {} found as top-1 in their category",
        PRODUCTS.len()
    );
}

#[test]
fn two_experts_merge_into_one_fair_ranking() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("models")).unwrap();
    test_models(&tmp.path().join("models"));
    // two categories with different experts, and a router that always searches both
    let ids = [
        "saleor-polo-shirt",
        "saleor-code-division-t-shirt",
        "vendure-laptop",
        "vendure-cordless-mouse",
    ];
    let catalog = build(tmp.path(), &ids, Some(0.0));
    let engine = engine(tmp.path(), &catalog);
    let experts: Vec<&str> = engine
        .catalog()
        .file
        .categories
        .iter()
        .map(|c| c.def.expert.as_str())
        .collect();
    assert_eq!(experts, vec!["fashion", "general"]);
    let r = engine
        .search(&photo("vendure-laptop", "jpg"), &SearchOptions::default())
        .unwrap();
    assert_eq!(r.route.reason, RouteReason::Top2);
    assert_eq!(r.route.searched.len(), 2);
    assert!(
        r.results.iter().all(|h| h.routed),
        "the router picked both categories"
    );
    let cats: std::collections::HashSet<&str> =
        r.results.iter().map(|h| h.category.as_str()).collect();
    assert_eq!(
        cats.len(),
        2,
        "the merged ranking holds both experts' products"
    );
    assert_eq!(r.results[0].id, "vendure-laptop");
}

#[test]
fn words_are_mixed_into_the_query_by_each_experts_own_text_tower() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("models")).unwrap();
    test_models(&tmp.path().join("models"));
    // three of a category for each expert
    let ids = &[
        "saleor-polo-shirt",
        "saleor-code-division-t-shirt",
        "saleor-polo-shirt-2",
        "vendure-laptop",
        "vendure-tablet",
        "vendure-cordless-mouse",
    ];
    let catalog = build(tmp.path(), ids, None);
    let engine = engine(tmp.path(), &catalog);
    assert!(engine.takes_text());

    let words = "in red leather";
    let query = photo("saleor-polo-shirt", "png");
    let whole = SearchOptions {
        text: Some(words.into()),
        include_candidates: true,
        ..Default::default()
    };
    let b = engine.search(&query, &whole).unwrap();
    assert_eq!(b.text.as_deref(), Some(words));
    assert_eq!(
        b.candidates.len(),
        ids.len(),
        "every category is still searched"
    );

    // per space, cos(normalise(q + w t), row) = (cos(q, row) + w cos(t, row)) / |q + w t|: the
    // same length for every row of that space, t from the tower paired with its expert. One
    // category per search: the space scanned first keeps raw cosines (a second one is aligned
    // onto its score distribution, retrieve.rs)
    let weight = 1.0;
    let emb = &engine.catalog().embeddings;
    for (product, tower) in [
        ("saleor-polo-shirt", "fashion_siglip_text"),
        ("vendure-laptop", "siglip2_text"),
    ] {
        let category = engine
            .catalog()
            .product_by_id(product)
            .unwrap()
            .unwrap()
            .category;
        let plain = SearchOptions {
            category: Some(category.clone()),
            include_candidates: true,
            ..Default::default()
        };
        let refined = SearchOptions {
            text: Some(words.into()),
            ..plain.clone()
        };
        let a = engine.search(&query, &plain).unwrap();
        let b = engine.search(&query, &refined).unwrap();
        let t = TextEncoder::load(engine.models(), tower)
            .unwrap()
            .embed(words)
            .unwrap();
        let mut lengths = Vec::new();
        for h in &b.candidates {
            assert_eq!(h.category, category);
            let row = engine.catalog().products.find_id(&h.id).unwrap().unwrap();
            let before = a.candidates.iter().find(|c| c.id == h.id).unwrap();
            let text_cos: f32 = emb.data()[row * emb.dims..(row + 1) * emb.dims]
                .iter()
                .zip(&t)
                .map(|(x, y)| x * y)
                .sum();
            lengths.push((before.semantic_cutout + weight * text_cos) / h.semantic_cutout);
        }
        assert!(lengths.len() >= 2, "{category}: {lengths:?}");
        let (lo, hi) = lengths
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), l| (lo.min(*l), hi.max(*l)));
        assert!(lo > 0.0 && hi - lo < 2e-3, "{category}: {lengths:?}");
        assert!(
            (lo - 1.0).abs() > 1e-3,
            "{category}: the words moved the query ({lengths:?})"
        );
    }

    // asked for something else, the photo's own product is no longer "this very one"
    assert_ne!(b.verdict, lookalike_engine::Match::Same);
    for bad in ["", "   ", &"x".repeat(201)] {
        let opts = SearchOptions {
            text: Some(bad.into()),
            ..Default::default()
        };
        let err = engine.search(&query, &opts).unwrap_err();
        assert!(matches!(err, EngineError::InvalidOptions(_)), "{err}");
    }
    let plain_words = SearchOptions {
        plain: true,
        text: Some(words.into()),
        ..Default::default()
    };
    assert!(engine.search(&query, &plain_words).is_err());
}
