//! `lookalike index` run again over an existing catalog, as a merchant updating a shop would:
//! only changed images are embedded, the result equals a build from scratch, and a build killed
//! with SIGKILL at any moment leaves the previous catalog whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lookalike_engine::Catalog;
use lookalike_tests::{demo_sources, models_dir, photo_like, subset_products};

const FIRST: [&str; 6] = [
    "vendure-laptop",
    "vendure-tent",
    "vendure-instant-camera",
    "vendure-spiky-cactus",
    "vendure-allstar-sneakers",
    "saleor-orange-juice",
];

fn lookalike() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookalike"));
    c.env("LOOKALIKE_MODELS", models_dir());
    c
}

fn index_args(images: &Path, products: &Path, out: &Path) -> Vec<String> {
    ["index", "--json", "--images"]
        .iter()
        .map(|s| s.to_string())
        .chain([images.display().to_string()])
        .chain(["--products".into(), products.display().to_string()])
        .chain(["--out".into(), out.display().to_string()])
        .collect()
}

/// Runs an index build to the end and returns its JSON report.
fn index(images: &Path, products: &Path, out: &Path) -> serde_json::Value {
    let o: Output = lookalike()
        .args(index_args(images, products, out))
        .output()
        .expect("lookalike runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "index failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("--json prints one JSON object")
}

/// A copy of the demo images the products need, so a test can change one.
fn copy_images(dir: &Path, ids: &[&str]) -> PathBuf {
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let demo: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo_sources().join("products.json")).unwrap())
            .unwrap();
    for id in ids {
        let product = demo["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == *id)
            .unwrap_or_else(|| panic!("no demo product {id}"));
        let name = product["image"].as_str().unwrap();
        std::fs::copy(demo_sources().join("images").join(name), images.join(name)).unwrap();
    }
    images
}

/// Every file of a folder, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn count(report: &serde_json::Value, field: &str) -> u64 {
    report[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no `{field}` in {report}"))
}

#[test]
fn a_rebuild_embeds_only_what_changed_and_equals_a_fresh_build() {
    let tmp = tempfile::tempdir().unwrap();
    let images = copy_images(tmp.path(), &FIRST);
    let products = subset_products(tmp.path(), &FIRST);
    let out = tmp.path().join("shop");

    let first = index(&images, &products, &out);
    assert_eq!(count(&first, "products"), 6);
    assert_eq!(count(&first, "embedded"), 6);
    assert_eq!(count(&first, "reused"), 0);
    let built = snapshot(&out);

    let again = index(&images, &products, &out);
    assert_eq!(count(&again, "embedded"), 0, "{again}");
    assert_eq!(count(&again, "reused"), 6);
    assert_eq!(count(&again, "removed"), 0);
    assert!(again["skipped"].as_array().unwrap().is_empty());
    assert_eq!(
        snapshot(&out),
        built,
        "an unchanged rebuild rewrites the same bytes"
    );

    // the merchant retakes one photo
    let tent = images.join("vendure-tent.jpg");
    let retaken = photo_like(&std::fs::read(&tent).unwrap(), 3.0, 0.02, 85);
    std::fs::write(&tent, retaken).unwrap();
    let one = index(&images, &products, &out);
    assert_eq!(count(&one, "embedded"), 1, "{one}");
    assert_eq!(count(&one, "reused"), 5);
    eprintln!(
        "first build {:.2} s, unchanged {:.2} s, one image changed {:.2} s",
        first["seconds"], again["seconds"], one["seconds"]
    );
    let fresh = tmp.path().join("fresh");
    index(&images, &products, &fresh);
    assert_eq!(
        snapshot(&out),
        snapshot(&fresh),
        "reused vectors and a build from scratch are the same catalog"
    );
    assert_ne!(
        snapshot(&out),
        built,
        "the changed image changed the catalog"
    );

    // two products leave the shop, one image goes missing
    let fewer = tmp.path().join("fewer");
    std::fs::create_dir(&fewer).unwrap();
    let products = subset_products(&fewer, &FIRST[..4]);
    std::fs::remove_file(images.join("vendure-spiky-cactus.jpg")).unwrap();
    // (the cactus is one of the four still listed)
    let r = index(&images, &products, &out);
    assert_eq!(count(&r, "removed"), 2, "{r}");
    assert_eq!(count(&r, "products"), 3);
    assert_eq!(count(&r, "embedded"), 0);
    let skipped = r["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{r}");
    assert_eq!(skipped[0]["id"], "vendure-spiky-cactus");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("vendure-spiky-cactus.jpg"),
        "{r}"
    );
    let catalog = Catalog::open(&out).expect("the smaller catalog opens");
    assert_eq!(catalog.len(), 3);
    assert!(
        catalog
            .product_by_id("saleor-orange-juice")
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_build_killed_at_any_moment_leaves_the_previous_catalog_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let old_ids = &FIRST[..2];
    let new_ids = [
        "vendure-tablet",
        "vendure-cordless-mouse",
        "vendure-camera-lens",
        "vendure-tripod",
        "vendure-road-bike",
        "vendure-football",
        "vendure-tulip-pot",
        "vendure-aloe-vera",
    ];
    let all: Vec<&str> = old_ids.iter().chain(&new_ids).copied().collect();
    let images = copy_images(tmp.path(), &all);
    let out = tmp.path().join("shop");
    index(&images, &subset_products(tmp.path(), old_ids), &out);
    let before = snapshot(&out);
    let update_dir = tmp.path().join("update");
    std::fs::create_dir(&update_dir).unwrap();
    let update = subset_products(&update_dir, &new_ids);
    let building = tmp.path().join(".shop.building");

    // kill points: early (models loading), mid-extraction, and while the new files are written
    let moments: [(&str, &dyn Fn() -> bool); 4] = [
        ("at 0.3 s", &|| false),
        ("at 1.5 s", &|| false),
        ("when the temp folder appears", &|| building.exists()),
        ("when its catalog.json appears", &|| {
            building.join("catalog.json").exists()
        }),
    ];
    let mut killed_mid_build = 0;
    for (i, (what, ready)) in moments.iter().enumerate() {
        let deadline = [0.3, 1.5, 120.0, 120.0][i];
        // a temp folder left by the previous kill would fire the trigger at once (the builder's
        // own clean-up of leftovers is checked by the last build below)
        if i >= 2 && building.exists() {
            std::fs::remove_dir_all(&building).unwrap();
        }
        let mut child = lookalike()
            .args(index_args(&images, &update, &out))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("lookalike starts");
        let start = Instant::now();
        let mut finished = false;
        while !ready() && start.elapsed().as_secs_f64() < deadline {
            if child.try_wait().unwrap().is_some() {
                finished = true;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        if !finished {
            child.kill().unwrap(); // SIGKILL
            killed_mid_build += 1;
            eprintln!(
                "killed {what}, after {:.3} s",
                start.elapsed().as_secs_f64()
            );
        }
        child.wait().unwrap();
        if finished {
            // the build won the race: the catalog is then the new one, whole
            assert_eq!(Catalog::open(&out).unwrap().len(), new_ids.len(), "{what}");
            continue;
        }
        assert_eq!(
            snapshot(&out),
            before,
            "killed {what}: the previous catalog must be untouched"
        );
        Catalog::open(&out).unwrap_or_else(|e| panic!("killed {what}: {e}"));
    }
    assert!(
        killed_mid_build >= 3,
        "only {killed_mid_build} builds were interrupted"
    );
    // the next build clears what the killed ones left and completes
    assert!(
        building.exists(),
        "the last kill left its temp folder behind"
    );
    let done = index(&images, &update, &out);
    assert_eq!(count(&done, "products"), new_ids.len() as u64);
    assert_eq!(count(&done, "removed"), 2);
    assert!(!building.exists());
    assert_eq!(Catalog::open(&out).unwrap().len(), new_ids.len());
}
