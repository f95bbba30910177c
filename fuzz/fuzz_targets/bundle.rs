//! `bundle`: arbitrary bytes -> a `.lookalike` file -> `catalog::bundle::unpack` over an existing
//! catalog (the path `lookalike unpack` and the app's import take).
//!
//! The input is the bundle file itself (an uncompressed tar, `bundle.json` first; seeds from
//! fuzz/seedgen: valid bundles and hostile edits of them). It is unpacked with small limits and
//! no model check into `out`, which already holds a small valid catalog. `unpack` must return `Ok`
//! or `Err`, never panic, and:
//! - on `Err` the catalog at `out` is byte for byte what it was, and nothing else is left beside
//!   it (no `.out.building` or `.out.old` folder, nothing written outside `out`);
//! - on `Ok` `out` opens as a catalog and holds exactly the regular files `bundle.json` lists, at
//!   their listed sizes (and nothing is left beside it either);
//! - `read_manifest` (what an import shows before unpacking) fails exactly where `unpack` fails
//!   on `bundle.json`, with the same message.
#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lookalike_engine::Catalog;
use lookalike_engine::catalog::bundle::{self, BUNDLE_JSON, BundleLimits};
use lookalike_engine::catalog::format::Matrix;
use lookalike_engine::catalog::schema::{CATALOG_JSON, COLORS_BIN, EMBEDDINGS_BIN, TEXTURE_BIN};
use lookalike_engine::stages::color;

/// Small limits, so libFuzzer can reach each of them (scripts/fuzz.sh: -max_len 256 KB).
const LIMITS: BundleLimits = BundleLimits {
    max_bundle_bytes: 192 << 10,
    max_manifest_bytes: 16 << 10,
    max_entries: 64,
    max_total_bytes: 160 << 10,
};
const INPUT: &str = "in.lookalike";
const OUT: &str = "out";

/// A file tree as (relative path -> contents; `None` for a folder). Links and other kinds are
/// recorded as a marker the original never has, so any of them shows up as a difference.
type Tree = BTreeMap<PathBuf, Option<Vec<u8>>>;

struct Scratch {
    _base: tempfile::TempDir,
    /// Holds only `in.lookalike` and `out` between executions.
    work: PathBuf,
    /// The catalog at `out` before every execution.
    original: Tree,
}

/// Scratch space reused by every input (tmpfs when there is one), with the existing catalog.
fn scratch() -> &'static Scratch {
    static SCRATCH: OnceLock<Scratch> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        let base = common::scratch_tempdir("lookalike-fuzz-bundle-");
        let work = base.path().join("work");
        let out = work.join(OUT);
        existing_catalog(&out);
        Catalog::open(&out).expect("fuzz harness: the existing catalog opens");
        let original = tree(&out);
        Scratch {
            _base: base,
            work,
            original,
        }
    })
}

/// A valid two-product catalog (tiny dims) written by hand, as the engine's unit tests do.
fn existing_catalog(dir: &Path) {
    fs::create_dir_all(dir.join("thumbs")).expect("fuzz harness: create catalog dir");
    let sha = "0".repeat(64);
    let stamp = |output: &str| serde_json::json!({"model": "m", "output": output, "sha256": sha});
    let product = |id: &str| {
        serde_json::json!({
            "id": id, "name": id, "category": "things", "price": null, "currency": null,
            "gtin": null, "brand": null, "description": null, "source": null,
            "source_image": format!("{id}.png"), "thumbnail": format!("thumbs/{id}.jpg"),
            "segmentation": "alpha"
        })
    };
    let json = serde_json::json!({
        "format": "lookalike-catalog", "version": 1, "name": "existing", "profile": "lite",
        "models": {"router": stamp("logits"), "texture": stamp("texture"),
                   "experts": {"general": stamp("embedding")}, "index_segmenter": null},
        "dims": {"embedding": 4, "texture": 3, "color": color::DIMS},
        "blend": {"semantic": 0.5, "texture": 0.3, "color": 0.2},
        "router": {"kind": "class_table", "second_threshold": 0.25, "min_confidence": 0.05},
        "categories": [{"name": "things", "expert": "general", "imagenet_classes": [1],
                        "rows": [0, 2]}],
        "products": [product("a"), product("b")],
    });
    fs::write(dir.join(CATALOG_JSON), json.to_string()).expect("fuzz harness: catalog.json");
    for (name, dims) in [
        (EMBEDDINGS_BIN, 4),
        (TEXTURE_BIN, 3),
        (COLORS_BIN, color::DIMS),
    ] {
        let mut m = Matrix::new(dims);
        m.push(&vec![0.5; dims]);
        m.push(&vec![0.25; dims]);
        m.write(&dir.join(name)).expect("fuzz harness: .bin");
    }
    fs::write(dir.join("thumbs/a.jpg"), b"the old a").expect("fuzz harness: thumbnail");
    fs::write(dir.join("thumbs/b.jpg"), b"the old b").expect("fuzz harness: thumbnail");
}

fn tree(root: &Path) -> Tree {
    let mut all = Tree::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("fuzz harness: read_dir") {
            let p = e.expect("fuzz harness: read_dir entry").path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let kind = fs::symlink_metadata(&p)
                .expect("fuzz harness: metadata")
                .file_type();
            if kind.is_dir() {
                all.insert(rel, None);
                stack.push(p);
            } else if kind.is_file() {
                all.insert(rel, Some(fs::read(&p).expect("fuzz harness: read")));
            } else {
                all.insert(rel, Some(format!("<not a file: {kind:?}>").into_bytes()));
            }
        }
    }
    all
}

fn restore(out: &Path, original: &Tree) {
    if fs::symlink_metadata(out).is_ok() {
        fs::remove_dir_all(out).expect("fuzz harness: remove the unpacked catalog");
    }
    fs::create_dir_all(out).expect("fuzz harness: recreate out");
    for (rel, contents) in original {
        match contents {
            None => fs::create_dir_all(out.join(rel)).expect("fuzz harness: recreate folder"),
            Some(bytes) => fs::write(out.join(rel), bytes).expect("fuzz harness: recreate file"),
        }
    }
}

/// What the work folder holds besides the input and `out` (a temp or aside folder left behind,
/// or a file written outside `out`).
fn leftovers(work: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(work)
        .expect("fuzz harness: read work dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != INPUT && n != OUT)
        .collect();
    names.sort();
    names
}

fuzz_target!(|data: &[u8]| {
    let s = scratch();
    let input = s.work.join(INPUT);
    let out = s.work.join(OUT);
    fs::write(&input, data).expect("fuzz harness: write the bundle");

    let manifest = bundle::read_manifest(&input, &LIMITS);
    let unpacked = bundle::unpack(&input, &out, &LIMITS, None);
    let left = leftovers(&s.work);
    match unpacked {
        Err(e) => {
            assert!(
                left.is_empty(),
                "a refused bundle left {left:?} beside out: {e}"
            );
            if let Err(m) = &manifest {
                assert_eq!(
                    m.to_string(),
                    e.to_string(),
                    "read_manifest and unpack disagree"
                );
            }
            assert!(
                tree(&out) == s.original,
                "a refused bundle changed the catalog at out: {e}"
            );
        }
        Ok(report) => {
            assert!(left.is_empty(), "an unpack left {left:?} beside out");
            let m = match manifest {
                Ok(m) => m,
                Err(e) => panic!("unpack accepted a bundle read_manifest refuses: {e}"),
            };
            let cat = Catalog::open(&out).expect("an unpacked catalog opens");
            assert_eq!(report.products, cat.len());
            assert_eq!(report.files, m.files.len());
            assert_eq!(report.bundle_bytes, data.len() as u64);
            assert_eq!(
                report.content_bytes,
                m.files.iter().map(|f| f.size).sum::<u64>()
            );
            assert_eq!(
                (cat.file.name.as_str(), cat.file.profile.as_str()),
                (m.name.as_str(), m.profile.as_str())
            );
            assert!(m.files.iter().all(|f| f.path != BUNDLE_JSON));
            let files: BTreeMap<PathBuf, usize> = tree(&out)
                .into_iter()
                .filter_map(|(p, c)| c.map(|c| (p, c.len())))
                .collect();
            let listed: BTreeMap<PathBuf, usize> = m
                .files
                .iter()
                .map(|f| (PathBuf::from(&f.path), f.size as usize))
                .collect();
            assert_eq!(files, listed, "the unpacked files are not the listed ones");
            restore(&out, &s.original);
        }
    }
});
