//! Unit tests on hand-made catalogs and tars: no models needed.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::listing::check_path;
use super::reader::hex;
use super::unpack::unpack_from;
use super::*;
use crate::catalog::format::Matrix;
use crate::catalog::reader::Catalog;
use crate::catalog::schema::{CATALOG_JSON, COLORS_BIN, EMBEDDINGS_BIN, TEXTURE_BIN};
use crate::stages::color;

const SHA: &str = "6b7b61de59c15a6ee12e40b39050533e998d1fa5a811a8272be07350d5aa79d8";

/// A small but valid catalog (2 products, tiny dims) written by hand: the parser's tests need
/// no models.
fn tiny_catalog(dir: &Path, ids: [&str; 2]) {
    std::fs::create_dir_all(dir.join("thumbs")).unwrap();
    let stamp = |output: &str| serde_json::json!({"model": "m", "output": output, "sha256": SHA});
    let product = |id: &str| {
        serde_json::json!({
            "id": id, "name": id, "category": "things", "price": null, "currency": null,
            "gtin": null, "brand": null, "description": null, "source": null,
            "source_image": format!("{id}.png"), "thumbnail": format!("thumbs/{id}.jpg"),
            "segmentation": "alpha"
        })
    };
    let json = serde_json::json!({
        "format": "lookalike-catalog", "version": 1, "name": "tiny", "profile": "lite",
        "models": {"router": stamp("logits"), "texture": stamp("texture"),
                   "experts": {"general": stamp("embedding")}, "index_segmenter": null},
        "dims": {"embedding": 4, "texture": 3, "color": color::DIMS},
        "blend": {"semantic": 0.5, "texture": 0.3, "color": 0.2},
        "router": {"kind": "class_table", "second_threshold": 0.25, "min_confidence": 0.05},
        "categories": [{"name": "things", "expert": "general", "imagenet_classes": [1],
                        "rows": [0, 2]}],
        "products": [product(ids[0]), product(ids[1])],
    });
    std::fs::write(dir.join(CATALOG_JSON), json.to_string()).unwrap();
    for (name, dims) in [
        (EMBEDDINGS_BIN, 4),
        (TEXTURE_BIN, 3),
        (COLORS_BIN, color::DIMS),
    ] {
        let mut m = Matrix::new(dims);
        m.push(&vec![0.5; dims]);
        m.push(&vec![0.25; dims]);
        m.write(&dir.join(name)).unwrap();
    }
    let thumb = |id: &str| dir.join(format!("thumbs/{id}.jpg"));
    std::fs::write(thumb(ids[0]), b"thumb a").unwrap();
    std::fs::write(thumb(ids[1]), vec![7u8; 1500]).unwrap();
    Catalog::open(dir).expect("the tiny catalog opens");
}

struct Fixture {
    root: tempfile::TempDir,
    bundle: PathBuf,
    /// An existing catalog that every refused unpack must leave as it was.
    out: PathBuf,
}

fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let cat = root.path().join("cat");
    tiny_catalog(&cat, ["a", "b"]);
    let bundle = root.path().join("tiny.lookalike");
    let report = pack(&cat, &bundle).unwrap();
    assert_eq!(report.files, 6);
    assert_eq!(report.products, 2);
    let out = root.path().join("existing");
    tiny_catalog(&out, ["a", "b"]);
    std::fs::write(out.join("thumbs/a.jpg"), b"the old one").unwrap();
    Fixture { root, bundle, out }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                all.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    all.sort();
    all
}

/// Entries as (path, bytes), read back with the tar crate (test side only).
fn entries_of(bundle: &Path) -> Vec<(String, Vec<u8>)> {
    let mut a = tar::Archive::new(File::open(bundle).unwrap());
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            (p, v)
        })
        .collect()
}

/// One raw tar entry; `name` goes into the header as given (no checks).
fn raw_entry(out: &mut Vec<u8>, name: &[u8], kind: tar::EntryType, data: &[u8], link: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn end(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0u8; 1024]);
}

/// Rebuilds `bundle` from its entries, letting `edit` change them (and bundle.json).
fn rebuild(
    bundle: &Path,
    edit: impl FnOnce(&mut BundleManifest, &mut Vec<(String, Vec<u8>)>),
) -> Vec<u8> {
    let mut entries = entries_of(bundle);
    let (_, json) = entries.remove(0);
    let mut m: BundleManifest = serde_json::from_slice(&json).unwrap();
    edit(&mut m, &mut entries);
    let mut out = Vec::new();
    raw_entry(
        &mut out,
        BUNDLE_JSON.as_bytes(),
        tar::EntryType::Regular,
        &serde_json::to_vec(&m).unwrap(),
        b"",
    );
    for (p, data) in &entries {
        raw_entry(&mut out, p.as_bytes(), tar::EntryType::Regular, data, b"");
    }
    end(&mut out);
    out
}

fn refused(f: &Fixture, bytes: &[u8], limits: &BundleLimits, expect: &str) {
    let before = snapshot(&f.out);
    let hostile = f.root.path().join("hostile.lookalike");
    std::fs::write(&hostile, bytes).unwrap();
    let e = unpack(&hostile, &f.out, limits, None).unwrap_err();
    assert_eq!(e.code(), crate::ErrorCode::Bundle, "{e}");
    let msg = e.to_string();
    assert!(msg.contains(expect), "expected `{expect}` in: {msg}");
    assert_eq!(snapshot(&f.out), before, "the old catalog changed");
    Catalog::open(&f.out).expect("the old catalog still opens");
    assert!(!f.root.path().join(".existing.building").exists());
}

#[test]
fn bundle_packs_what_the_reader_needs_and_unpacks_it_whole() {
    let f = fixture();
    // a file the reader does not need is not packed
    std::fs::write(f.root.path().join("cat/build-cache.json"), "{}").unwrap();
    pack(&f.root.path().join("cat"), &f.bundle).unwrap();
    let names: Vec<String> = entries_of(&f.bundle).into_iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        [
            BUNDLE_JSON,
            CATALOG_JSON,
            EMBEDDINGS_BIN,
            TEXTURE_BIN,
            COLORS_BIN,
            "thumbs/a.jpg",
            "thumbs/b.jpg"
        ]
    );
    let m = read_manifest(&f.bundle, &BundleLimits::default()).unwrap();
    assert_eq!(m.name, "tiny");
    assert_eq!(
        (m.files[4].path.as_str(), m.files[4].size),
        ("thumbs/a.jpg", 7)
    );
    // packing twice gives the same bytes
    let again = f.root.path().join("again.lookalike");
    pack(&f.root.path().join("cat"), &again).unwrap();
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&f.bundle).unwrap()
    );
    // replaces the existing catalog
    let report = unpack(&f.bundle, &f.out, &BundleLimits::default(), None).unwrap();
    assert_eq!((report.products, report.files), (2, 6));
    assert!(!report.models_checked);
    assert_eq!(
        snapshot(&f.out)
            .into_iter()
            .map(|(p, b)| (p.strip_prefix(&f.out).unwrap().to_path_buf(), b))
            .collect::<Vec<_>>(),
        snapshot(&f.root.path().join("cat"))
            .into_iter()
            .filter(|(p, _)| !p.ends_with("build-cache.json"))
            .map(|(p, b)| (
                p.strip_prefix(f.root.path().join("cat"))
                    .unwrap()
                    .to_path_buf(),
                b
            ))
            .collect::<Vec<_>>()
    );
    // into a folder that does not exist yet
    let fresh = f.root.path().join("new/shop");
    unpack(&f.bundle, &fresh, &BundleLimits::default(), None).unwrap();
    Catalog::open(&fresh).unwrap();
}

#[test]
fn bundle_refuses_damaged_content() {
    let f = fixture();
    let mut bytes = std::fs::read(&f.bundle).unwrap();
    let at = bytes.windows(7).position(|w| w == b"thumb a").unwrap();
    bytes[at] ^= 1;
    refused(
        &f,
        &bytes,
        &BundleLimits::default(),
        "`thumbs/a.jpg` is damaged: its sha256",
    );
}

#[test]
fn bundle_refuses_truncation() {
    let f = fixture();
    let bytes = std::fs::read(&f.bundle).unwrap();
    // cut inside the last file
    let at = bytes.windows(4).position(|w| w == [7u8; 4]).unwrap() + 100;
    refused(&f, &bytes[..at], &BundleLimits::default(), "truncated");
    // cut at an entry boundary: the listing says more should follow
    let cut = rebuild(&f.bundle, |_, e| {
        e.pop();
    });
    refused(&f, &cut, &BundleLimits::default(), "truncated");
    // ... also when the bundle's length does not give it away
    let e = unpack_from(
        cut.as_slice(),
        cut.len() as u64 + 10_000,
        &f.bundle,
        &f.out,
        &BundleLimits::default(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("is truncated: `thumbs/b.jpg` listed in bundle.json is missing"),
        "{e}"
    );
    // a reader that ends early (the file shrank while being read) is caught while reading
    let before = snapshot(&f.out);
    let short = &bytes[..at];
    let e = unpack_from(
        short,
        bytes.len() as u64,
        &f.bundle,
        &f.out,
        &BundleLimits::default(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("is truncated: `thumbs/b.jpg` ends after"), "{e}");
    assert_eq!(snapshot(&f.out), before);
}

#[test]
fn bundle_refuses_missing_and_unlisted_and_misordered_entries() {
    let f = fixture();
    let d = BundleLimits::default();
    let missing = rebuild(&f.bundle, |_, e| {
        e.remove(1);
    });
    refused(
        &f,
        &missing,
        &d,
        "`embeddings.bin` is missing or out of order",
    );
    let extra = rebuild(&f.bundle, |_, e| {
        e.push(("thumbs/evil.jpg".into(), b"x".to_vec()));
    });
    refused(
        &f,
        &extra,
        &d,
        "`thumbs/evil.jpg` is not listed in bundle.json",
    );
    let twice = rebuild(&f.bundle, |_, e| {
        let again = e[1].clone();
        e.insert(2, again);
    });
    refused(&f, &twice, &d, "`embeddings.bin` appears twice");
    let second_json = rebuild(&f.bundle, |_, e| {
        e.push((BUNDLE_JSON.into(), b"{}".to_vec()));
    });
    refused(&f, &second_json, &d, "second bundle.json");
    // listed and present, but not a file the catalog uses
    let unused = rebuild(&f.bundle, |m, e| {
        let data = b"#!/bin/sh".to_vec();
        m.files.push(BundleFile {
            path: "run.sh".into(),
            size: data.len() as u64,
            sha256: hex(&Sha256::digest(&data)),
        });
        e.push(("run.sh".into(), data));
    });
    refused(
        &f,
        &unused,
        &d,
        "holds `run.sh`, which the catalog does not use",
    );
    // size in the archive differs from the listing
    let resized = rebuild(&f.bundle, |_, e| e[4].1.push(0));
    refused(
        &f,
        &resized,
        &d,
        "entry `thumbs/a.jpg` is 8 bytes, bundle.json lists 7",
    );
    // data hidden after the end of the archive
    let mut tail = std::fs::read(&f.bundle).unwrap();
    tail.extend_from_slice(b"hidden");
    refused(&f, &tail, &d, "data after the end of the archive");
    // zero padding after the end is fine (GNU tar pads to 10 KiB records)
    let mut padded = std::fs::read(&f.bundle).unwrap();
    padded.extend_from_slice(&[0u8; 10240]);
    let ok = f.root.path().join("padded.lookalike");
    std::fs::write(&ok, padded).unwrap();
    unpack(&ok, &f.out, &d, None).unwrap();
}

#[test]
fn bundle_refuses_hostile_paths_and_entry_kinds() {
    let f = fixture();
    let d = BundleLimits::default();
    let first = entries_of(&f.bundle).remove(0).1;
    let with = |name: &[u8], kind: tar::EntryType, data: &[u8], link: &[u8]| {
        let mut out = Vec::new();
        raw_entry(
            &mut out,
            BUNDLE_JSON.as_bytes(),
            tar::EntryType::Regular,
            &first,
            b"",
        );
        raw_entry(&mut out, name, kind, data, link);
        end(&mut out);
        // zero padding: long enough for what bundle.json lists, so the entry itself is judged
        out.resize(out.len() + (16 << 10), 0);
        out
    };
    let reg = tar::EntryType::Regular;
    refused(
        &f,
        &with(b"../escape.txt", reg, b"x", b""),
        &d,
        "leaves the catalog folder",
    );
    refused(
        &f,
        &with(b"thumbs/../../x", reg, b"x", b""),
        &d,
        "leaves the catalog folder",
    );
    refused(&f, &with(b"/etc/passwd", reg, b"x", b""), &d, "is absolute");
    refused(
        &f,
        &with(b"thumbs\\a.jpg", reg, b"x", b""),
        &d,
        "contains `\\`",
    );
    refused(
        &f,
        &with(b"./catalog.json", reg, b"x", b""),
        &d,
        "empty or `.` part",
    );
    refused(&f, &with(b"a//b", reg, b"x", b""), &d, "empty or `.` part");
    refused(&f, &with(b"\xff\xfe", reg, b"x", b""), &d, "not UTF-8");
    let sym = tar::EntryType::Symlink;
    refused(
        &f,
        &with(CATALOG_JSON.as_bytes(), sym, b"", b"/etc/passwd"),
        &d,
        "symbolic link: links are refused",
    );
    let hard = tar::EntryType::Link;
    refused(
        &f,
        &with(CATALOG_JSON.as_bytes(), hard, b"", b"bundle.json"),
        &d,
        "hard link: links are refused",
    );
    refused(
        &f,
        &with(b"dev", tar::EntryType::Char, b"", b""),
        &d,
        "character device",
    );
    refused(
        &f,
        &with(b"fifo", tar::EntryType::Fifo, b"", b""),
        &d,
        "pipe",
    );
    refused(
        &f,
        &with(b"x", tar::EntryType::XHeader, b"11 path=x\n", b""),
        &d,
        "PAX",
    );
    refused(
        &f,
        &with(b"evil/", tar::EntryType::Directory, b"", b""),
        &d,
        "folder that no listed file is in",
    );
    // the parent folder of listed files may come as its own entry
    let mut with_dir = Vec::new();
    let parts = entries_of(&f.bundle);
    for (i, (p, data)) in parts.iter().enumerate() {
        if i == 5 {
            raw_entry(
                &mut with_dir,
                b"thumbs/",
                tar::EntryType::Directory,
                b"",
                b"",
            );
        }
        raw_entry(&mut with_dir, p.as_bytes(), reg, data, b"");
    }
    end(&mut with_dir);
    let ok = f.root.path().join("dirs.lookalike");
    std::fs::write(&ok, with_dir).unwrap();
    unpack(&ok, &f.out, &d, None).unwrap();
}

#[test]
fn bundle_refuses_hostile_listings() {
    let f = fixture();
    let d = BundleLimits::default();
    let edit = |change: fn(&mut BundleManifest)| rebuild(&f.bundle, |m, _| change(m));
    refused(
        &f,
        &edit(|m| m.files[4].path = "../a.jpg".into()),
        &d,
        "leaves the catalog folder",
    );
    refused(
        &f,
        &edit(|m| m.files[4].path = "/a.jpg".into()),
        &d,
        "is absolute",
    );
    refused(
        &f,
        &edit(|m| m.files[5].path = m.files[4].path.clone()),
        &d,
        "lists `thumbs/a.jpg` twice",
    );
    refused(
        &f,
        &edit(|m| m.files[5].path = "THUMBS/a.jpg".into()),
        &d,
        "case-insensitive",
    );
    refused(
        &f,
        &edit(|m| m.files[4].path = "thumbs".into()),
        &d,
        "both as a file and as a folder",
    );
    refused(
        &f,
        &edit(|m| m.files[4].sha256 = "xyz".into()),
        &d,
        "not 64 lower-case hex digits",
    );
    refused(
        &f,
        &edit(|m| m.version = 2),
        &d,
        "version 2, this build reads",
    );
    refused(&f, &edit(|m| m.format = "zip".into()), &d, "format `zip`");
    refused(
        &f,
        &edit(|m| m.models.router.sha256 = "0".repeat(64)),
        &d,
        "catalog.json's models differ from bundle.json's",
    );
    refused(
        &f,
        &edit(|m| m.name = "other".into()),
        &d,
        "bundle.json says `other`",
    );
    // a claimed size far beyond what the file holds is refused before any read or allocation
    refused(
        &f,
        &edit(|m| m.files[4].size = u64::MAX / 2),
        &d,
        "more than the limit",
    );
    refused(
        &f,
        &edit(|m| m.files[4].size = 1 << 30),
        &d,
        "is truncated: bundle.json lists files that need at least",
    );
}

#[test]
fn bundle_limits_are_checked_before_writing() {
    let f = fixture();
    let bytes = std::fs::read(&f.bundle).unwrap();
    let small = |change: fn(&mut BundleLimits)| {
        let mut l = BundleLimits::default();
        change(&mut l);
        l
    };
    refused(
        &f,
        &bytes,
        &small(|l| l.max_total_bytes = 1000),
        "more than the limit of 1000 bytes",
    );
    refused(
        &f,
        &bytes,
        &small(|l| l.max_entries = 3),
        "more than the limit of 3 entries",
    );
    refused(
        &f,
        &bytes,
        &small(|l| l.max_manifest_bytes = 100),
        "bundle.json is",
    );
    refused(
        &f,
        &bytes,
        &small(|l| l.max_bundle_bytes = 1000),
        "more than the limit of 1000",
    );
    // a huge long-name entry is not read into memory
    let mut long = Vec::new();
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(1 << 40);
    h.set_cksum();
    long.extend_from_slice(h.as_bytes());
    long.extend_from_slice(&[b'a'; 4096]);
    refused(
        &f,
        &long,
        &BundleLimits::default(),
        "long-name entry of 1099511627776 bytes",
    );
}

#[test]
fn bundle_refuses_files_that_are_not_bundles() {
    let f = fixture();
    let d = BundleLimits::default();
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F'];
    jpeg.resize(3000, 0x55);
    refused(&f, &jpeg, &d, "not a catalog bundle (not a tar archive");
    refused(&f, b"tiny", &d, "not a catalog bundle (not a tar archive");
    refused(&f, b"", &d, "is empty");
    let mut other_tar = Vec::new();
    raw_entry(
        &mut other_tar,
        b"notes.txt",
        tar::EntryType::Regular,
        b"hello",
        b"",
    );
    end(&mut other_tar);
    refused(
        &f,
        &other_tar,
        &d,
        "first entry is `notes.txt`, not bundle.json",
    );
    let mut bad_json = Vec::new();
    raw_entry(
        &mut bad_json,
        BUNDLE_JSON.as_bytes(),
        tar::EntryType::Regular,
        b"{not json",
        b"",
    );
    end(&mut bad_json);
    refused(&f, &bad_json, &d, "bundle.json is not valid");
}

#[test]
fn bundle_unpack_refuses_a_folder_that_is_not_a_catalog() {
    let f = fixture();
    let photos = f.root.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::write(photos.join("holiday.jpg"), "precious").unwrap();
    let e = unpack(&f.bundle, &photos, &BundleLimits::default(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a catalog"), "{e}");
    assert_eq!(
        std::fs::read(photos.join("holiday.jpg")).unwrap(),
        b"precious"
    );
    assert_eq!(std::fs::read_dir(&photos).unwrap().count(), 1);
}

#[test]
fn bundle_pack_refuses_a_broken_catalog_and_leaves_no_temp_file() {
    let f = fixture();
    let cat = f.root.path().join("cat");
    std::fs::remove_file(cat.join("thumbs/b.jpg")).unwrap();
    let out = f.root.path().join("broken.lookalike");
    let e = pack(&cat, &out).unwrap_err().to_string();
    assert!(e.contains("thumbnail"), "{e}");
    assert!(!out.exists());
    assert!(!f.root.path().join(".broken.lookalike.packing").exists());
    let e = pack(&f.out, f.root.path()).unwrap_err().to_string();
    assert!(e.contains("is a folder"), "{e}");
}

#[test]
fn bundle_keeps_long_paths() {
    let root = tempfile::tempdir().unwrap();
    let long = "a-product-id-".repeat(12);
    let cat = root.path().join("cat");
    tiny_catalog(&cat, [&long, "b"]);
    let bundle = root.path().join("long.lookalike");
    pack(&cat, &bundle).unwrap();
    let out = root.path().join("out");
    unpack(&bundle, &out, &BundleLimits::default(), None).unwrap();
    assert_eq!(
        std::fs::read(out.join(format!("thumbs/{long}.jpg"))).unwrap(),
        b"thumb a"
    );
}

#[test]
fn bundle_paths_are_plain_relative_names() {
    for ok in ["catalog.json", "thumbs/a.jpg", "a/b/c.d", "thumbs/..a.jpg"] {
        check_path(ok).unwrap();
    }
    for bad in [
        "", "/a", "../a", "a/..", "a/./b", "a//b", "a/", "a\\b", "a\0b", ".",
    ] {
        assert!(check_path(bad).is_err(), "{bad:?} accepted");
    }
}
