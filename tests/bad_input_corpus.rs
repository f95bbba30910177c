//! The committed bad-input corpus (`tests/bad-inputs/`, written by `make_corpus.py`): every file
//! goes through a real search on the lite models and must give the outcome `expected.toml` lists
//! for it: an answer (with the right size, orientation, colours and segmentation) or the named
//! error a user would see. The folder, the manifest and `SHA256SUMS` must agree exactly.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use lookalike_engine::models::runtime::sha256_file;
use lookalike_engine::stages::decode::{DecodeOptions, decode};
use lookalike_engine::stages::segment::{CutoutUse, MaskSource};
use lookalike_engine::{Engine, EngineConfig, SearchOptions};
use lookalike_tests::{build_catalog, models_dir, repo};

const PRODUCTS: &[&str] = &[
    "vendure-laptop",
    "vendure-tent",
    "saleor-orange-juice",
    "saleor-polo-shirt",
];

/// Files in the folder that are not corpus inputs.
const NOT_INPUTS: &[&str] = &["make_corpus.py", "expected.toml", "SHA256SUMS", "README.md"];

/// Colours of the "quadrants" picture (make_corpus.py) at the centre of each quadrant of 64x48.
const QUADRANTS: [(u32, u32, [u8; 3]); 4] = [
    (16, 12, [220, 30, 30]),
    (48, 12, [30, 180, 60]),
    (16, 36, [40, 60, 220]),
    (48, 36, [240, 210, 40]),
];
const TOLERANCE: i32 = 40;

fn corpus_dir() -> PathBuf {
    repo().join("tests/bad-inputs")
}

fn inputs() -> BTreeSet<String> {
    std::fs::read_dir(corpus_dir())
        .expect("tests/bad-inputs exists")
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|n| !NOT_INPUTS.contains(&n.as_str()))
        .collect()
}

fn manifest() -> toml::Table {
    let text = std::fs::read_to_string(corpus_dir().join("expected.toml")).unwrap();
    toml::from_str(&text).expect("expected.toml parses")
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    let (_, engine) = ENGINE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let catalog = build_catalog(dir.path(), PRODUCTS);
        let engine = Engine::open(EngineConfig::new(models_dir(), &catalog)).expect("engine opens");
        (dir, engine)
    });
    engine
}

fn close(got: [u8; 3], want: [u8; 3]) -> bool {
    got.iter()
        .zip(want)
        .all(|(g, w)| (i32::from(*g) - i32::from(w)).abs() <= TOLERANCE)
}

/// Checks one file against its manifest entry; returns what went wrong, if anything.
fn check(name: &str, spec: &toml::Table) -> Result<String, String> {
    let bytes = std::fs::read(corpus_dir().join(name)).map_err(|e| e.to_string())?;
    let str_of = |k: &str| spec.get(k).and_then(|v| v.as_str());
    let outcome = str_of("outcome").ok_or("no `outcome`")?;
    let searched = engine().search(&bytes, &SearchOptions::default());
    let r = match (outcome, searched) {
        ("ok", Ok(r)) => r,
        ("ok", Err(e)) => return Err(format!("expected an answer, got {}: {e}", e.code())),
        (code, Ok(r)) => {
            return Err(format!(
                "expected error {code}, got an answer ({} {}x{})",
                r.image.format, r.image.width, r.image.height
            ));
        }
        (code, Err(e)) => {
            let msg = e.to_string();
            if e.code() != code {
                return Err(format!("expected error {code}, got {}: {msg}", e.code()));
            }
            let words = str_of("message").ok_or("an error entry needs `message`")?;
            if !msg.contains(words) {
                return Err(format!("message lacks {words:?}: {msg}"));
            }
            return Ok(format!("{code}: {msg}"));
        }
    };
    // ---- answered: the result itself ----
    if r.results.len() != PRODUCTS.len() {
        return Err(format!("{} results", r.results.len()));
    }
    if r.results.iter().any(|h| !h.score.is_finite()) {
        return Err("a non-finite score".into());
    }
    let size = format!("{}x{}", r.image.width, r.image.height);
    if let Some(want) = str_of("size")
        && want != size
    {
        return Err(format!("size {size}, expected {want}"));
    }
    if let Some(want) = str_of("format")
        && want != r.image.format
    {
        return Err(format!("format {}, expected {want}", r.image.format));
    }
    if let Some(want) = spec.get("exif_orientation").and_then(|v| v.as_integer())
        && i64::from(r.image.exif_orientation) != want
    {
        return Err(format!(
            "EXIF orientation {}, expected {want}",
            r.image.exif_orientation
        ));
    }
    let seg = &r.segmentation;
    if let Some(want) = str_of("segmentation")
        && want != seg.used.to_string()
    {
        return Err(format!("segmentation {}, expected {want}", seg.used));
    }
    if seg.used == CutoutUse::Fallback && seg.fallback_reason.is_none() {
        return Err("a fallback must say why".into());
    }
    if let Some(want) = str_of("mask") {
        let got = match seg.source {
            MaskSource::Alpha => "alpha",
            MaskSource::Model => "model",
        };
        if got != want {
            return Err(format!("mask from {got}, expected {want}"));
        }
    }
    // ---- the decoded pixels (the same decode stage the search ran) ----
    let mut pixels: Vec<(u32, u32, [u8; 3])> = Vec::new();
    match str_of("picture") {
        Some("quadrants") => pixels.extend(QUADRANTS),
        Some(other) => return Err(format!("unknown picture {other:?}")),
        None => {}
    }
    for p in spec
        .get("pixels")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let v: Vec<i64> = p
            .as_array()
            .ok_or("pixels: [[x, y, r, g, b]]")?
            .iter()
            .map(|n| n.as_integer().unwrap_or(-1))
            .collect();
        let [x, y, rr, gg, bb] = v[..] else {
            return Err("pixels: [[x, y, r, g, b]]".into());
        };
        pixels.push((x as u32, y as u32, [rr as u8, gg as u8, bb as u8]));
    }
    if !pixels.is_empty() {
        let d = decode(&bytes, &DecodeOptions::default()).map_err(|e| e.to_string())?;
        for (x, y, want) in pixels {
            let p = d.image.get_pixel(x, y).0;
            let got = [p[0], p[1], p[2]];
            if !close(got, want) {
                return Err(format!("pixel ({x}, {y}) is {got:?}, expected {want:?}"));
            }
        }
    }
    Ok(format!(
        "ok: {} {size}, segmentation {}, top {}",
        r.image.format, seg.used, r.results[0].id
    ))
}

#[test]
fn every_corpus_file_has_its_expected_outcome() {
    let manifest = manifest();
    let listed: BTreeSet<String> = manifest.keys().cloned().collect();
    let present = inputs();
    let unlisted: Vec<_> = present.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&present).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "tests/bad-inputs and expected.toml disagree: not in the manifest {unlisted:?}, \
         listed but not in the folder {missing:?}"
    );
    assert!(
        present.len() >= 30,
        "the corpus has {} files",
        present.len()
    );
    let mut failures = Vec::new();
    for (name, spec) in &manifest {
        let spec = spec
            .as_table()
            .unwrap_or_else(|| panic!("{name}: not a table"));
        assert!(
            spec.get("what").and_then(|v| v.as_str()).is_some(),
            "{name}: says `what` it is"
        );
        match check(name, spec) {
            Ok(summary) => println!("{name:28} {summary}"),
            Err(why) => {
                println!("{name:28} FAILED: {why}");
                failures.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files:\n{}",
        failures.len(),
        manifest.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_matches_its_checksums() {
    let text = std::fs::read_to_string(corpus_dir().join("SHA256SUMS")).unwrap();
    let mut listed = BTreeSet::new();
    for line in text.lines() {
        let (sum, name) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("SHA256SUMS line {line:?}"));
        let actual =
            sha256_file(&corpus_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            actual, sum,
            "{name} changed: regenerate with make_corpus.py (and review expected.toml)"
        );
        listed.insert(name.to_string());
    }
    assert_eq!(
        listed,
        inputs(),
        "SHA256SUMS lists exactly the corpus files"
    );
}
