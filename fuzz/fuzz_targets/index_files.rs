//! `index_files`: arbitrary bytes -> the readers of a catalog's index files,
//! `catalog::codes::Codes::from_bytes` (`embeddings.i8`), `catalog::graph::Graph::from_bytes`
//! (`embeddings.hnsw`) and `catalog::records::Records::from_bytes` (`products.idx` followed by
//! `products.jsonl`). Each must return `Ok` or `Err` without panicking or allocating more than
//! the input justifies. On `Ok`: codes hold `rows * dims` values and finite scales and write back
//! to the same bytes (the reserved header words aside); a graph's full check (`check_links`)
//! answers without panicking, every row's links are addressable, and it writes back to the same
//! bytes; a graph whose check passes walks without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike_engine::catalog::codes::{Codes, HEADER_LEN};
use lookalike_engine::catalog::graph::Graph;
use lookalike_engine::catalog::records::{self, Records};
use lookalike_engine::stages::retrieve::Retriever;
use lookalike_engine::stages::retrieve::hnsw::HnswRescore;

/// The input as `products.idx` with `products.jsonl` cut from its tail (the index's header says
/// how long the lines are): every record read and looked up answers or errs; records that pass
/// the full check find every id and barcode at their own rows, and encode back to the same
/// products.
fn records(data: &[u8]) {
    let lines_len = data.get(24..32).map_or(0, |b| {
        u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize
    });
    let split = data.len().saturating_sub(lines_len.min(data.len()));
    let (index, lines) = data.split_at(split);
    let Ok(r) = Records::from_bytes(lines.to_vec(), index.to_vec()) else {
        return;
    };
    let mut all = Vec::new();
    for row in 0..r.len() {
        if let Ok(p) = r.get(row) {
            let _ = r.find_id(&p.id);
            if let Some(g) = &p.gtin {
                let _ = r.find_gtin(g);
            }
            all.push(p);
        }
    }
    if r.check_all(|_, _| Ok(())).is_ok() {
        for (row, p) in all.iter().enumerate() {
            assert_eq!(r.find_id(&p.id), Ok(Some(row)));
            if let Some(g) = p.gtin.as_deref().filter(|g| records::gtin_key(g).is_some()) {
                let first = all.iter().position(|q| {
                    q.gtin.as_deref().and_then(records::gtin_key) == records::gtin_key(g)
                });
                assert_eq!(r.find_gtin(g), Ok(first));
            }
        }
        // written again, they read back the same (the bytes may differ in JSON spelling)
        let again = Records::from_list(&all).expect("checked records encode");
        assert!((0..all.len()).all(|row| again.get(row).as_ref() == Ok(&all[row])));
    }
}

fuzz_target!(|data: &[u8]| {
    records(data);
    if let Ok(c) = Codes::from_bytes(data) {
        assert_eq!(c.codes().len(), c.rows * c.dims);
        assert!(c.scales().iter().all(|s| s.is_finite() && *s >= 0.0));
        let back = c.to_bytes();
        assert_eq!(back.len(), data.len());
        assert_eq!(&back[..20], &data[..20]);
        assert_eq!(&back[HEADER_LEN..], &data[HEADER_LEN..]);
    }
    let Ok(g) = Graph::from_bytes(data) else {
        return;
    };
    assert_eq!(g.to_bytes(), data);
    for r in [0, g.rows / 2, g.rows - 1] {
        assert_eq!(g.level0(r).len(), g.m0);
        for l in 1..=g.upper_layers() {
            let _ = g.upper(l, r);
        }
    }
    let checked = g.check_links().is_ok();
    // a graph that passes its check, over codes of its shape (a small one: the walk reads rows)
    if checked && g.rows.saturating_mul(g.dims) <= 1 << 16 {
        let mut m = lookalike_engine::catalog::format::Matrix::new(g.dims);
        for r in 0..g.rows {
            let row: Vec<f32> = (0..g.dims).map(|d| if d == r % g.dims { 1.0 } else { 0.0 }).collect();
            m.push(&row);
        }
        let codes = Codes::of(&m);
        let walk = HnswRescore {
            graph: &g,
            codes: &codes,
            matrix: m.data(),
            ef: 16,
        };
        let q = m.row(0).to_vec();
        let found = walk.top_k(&[0..g.rows], &[q.as_slice()], 4);
        assert!(found[0].top.iter().all(|t| t.0 < g.rows));
    }
});
