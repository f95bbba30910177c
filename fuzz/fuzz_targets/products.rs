//! `products`: arbitrary bytes -> a merchant's products file on disk -> `read_products`.
//!
//! The reader tells JSON, a plain CSV and a Shopify export apart by content, so one target covers
//! all three (the seeds hold each). It must return `Ok` or an `Err`, never panic. On `Err` the
//! message names the file. On `Ok` the file must be what `lookalike build` relies on: products,
//! unique ids that are safe file names, every product's category listed once, every image a
//! plain file name; and writing it back as our JSON format and reading that again gives the same
//! products and categories (the CSV path and the JSON path agree).
#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lookalike_engine::catalog::products::read_products;

/// Scratch space reused by every input (tmpfs when there is one).
fn base() -> &'static Path {
    static BASE: OnceLock<tempfile::TempDir> = OnceLock::new();
    BASE.get_or_init(|| common::scratch_tempdir("lookalike-fuzz-products-"))
        .path()
}

fn plain_file_name(s: &str) -> bool {
    let p = Path::new(s);
    !s.is_empty()
        && !s.contains(['/', '\\', '\0'])
        && p.components().count() == 1
        && p.file_name().is_some_and(|n| n == s)
}

fuzz_target!(|data: &[u8]| {
    let path = base().join("products.csv");
    std::fs::write(&path, data).expect("fuzz harness: write products file");
    let file = match read_products(&path) {
        Ok(f) => f,
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&*path.to_string_lossy()),
                "error does not name the file: {msg}"
            );
            return;
        }
    };
    assert!(
        !file.products.is_empty(),
        "accepted a file with no products"
    );
    let ids: HashSet<&str> = file.products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        file.products.len(),
        "duplicate product ids accepted"
    );
    let cats: HashSet<&str> = file.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        cats.len(),
        file.categories.len(),
        "repeated category accepted"
    );
    for p in &file.products {
        assert!(
            !p.id.is_empty()
                && p.id.len() <= 128
                && p.id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "unsafe id {:?} accepted",
            p.id
        );
        assert!(p.id != "." && p.id != "..", "id {:?} accepted", p.id);
        assert!(
            cats.contains(p.category.as_str()),
            "category {:?} not listed",
            p.category
        );
        assert!(
            plain_file_name(&p.image),
            "image {:?} is not a plain file name",
            p.image
        );
        assert!(p.price.is_none_or(f64::is_finite), "price {:?}", p.price);
    }

    // the same catalog written as our JSON format reads back the same
    let json = serde_json::json!({
        "name": file.name,
        "categories": file.categories,
        "products": file.products,
    });
    let again_path = base().join("products.json");
    let bytes = serde_json::to_vec(&json).expect("fuzz harness: serialise");
    std::fs::write(&again_path, bytes).expect("fuzz harness: write products.json");
    let again = read_products(&again_path)
        .unwrap_or_else(|e| panic!("accepted file does not read back as JSON: {e}"));
    // prices compared loosely: serde_json's default float parser may be one ulp off
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(1.0),
        (a, b) => a.is_none() && b.is_none(),
    };
    assert_eq!(again.products.len(), file.products.len());
    for (a, b) in again.products.iter().zip(&file.products) {
        assert!(
            close(a.price, b.price),
            "price {:?} read back as {:?}",
            b.price,
            a.price
        );
        let (mut a, mut b) = (a.clone(), b.clone());
        (a.price, b.price) = (None, None);
        assert_eq!(a, b);
    }
    assert_eq!(again.categories, file.categories);
    assert_eq!(again.name, file.name);
});
