//! The `match` verdict on real photos and the demo catalog, under the profile's calibrated rule
//! (`[profiles.lite.match]` in models/manifest.toml): a shopper's photo of a catalog product says
//! "same", a photo of something the shop does not sell and a drawing never do.

use lookalike_engine::{Engine, EngineConfig, Match, SearchOptions};
use lookalike_tests::{demo_sources, fixture, models_dir, photo_like, repo};

fn demo() -> Engine {
    let catalog = repo().join("catalog/demo");
    assert!(
        catalog.join("catalog.json").is_file(),
        "catalog/demo is missing: run `bash scripts/setup.sh core`"
    );
    let engine = Engine::open(EngineConfig::new(models_dir(), &catalog)).expect("demo opens");
    assert!(
        engine.match_rule().is_some(),
        "the lite profile carries a calibrated match rule"
    );
    engine
}

#[test]
fn a_photo_of_a_catalog_product_is_the_same_product() {
    let engine = demo();
    let products: Vec<(String, String)> = engine
        .catalog()
        .all_products()
        .unwrap()
        .iter()
        .step_by(5)
        .map(|p| (p.id.clone(), p.source_image.clone()))
        .collect();
    let mut same = 0;
    for (i, (id, file)) in products.iter().enumerate() {
        let original = std::fs::read(demo_sources().join("images").join(file)).unwrap();
        let query = photo_like(&original, if i % 2 == 0 { 4.0 } else { -4.0 }, 0.03, 80);
        let r = engine.search(&query, &SearchOptions::default()).unwrap();
        println!("{id:<36} -> {:<36} {:?}", r.results[0].id, r.verdict);
        if r.verdict == Match::Same {
            assert_eq!(&r.results[0].id, id, "\"same\" names the right product");
            same += 1;
        }
        assert_ne!(r.verdict, Match::None, "{id}: its own photo is close");
    }
    // README's Quality section measures the rate on harder photos; these are mild ones
    assert!(
        same * 10 >= products.len() * 7,
        "only {same} of {} photos of catalog products said \"same\"",
        products.len()
    );
}

#[test]
fn photos_and_a_drawing_of_things_the_shop_does_not_sell_are_never_the_same() {
    let engine = demo();
    let mut verdicts = Vec::new();
    for name in [
        "chelsea.png",
        "astronaut.png",
        "rocket.jpg",
        "motorcycle_left.png",
        "gift_box.png",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let r = engine.search(&bytes, &SearchOptions::default()).unwrap();
        println!("{name:<20} -> {:<36} {:?}", r.results[0].id, r.verdict);
        assert_ne!(r.verdict, Match::Same, "{name} is not in the demo catalog");
        assert_eq!(r.results.len(), 10, "lookalikes are still shown");
        verdicts.push(r.verdict);
    }
    assert!(
        verdicts.contains(&Match::None),
        "at least one of them is far from everything: {verdicts:?}"
    );
}

#[test]
fn the_verdict_is_the_rule_applied_to_the_results() {
    let engine = demo();
    let bytes = std::fs::read(fixture("coffee.png")).unwrap();
    let r = engine.search(&bytes, &SearchOptions::default()).unwrap();
    let rule = engine.match_rule().copied();
    assert_eq!(
        r.verdict,
        lookalike_engine::SearchResult::judge(&r.results, rule.as_ref())
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["match"], r.verdict.as_str());
}
