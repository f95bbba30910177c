//! Catalog bundles on a real catalog and the real models: pack, unpack elsewhere, and the search
//! gives the very same hits; every hostile bundle is refused with a message naming the problem,
//! and the catalog already at `--out` stays byte-identical and loadable.

use std::io::Read;
use std::path::{Path, PathBuf};

use lookalike_engine::catalog::Catalog;
use lookalike_engine::catalog::bundle::{self, BundleLimits, BundleManifest, ModelCheck};
use lookalike_engine::models::runtime::sha256_file;
use lookalike_engine::models::{Manifest, ModelRegistry, RuntimeOptions};
use lookalike_engine::{Engine, EngineConfig, ErrorCode, SearchOptions};
use lookalike_tests::{build_catalog, demo_sources, fixture, models_dir, photo_like};

const PRODUCTS: &[&str] = &[
    "vendure-laptop",
    "vendure-tent",
    "saleor-orange-juice",
    "saleor-polo-shirt",
];

/// (id, score, semantic, texture, color) of a hit, for exact comparison.
type Scored = (String, f32, f32, f32, f32);

fn hits(catalog: &Path, queries: &[Vec<u8>]) -> Vec<Vec<Scored>> {
    let engine = Engine::open(EngineConfig::new(models_dir(), catalog)).expect("engine opens");
    queries
        .iter()
        .map(|q| {
            let r = engine.search(q, &SearchOptions::default()).expect("search");
            r.results
                .iter()
                .map(|h| (h.id.clone(), h.score, h.semantic, h.texture, h.color))
                .collect()
        })
        .collect()
}

fn queries() -> Vec<Vec<u8>> {
    let tent = std::fs::read(demo_sources().join("images/vendure-tent.jpg")).unwrap();
    vec![
        photo_like(&tent, 6.0, 0.03, 75),
        std::fs::read(fixture("coffee.png")).unwrap(),
    ]
}

/// Every file under `dir` with its sha256, sorted, relative to `dir`.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                all.push((rel, sha256_file(&p).unwrap()));
            }
        }
    }
    all.sort();
    all
}

fn registry() -> ModelRegistry {
    let manifest = Manifest::load(&models_dir()).expect("manifest loads");
    ModelRegistry::new(manifest, RuntimeOptions::default(), false)
}

#[test]
fn a_bundle_unpacked_elsewhere_searches_exactly_like_the_original() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = build_catalog(tmp.path(), PRODUCTS);
    // something the reader does not need (a build cache) stays behind
    std::fs::write(catalog.join("build-cache.json"), "{}").unwrap();
    let file = tmp.path().join("shop.lookalike");
    let packed = bundle::pack(&catalog, &file).expect("packs");
    assert_eq!(packed.products, PRODUCTS.len());
    assert_eq!(
        packed.files,
        6 + PRODUCTS.len(),
        "catalog.json, 2 record files, 3 matrices, the thumbnails"
    );
    assert_eq!(packed.bundle_bytes, std::fs::metadata(&file).unwrap().len());

    let models = registry();
    let out = tmp.path().join("elsewhere/shop");
    let report = bundle::unpack(
        &file,
        &out,
        &BundleLimits::default(),
        Some(ModelCheck {
            models: &models,
            profile: None,
        }),
    )
    .expect("unpacks");
    assert!(report.models_checked);
    assert_eq!(report.products, PRODUCTS.len());
    assert_eq!(report.content_bytes, packed.content_bytes);

    // exactly the files the reader needs, byte for byte; the build cache stays behind
    let needed = bundle::catalog_files(&Catalog::open(&catalog).unwrap()).unwrap();
    let mut original = snapshot(&catalog);
    assert!(
        original
            .iter()
            .any(|(p, _)| p == Path::new("build-cache.json"))
    );
    original.retain(|(p, _)| needed.iter().any(|n| p == Path::new(n)));
    assert_eq!(original.len(), needed.len());
    assert_eq!(snapshot(&out), original, "the same files, byte for byte");
    let q = queries();
    let before = hits(&catalog, &q);
    assert_eq!(before[0][0].0, "vendure-tent");
    assert_eq!(hits(&out, &q), before, "identical ids and scores");
}

/// A rebuilt archive: bundle.json (possibly edited) then the entries, each with a raw header so
/// that hostile names and kinds go in unchecked.
struct Raw(Vec<u8>);

impl Raw {
    fn entry(mut self, name: &str, kind: tar::EntryType, data: &[u8], link: &str) -> Self {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().div_ceil(512) * 512, 0);
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Self {
        self.entry(name, tar::EntryType::Regular, data, "")
    }

    fn end(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        self.0
    }
}

struct Hostile {
    tmp: tempfile::TempDir,
    good: PathBuf,
    /// The catalog every refused unpack targets.
    out: PathBuf,
    manifest: BundleManifest,
    entries: Vec<(String, Vec<u8>)>,
    models: ModelRegistry,
}

impl Hostile {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = build_catalog(tmp.path(), PRODUCTS);
        let good = tmp.path().join("good.lookalike");
        bundle::pack(&catalog, &good).unwrap();
        let models = registry();
        let out = tmp.path().join("installed");
        let check = ModelCheck {
            models: &models,
            profile: None,
        };
        bundle::unpack(&good, &out, &BundleLimits::default(), Some(check)).unwrap();
        let mut archive = tar::Archive::new(std::fs::File::open(&good).unwrap());
        let mut entries: Vec<(String, Vec<u8>)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (path, data)
            })
            .collect();
        let (name, json) = entries.remove(0);
        assert_eq!(name, "bundle.json");
        let manifest = serde_json::from_slice(&json).unwrap();
        Hostile {
            tmp,
            good,
            out,
            manifest,
            entries,
            models,
        }
    }

    /// bundle.json as `edit` leaves it, then the entries as `edit` leaves them.
    fn rebuilt(&self, edit: impl FnOnce(&mut BundleManifest, &mut Vec<(String, Vec<u8>)>)) -> Raw {
        let mut m = self.manifest.clone();
        let mut entries = self.entries.clone();
        edit(&mut m, &mut entries);
        let mut raw = Raw(Vec::new()).file("bundle.json", &serde_json::to_vec(&m).unwrap());
        for (p, d) in &entries {
            raw = raw.file(p, d);
        }
        raw
    }

    /// The real bundle.json, then `hostile` entries, padded with zeros so that the bundle is as
    /// long as its listing needs and the entry itself is what gets judged.
    fn after_listing(&self, hostile: impl FnOnce(Raw) -> Raw) -> Vec<u8> {
        let raw = Raw(Vec::new()).file("bundle.json", &serde_json::to_vec(&self.manifest).unwrap());
        let mut bytes = hostile(raw).end();
        let len = std::fs::metadata(&self.good).unwrap().len() as usize;
        bytes.resize(bytes.len().max(len) + 1024, 0);
        bytes
    }

    fn refused_with(
        &self,
        what: &str,
        bytes: &[u8],
        limits: &BundleLimits,
        check: Option<ModelCheck<'_>>,
        code: ErrorCode,
        expect: &str,
    ) {
        let before = snapshot(&self.out);
        let file = self.tmp.path().join(format!("{what}.lookalike"));
        std::fs::write(&file, bytes).unwrap();
        let e = bundle::unpack(&file, &self.out, limits, check)
            .err()
            .unwrap_or_else(|| panic!("{what}: the bundle was accepted"));
        let msg = e.to_string();
        assert!(
            msg.contains(expect),
            "{what}: expected `{expect}` in: {msg}"
        );
        assert_eq!(e.code(), code, "{what}: {msg}");
        assert!(msg.contains(&file.display().to_string()), "{what}: {msg}");
        assert_eq!(
            snapshot(&self.out),
            before,
            "{what}: the installed catalog changed"
        );
        Catalog::open(&self.out).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            !self.tmp.path().join(".installed.building").exists(),
            "{what}: the temp folder is left"
        );
        println!("{what}: {msg}");
    }

    fn refused(&self, what: &str, bytes: &[u8], expect: &str) {
        let check = Some(ModelCheck {
            models: &self.models,
            profile: None,
        });
        let limits = BundleLimits::default();
        self.refused_with(what, bytes, &limits, check, ErrorCode::Bundle, expect);
    }
}

fn rehash(m: &mut BundleManifest, path: &str, data: &[u8], dir: &Path) {
    let tmp = dir.join("rehash");
    std::fs::write(&tmp, data).unwrap();
    let f = m.files.iter_mut().find(|f| f.path == path).unwrap();
    f.size = data.len() as u64;
    f.sha256 = sha256_file(&tmp).unwrap();
}

#[test]
fn hostile_bundles_are_refused_and_the_installed_catalog_stays() {
    let h = Hostile::new();
    let good = std::fs::read(&h.good).unwrap();
    let thumb = h.manifest.files.last().unwrap().path.clone();

    // bit-flipped content: the checksum catches it
    let mut flipped = good.clone();
    let data = &h.entries.iter().find(|(p, _)| *p == thumb).unwrap().1;
    let at = flipped
        .windows(64)
        .position(|w| w == &data[data.len() / 2..data.len() / 2 + 64])
        .unwrap();
    flipped[at + 10] ^= 0x20;
    h.refused(
        "bit-flip",
        &flipped,
        &format!("`{thumb}` is damaged: its sha256 is"),
    );

    // truncated: cut in the middle of the last thumbnail, and exactly after an entry
    h.refused("truncated", &good[..good.len() - 3000], "is truncated");
    let cut = h
        .rebuilt(|_, e| {
            e.pop();
        })
        .end();
    h.refused("truncated-at-entry", &cut, "is truncated");

    // hostile paths and entry kinds
    let r = |n: &str, bytes: Vec<u8>, expect: &str| h.refused(n, &bytes, expect);
    r(
        "dotdot",
        h.after_listing(|raw| raw.file("../../escape.txt", b"x")),
        "path `../../escape.txt` leaves the catalog folder",
    );
    r(
        "dotdot-inside",
        h.after_listing(|raw| raw.file("thumbs/../../x.jpg", b"x")),
        "leaves the catalog folder",
    );
    r(
        "absolute",
        h.after_listing(|raw| raw.file("/tmp/lookalike-escape", b"x")),
        "path `/tmp/lookalike-escape` is absolute",
    );
    r(
        "symlink",
        h.after_listing(|raw| raw.entry("catalog.json", tar::EntryType::Symlink, b"", "/etc")),
        "entry `catalog.json` is a symbolic link: links are refused",
    );
    r(
        "hardlink",
        h.after_listing(|raw| raw.entry("catalog.json", tar::EntryType::Link, b"", "bundle.json")),
        "entry `catalog.json` is a hard link: links are refused",
    );
    r(
        "device",
        h.after_listing(|raw| raw.entry("catalog.json", tar::EntryType::Block, b"", "")),
        "block device",
    );

    // an unlisted extra entry, a listed entry missing, one out of order
    r(
        "unlisted",
        h.rebuilt(|_, e| e.push(("thumbs/extra.jpg".into(), b"extra".to_vec())))
            .end(),
        "entry `thumbs/extra.jpg` is not listed in bundle.json",
    );
    // (zero padding: the bundle is as long as the listing needs, so the order check speaks)
    let padded = |mut b: Vec<u8>| {
        b.resize(b.len() + (64 << 10), 0);
        b
    };
    r(
        "missing",
        padded(
            h.rebuilt(|_, e| {
                e.retain(|(p, _)| p != "texture.bin");
            })
            .end(),
        ),
        "`texture.bin` is missing or out of order",
    );
    r(
        "reordered",
        h.rebuilt(|_, e| {
            let at = |name: &str| e.iter().position(|(p, _)| p == name).unwrap();
            let (emb, tex) = (at("embeddings.bin"), at("texture.bin"));
            e.swap(emb, tex)
        })
        .end(),
        "`embeddings.bin` is missing or out of order",
    );

    // declared total over a (small) limit: refused from the listing, before anything is written
    let small = BundleLimits {
        max_total_bytes: 10_000,
        ..BundleLimits::default()
    };
    h.refused_with(
        "over-limit",
        &good,
        &small,
        None,
        ErrorCode::Bundle,
        "more than the limit of 10000 bytes",
    );
    let few = BundleLimits {
        max_entries: 3,
        ..BundleLimits::default()
    };
    h.refused_with(
        "entries",
        &good,
        &few,
        None,
        ErrorCode::Bundle,
        "limit of 3 entries",
    );

    // other models: bundle.json and catalog.json both say another sha256 (a consistent bundle
    // from another model set), refused against the loaded models ...
    let other = "0".repeat(64);
    let dir = h.tmp.path().to_path_buf();
    let other_models = h
        .rebuilt(|m, e| {
            m.models.router.sha256 = other.clone();
            let cat = &mut e.iter_mut().find(|(p, _)| p == "catalog.json").unwrap().1;
            let text = String::from_utf8(cat.clone()).unwrap();
            let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
            json["models"]["router"]["sha256"] = other.clone().into();
            *cat = serde_json::to_vec(&json).unwrap();
            rehash(m, "catalog.json", cat, &dir);
        })
        .end();
    let check = || {
        Some(ModelCheck {
            models: &h.models,
            profile: None,
        })
    };
    h.refused_with(
        "other-models",
        &other_models,
        &BundleLimits::default(),
        check(),
        ErrorCode::CatalogMismatch,
        &format!("its router vectors come from `efficientnet_lite0` sha256 {other}, the loaded file is sha256"),
    );
    // ... and only bundle.json edited: it no longer matches its own catalog.json
    let edited = h
        .rebuilt(|m, _| m.models.texture.sha256 = "1".repeat(64))
        .end();
    h.refused_with(
        "edited-listing",
        &edited,
        &BundleLimits::default(),
        None,
        ErrorCode::Bundle,
        "catalog.json's models differ from bundle.json's",
    );
    // consistent and unpacked whole, but the models cannot search it: compat::check refuses it
    // after extraction, and the installed catalog is still untouched
    let no_expert = h
        .rebuilt(|m, e| {
            let cat = &mut e.iter_mut().find(|(p, _)| p == "catalog.json").unwrap().1;
            let mut json: serde_json::Value = serde_json::from_slice(cat).unwrap();
            for c in json["categories"].as_array_mut().unwrap() {
                c["expert"] = "jewellery".into();
            }
            *cat = serde_json::to_vec(&json).unwrap();
            rehash(m, "catalog.json", cat, &dir);
        })
        .end();
    h.refused_with(
        "unknown-expert",
        &no_expert,
        &BundleLimits::default(),
        check(),
        ErrorCode::CatalogMismatch,
        "uses expert `jewellery`, which profile `lite` lacks",
    );
    // the app searching with another profile
    h.refused_with(
        "other-profile",
        &good,
        &BundleLimits::default(),
        Some(ModelCheck {
            models: &h.models,
            profile: Some("full"),
        }),
        ErrorCode::CatalogMismatch,
        "built with profile `lite`, the loaded models search with `full`",
    );

    // not a tar at all: a JPEG renamed
    let jpeg = std::fs::read(fixture("rocket.jpg")).unwrap();
    h.refused("jpeg", &jpeg, "is not a catalog bundle (not a tar archive");

    // --out is a folder with other things in it
    let photos = h.tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::write(photos.join("holiday.jpg"), "precious").unwrap();
    let e = bundle::unpack(&h.good, &photos, &BundleLimits::default(), check())
        .unwrap_err()
        .to_string();
    assert!(e.contains("exists and is not a catalog"), "{e}");
    assert_eq!(
        std::fs::read(photos.join("holiday.jpg")).unwrap(),
        b"precious"
    );
    assert_eq!(snapshot(&photos).len(), 1);

    // after all that, the installed catalog still searches
    let engine = Engine::open(EngineConfig::new(models_dir(), &h.out)).expect("still opens");
    assert_eq!(engine.catalog().len(), PRODUCTS.len());
}
