//! What a shopper does after the first answer, on the real models and the demo catalog: pick one
//! object of a photo that holds two (`SearchOptions::region`), and ask for the same kind of thing
//! in another colour (`SearchOptions::color`).

use lookalike_engine::stages::color::{self, PALETTE};
use lookalike_engine::{
    ColorTarget, Engine, EngineConfig, ErrorCode, Match, Region, SearchOptions,
};
use lookalike_tests::{
    TWO_OBJECTS, demo_image, fixture, models_dir, photo_like, repo, two_object_photo,
};

fn demo_engine() -> Engine {
    let catalog = repo().join("catalog/demo");
    assert!(
        catalog.join("catalog.json").is_file(),
        "catalog/demo is missing: run `bash scripts/setup.sh core`"
    );
    Engine::open(EngineConfig::new(models_dir(), &catalog)).expect("demo catalog opens")
}

fn region(x: f32, y: f32, w: f32, h: f32) -> Option<Region> {
    Some(Region { x, y, w, h })
}

fn top1(engine: &Engine, photo: &[u8], opts: &SearchOptions) -> String {
    engine.search(photo, opts).unwrap().results[0].id.clone()
}

#[test]
fn each_object_of_a_two_object_photo_is_found_in_its_region() {
    let engine = demo_engine();
    let [left, right] = TWO_OBJECTS;
    let photo = two_object_photo(&demo_image(left), &demo_image(right));
    assert!(
        photo == std::fs::read(fixture("two-objects.jpg")).unwrap(),
        "tests/fixtures/two-objects.jpg is stale: cargo run --release -p lookalike-tests --example two_objects -- tests/fixtures/two-objects.jpg"
    );
    let whole = engine.search(&photo, &SearchOptions::default()).unwrap();
    assert_eq!(whole.region, None);
    assert!(whole.objects.len() >= 2, "two objects: {:?}", whole.objects);
    // one object in each half, each a sensible size
    let centre = |r: Region| r.x + r.w / 2.0;
    let halves: Vec<bool> = whole.objects[..2]
        .iter()
        .map(|o| centre(o.region) < 0.5)
        .collect();
    assert!(
        halves.contains(&true) && halves.contains(&false),
        "{:?}",
        whole.objects
    );
    for o in &whole.objects {
        assert!(o.area > 0.01 && o.area < 0.5, "{o:?}");
        o.region.validate().unwrap();
    }
    assert!(
        whole.objects.windows(2).all(|w| w[0].area >= w[1].area),
        "largest first"
    );

    // each half, and each object's own box, finds its product, and says so
    for (r, want) in [
        (region(0.0, 0.0, 0.5, 1.0), left),
        (region(0.5, 0.0, 0.5, 1.0), right),
    ] {
        let opts = SearchOptions {
            region: r,
            ..Default::default()
        };
        let res = engine.search(&photo, &opts).unwrap();
        assert_eq!(res.results[0].id, want, "{r:?}");
        assert_eq!(res.region, r);
        assert_eq!(res.verdict, Match::Same, "{r:?}: {:?}", res.results[0]);
        // the objects come back in the whole photo's coordinates, inside the region searched
        let r = r.unwrap();
        for o in &res.objects {
            let g = o.region;
            assert!(
                g.x >= r.x - 1e-4 && g.x + g.w <= r.x + r.w + 1e-4,
                "{o:?} outside {r:?}"
            );
        }
    }
    for o in &whole.objects[..2] {
        let want = if centre(o.region) < 0.5 { left } else { right };
        let opts = SearchOptions {
            region: Some(o.region),
            ..Default::default()
        };
        assert_eq!(top1(&engine, &photo, &opts), want, "{o:?}");
    }
}

#[test]
fn a_region_outside_the_photo_empty_or_not_a_number_is_refused_clearly() {
    let engine = demo_engine();
    let photo = photo_like(&demo_image("vendure-tulip-pot"), 0.0, 0.0, 90);
    let cases = [
        (region(f32::NAN, 0.0, 0.5, 0.5), "finite"),
        (region(0.0, 0.0, 0.5, f32::INFINITY), "finite"),
        (region(0.2, 0.2, 0.0, 0.5), "above 0"),
        (region(0.6, 0.0, 0.5, 1.0), "outside the photo"),
        (region(-0.1, 0.0, 0.5, 1.0), "outside the photo"),
        (region(0.5, 0.5, 0.01, 0.3), "pick at least 32x32 px"),
    ];
    for (r, why) in cases {
        let opts = SearchOptions {
            region: r,
            ..Default::default()
        };
        let e = engine.search(&photo, &opts).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions, "{r:?}");
        let msg = e.to_string();
        assert!(msg.contains("region") && msg.contains(why), "{r:?}: {msg}");
    }
    // the whole photo as a region is the photo
    let whole = SearchOptions {
        region: Some(Region::WHOLE),
        ..Default::default()
    };
    assert_eq!(
        top1(&engine, &photo, &whole),
        top1(&engine, &photo, &SearchOptions::default())
    );
}

#[test]
fn asking_for_another_colour_brings_that_colour_up() {
    let engine = demo_engine();
    // a shopper's photo of the white hoodie; the catalog has it in black, blue and mustard too
    let photo = photo_like(&demo_image("saleor-white-hoodie"), 4.0, 0.03, 85);
    let plain = SearchOptions {
        include_candidates: true,
        ..Default::default()
    };
    let base = engine.search(&photo, &plain).unwrap();
    assert_eq!(base.results[0].id, "saleor-white-hoodie");
    assert_eq!(base.color, None);
    let rank_in = |res: &lookalike_engine::SearchResult, id: &str| {
        res.results
            .iter()
            .position(|h| h.id == id)
            .map_or(99, |i| i + 1)
    };
    for (name, want) in [
        ("black", "saleor-black-hoodie"),
        ("blue", "saleor-blue-hoodie"),
        ("yellow", "saleor-mustard-hoodie"),
    ] {
        let target = ColorTarget::parse(name).unwrap();
        let opts = SearchOptions {
            color: Some(target),
            include_candidates: true,
            ..Default::default()
        };
        let res = engine.search(&photo, &opts).unwrap();
        assert_eq!(res.results[0].id, want, "{name}: {:?}", res.results[0]);
        assert!(
            rank_in(&res, want) < rank_in(&base, want),
            "{name} moved up"
        );
        assert_eq!(res.color.as_deref(), Some(target.hex().as_str()));
        // another colour is never "this is it"
        assert_ne!(res.verdict, Match::Same);
        // the colour score is the product's similarity to the swatch: exactly what the UI's
        // instant re-rank reads from `swatches`
        let i = target.swatch.unwrap();
        for h in res.results.iter().chain(&res.candidates) {
            assert_eq!(h.swatches.len(), PALETTE.len());
            assert_eq!(h.color, h.swatches[i], "{name}: {}", h.id);
        }
        // the same shortlist: a colour re-ranks, it does not search again
        let ids = |r: &lookalike_engine::SearchResult| {
            let mut v: Vec<String> = r.candidates.iter().map(|h| h.id.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(ids(&res), ids(&base), "{name}");
    }
    // a colour outside the palette works from its hex; the plain baseline refuses colours
    let navy = ColorTarget::parse("#1b2a6b").unwrap();
    let opts = SearchOptions {
        color: Some(navy),
        ..Default::default()
    };
    assert_eq!(top1(&engine, &photo, &opts), "saleor-blue-hoodie");
    let plain_colour = SearchOptions {
        plain: true,
        color: Some(navy),
        ..Default::default()
    };
    let e = engine.search(&photo, &plain_colour).unwrap_err();
    assert!(e.to_string().contains("takes no colour"), "{e}");
    assert_eq!(color::palette().len(), PALETTE.len());
}
