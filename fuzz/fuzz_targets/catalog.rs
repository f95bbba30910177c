//! `catalog`: arbitrary bytes -> a catalog folder on disk -> `Catalog::open`, then
//! `Catalog::open_checked`.
//!
//! The input is a bundle (fuzz/README.md): one flags byte, then five sections, each a u32
//! little-endian length and that many bytes (a length past the end takes what is left):
//! `catalog.json`, `embeddings.bin`, `texture.bin`, `color_signatures.bin`, thumbnail bytes.
//! Flags: 1 = create every product's thumbnail (where its path is a plain relative one),
//! 2 = the first thumbnail is a symbolic link to a file outside the catalog, 4 = the first
//! thumbnail is a directory, 8 = one `.bin` (selected by bits 6-7) is missing, 16 = that `.bin` is
//! a directory, 32 = the first thumbnail's top folder is a symbolic link to a folder outside the
//! catalog holding the thumbnails (`FUZZ_CATALOG_NO_LINKED_DIRS=1` turns this one off).
//!
//! `Catalog::open` must return `Ok` or an `Err`, never panic, and reading any of its records
//! must not panic either. On `Ok` from `open_checked` the catalog must be what the reader
//! promises (rows, dims, category tiling, unique ids, every thumbnail a file inside
//! the catalog folder), and the parts of a search that only read the catalog (class table,
//! route decision, retrieval scan, texture/colour rows, barcode lookup) must run on it.
#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lookalike_engine::Catalog;
use lookalike_engine::catalog::schema::{CATALOG_JSON, COLORS_BIN, EMBEDDINGS_BIN, TEXTURE_BIN};
use lookalike_engine::stages::route::{self, ClassTable, RouterConfig};
use lookalike_engine::stages::{color, retrieve, texture};

const MAX_THUMBS: usize = 128;
const IMAGENET_CLASSES: usize = 1000;

/// Scratch space reused by every input (tmpfs when there is one).
fn base() -> &'static Path {
    static BASE: OnceLock<tempfile::TempDir> = OnceLock::new();
    BASE.get_or_init(|| common::scratch_tempdir("lookalike-fuzz-catalog-"))
        .path()
}

struct Bundle<'a> {
    flags: u8,
    sections: [&'a [u8]; 5],
}

fn parse(data: &[u8]) -> Bundle<'_> {
    let flags = data.first().copied().unwrap_or(0);
    let mut rest = data.get(1..).unwrap_or(&[]);
    let mut sections: [&[u8]; 5] = [&[]; 5];
    for s in &mut sections {
        if rest.len() < 4 {
            *s = rest;
            rest = &[];
            continue;
        }
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let body = &rest[4..];
        let n = n.min(body.len());
        *s = &body[..n];
        rest = &body[n..];
    }
    Bundle { flags, sections }
}

/// Thumbnail paths as the JSON names them (read leniently: the reader decides what is valid).
fn thumbnails(json: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(json) else {
        return Vec::new();
    };
    v.get("products")
        .and_then(|p| p.as_array())
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("thumbnail")?.as_str().map(str::to_owned))
                .take(MAX_THUMBS)
                .collect()
        })
        .unwrap_or_default()
}

/// Only plain relative paths are ever created by the harness (it must not write outside `dir`).
fn plain(rel: &str) -> Option<&Path> {
    let p = Path::new(rel);
    let ok = !rel.is_empty()
        && rel.len() < 512
        && p.components().count() <= 6
        && p.components().all(|c| matches!(c, Component::Normal(_)));
    ok.then_some(p)
}

fn write_new(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        let _ = fs::create_dir_all(parent);
    }
    // create_new: never follows a link and never replaces catalog.json or a .bin
    if let Ok(mut f) = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        let _ = f.write_all(bytes);
    }
}

fn build(dir: &Path, outside: &Path, b: &Bundle) {
    let [json, emb, tex, col, thumb] = b.sections;
    let _ = fs::remove_dir_all(dir);
    let _ = fs::remove_dir_all(outside);
    fs::create_dir_all(dir).expect("fuzz harness: create catalog dir");
    fs::create_dir_all(outside.join("linked")).expect("fuzz harness: create outside dir");
    fs::write(outside.join("secret.jpg"), thumb).expect("fuzz harness: write outside file");
    fs::write(dir.join(CATALOG_JSON), json).expect("fuzz harness: write catalog.json");
    let bins = [(EMBEDDINGS_BIN, emb), (TEXTURE_BIN, tex), (COLORS_BIN, col)];
    let chosen = usize::from(b.flags >> 6) % 3;
    for (i, (name, bytes)) in bins.iter().enumerate() {
        if i == chosen && b.flags & 8 != 0 {
            continue;
        } else if i == chosen && b.flags & 16 != 0 {
            fs::create_dir_all(dir.join(name)).expect("fuzz harness: create dir");
        } else {
            fs::write(dir.join(name), bytes).expect("fuzz harness: write .bin");
        }
    }
    let thumbs = thumbnails(json);
    let first = thumbs.first().and_then(|t| plain(t));
    if let Some(first) = first
        && b.flags & 4 != 0
    {
        let _ = fs::create_dir_all(dir.join(first));
    }
    if b.flags & 1 != 0 {
        for t in thumbs.iter().filter_map(|t| plain(t)) {
            write_new(&dir.join(t), thumb);
        }
    }
    // links last, after every regular file: nothing is ever written through them
    let Some(first) = first else { return };
    if b.flags & 2 != 0 && !dir.join(first).exists() {
        if let Some(parent) = dir.join(first).parent() {
            let _ = fs::create_dir_all(parent);
        }
        let _ = std::os::unix::fs::symlink(outside.join("secret.jpg"), dir.join(first));
    }
    let linked_dirs = std::env::var_os("FUZZ_CATALOG_NO_LINKED_DIRS").is_none_or(|v| v != "1");
    if linked_dirs
        && b.flags & 32 != 0
        && let Some(Component::Normal(top)) = first.components().next()
        && first.components().count() >= 2
    {
        // the real files go to outside/linked/..., reached through dir/<top> -> outside/linked
        for t in thumbs.iter().filter_map(|t| plain(t)) {
            if let Ok(rest) = t.strip_prefix(top) {
                write_new(&outside.join("linked").join(rest), thumb);
            }
        }
        let top = dir.join(top);
        if fs::symlink_metadata(&top).is_ok_and(|m| m.is_dir()) {
            let _ = fs::remove_dir_all(&top);
        }
        if fs::symlink_metadata(&top).is_err() {
            let _ = std::os::unix::fs::symlink(outside.join("linked"), &top);
        }
    }
}

/// What an opened (not fully checked) catalog must survive: every record read, looked up and
/// its thumbnail resolved, each an answer or an error.
fn read_unchecked(cat: &Catalog) {
    for row in 0..cat.len().min(MAX_THUMBS) {
        if let Ok(p) = cat.product(row) {
            let _ = cat.thumbnail_path(&p);
            let _ = cat.product_by_id(&p.id);
            if let Some(g) = &p.gtin {
                let _ = cat.product_by_gtin(g);
            }
        }
    }
    let _ = cat.samples(4);
}

fn check(cat: &Catalog, dir: &Path) {
    let f = &cat.file;
    let products = cat.all_products().expect("a checked catalog's records read");
    let n = products.len();
    assert_eq!((cat.len(), f.rows), (n, n));
    for (m, dims) in [
        (&cat.embeddings, f.dims.embedding),
        (&cat.texture, f.dims.texture),
        (&cat.colors, f.dims.color),
    ] {
        assert_eq!((m.rows, m.dims, m.data().len()), (n, dims, n * dims));
        assert!(m.data().iter().all(|v| v.is_finite()));
    }
    assert_eq!(f.dims.color, color::DIMS);
    assert!(f.blend.is_none_or(|b| b.validate().is_ok()));
    let mut next = 0;
    for c in &f.categories {
        assert_eq!(c.rows[0], next);
        assert!(c.rows[1] >= c.rows[0] && c.rows[1] <= n);
        assert!(
            products[c.rows[0]..c.rows[1]]
                .iter()
                .all(|p| p.category == c.def.name)
        );
        next = c.rows[1];
    }
    assert_eq!(next, n);
    let ids: HashSet<&str> = products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), n, "duplicate product ids accepted");
    let root = fs::canonicalize(dir).expect("fuzz harness: canonicalize catalog dir");
    for p in &products {
        let t = cat.thumbnail_path(p).expect("a checked catalog's thumbnails resolve");
        assert!(
            t.is_file(),
            "accepted thumbnail {:?} is not a file",
            p.thumbnail
        );
        let real: PathBuf = fs::canonicalize(&t).expect("thumbnail resolves");
        assert!(
            real.starts_with(&root),
            "accepted thumbnail {:?} resolves to {} outside the catalog {}",
            p.thumbnail,
            real.display(),
            root.display()
        );
        let found = cat.product_by_id(&p.id).expect("the id index reads");
        assert_eq!(found.map(|q| q.id), Some(p.id.clone()));
        if let Some(g) = &p.gtin {
            let _ = cat.product_by_gtin(g);
        }
    }

    // what a search does with the catalog's own data (no model needed)
    let curated: Vec<&[u32]> = f
        .categories
        .iter()
        .map(|c| c.def.imagenet_classes.as_slice())
        .collect();
    let learned: Vec<&[(u32, f32)]> = f
        .categories
        .iter()
        .map(|c| c.learned_classes.as_slice())
        .collect();
    let table = ClassTable::new(IMAGENET_CLASSES, &curated, &learned);
    let logits: Vec<f32> = (0..IMAGENET_CLASSES)
        .map(|i| (i % 17) as f32 * 0.3)
        .collect();
    let (shares, mass) = table.scores(&logits);
    assert_eq!(shares.len(), f.categories.len());
    let names = cat.category_names();
    let cfg: &RouterConfig = &f.router.config;
    let r = route::decide(&names, &shares, mass, cfg);
    assert!(r.selected.iter().all(|i| *i < names.len()));
    for name in &names {
        assert!(cat.category_index(name).is_some());
    }
    let query = vec![1.0 / (f.dims.embedding.max(1) as f32).sqrt(); f.dims.embedding];
    // the text-prototype router runs only when every category has one (Engine::open checks it)
    let protos: Option<Vec<&[f32]>> = f
        .categories
        .iter()
        .map(|c| c.prototype.as_deref())
        .collect();
    if let Some(protos) = protos {
        let _ = route::prototype_scores(&query, &protos, cfg.temperature);
    }
    let ranges: Vec<_> = f.categories.iter().map(|c| c.rows[0]..c.rows[1]).collect();
    let found = retrieve::scan_top_k(
        cat.embeddings.data(),
        cat.embeddings.dims,
        &ranges,
        &query,
        50,
    );
    assert_eq!(found.count, n);
    let short = found.top;
    let tq = texture::descriptor(&vec![1.0; f.dims.texture], &f.texture_center);
    let qsig = [1.0 / color::DIMS as f32; color::DIMS];
    for (row, _) in short {
        let _ = texture::similarity(&tq, cat.texture.row(row));
        let s = color::similarity(&qsig, cat.colors.row(row));
        assert!((0.0..=1.0).contains(&s), "colour similarity {s}");
    }
}

fuzz_target!(|data: &[u8]| {
    let bundle = parse(data);
    let dir = base().join("catalog");
    let outside = base().join("outside");
    build(&dir, &outside, &bundle);
    if let Ok(cat) = Catalog::open(&dir) {
        read_unchecked(&cat);
        if let Ok(cat) = Catalog::open_checked(&dir) {
            check(&cat, &dir);
        }
    }
});
