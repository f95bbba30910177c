//! `lookalike pack` and `lookalike unpack` as a user runs them: the unpacked catalog answers a
//! search exactly as the original does, and a file that is not a bundle is refused with exit
//! status 1, leaving the catalog at `--out` as it was.

use std::path::Path;
use std::process::{Command, Output};

use lookalike_tests::{build_catalog, fixture, models_dir};

fn lookalike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(args)
        .env("LOOKALIKE_MODELS", models_dir())
        .output()
        .expect("lookalike runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "failed: {}", text(&out.stderr));
    serde_json::from_str(text(&out.stdout).trim()).expect("one JSON object")
}

fn results(catalog: &Path) -> serde_json::Value {
    let coffee = fixture("coffee.png");
    let out = lookalike(&[
        "search",
        "--catalog",
        catalog.to_str().unwrap(),
        "--json",
        coffee.to_str().unwrap(),
    ]);
    json_of(&out)["results"].clone()
}

#[test]
fn pack_then_unpack_then_search() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = build_catalog(
        tmp.path(),
        &["vendure-laptop", "vendure-tent", "saleor-orange-juice"],
    );
    let bundle = tmp.path().join("shop.lookalike");
    let b = bundle.to_str().unwrap();
    let packed = json_of(&lookalike(&[
        "pack",
        "--catalog",
        catalog.to_str().unwrap(),
        "--out",
        b,
        "--json",
    ]));
    assert_eq!(packed["products"], 3);
    assert_eq!(
        packed["files"], 9,
        "catalog.json, 2 record files, 3 matrices, 3 thumbnails"
    );
    assert!(packed["seconds"].is_number());

    let unpacked = tmp.path().join("unpacked");
    let u = unpacked.to_str().unwrap();
    let report = json_of(&lookalike(&["unpack", "--bundle", b, "--out", u, "--json"]));
    assert_eq!(report["products"], 3);
    assert_eq!(report["models_checked"], true);
    let original = results(&catalog);
    assert_eq!(original.as_array().unwrap().len(), 3);
    assert_eq!(results(&unpacked), original);

    // human text names what was done
    let again = lookalike(&["unpack", "--bundle", b, "--out", u]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("unpacked"),
        "{}",
        text(&again.stdout)
    );

    // a JPEG is not a bundle: exit status 1, the catalog at --out untouched
    let before = std::fs::read(unpacked.join("catalog.json")).unwrap();
    let jpeg = fixture("rocket.jpg");
    let out = lookalike(&["unpack", "--bundle", jpeg.to_str().unwrap(), "--out", u]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is not a catalog bundle"), "{stderr}");
    assert_eq!(
        std::fs::read(unpacked.join("catalog.json")).unwrap(),
        before
    );
    assert_eq!(results(&unpacked), original);
}
