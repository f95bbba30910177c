//! The int8 retriever: scans the catalog's int8 codes (`catalog/codes.rs`, a quarter of the f32
//! bytes, and memory bandwidth is what bounds a large scan), keeps `OVERSAMPLE` times `k` rows
//! by their approximate score, re-scores those against the f32 rows and returns the best `k`.
//! The exact top-`k` is lost only when one of its rows falls out of the pool; the scale bench
//! (`lookalike bench-scale`) measures how often.

use std::ops::Range;

use super::{Retriever, Scan, scan_with};
use crate::catalog::codes::{Codes, quantize};
use crate::vector::{dot, dot_i8, top_k};

/// Rows kept from the approximate scan per row returned.
pub const OVERSAMPLE: usize = 4;

pub struct Int8Rescore<'m> {
    pub codes: &'m Codes,
    /// The f32 rows the codes were made from (row-major, `codes.dims` columns).
    pub matrix: &'m [f32],
}

impl Retriever for Int8Rescore<'_> {
    fn name(&self) -> &'static str {
        "int8"
    }

    fn top_k(&self, ranges: &[Range<usize>], queries: &[&[f32]], k: usize) -> Vec<Scan> {
        let dims = self.codes.dims;
        let pool = k.saturating_mul(OVERSAMPLE);
        let quantized: Vec<(Vec<i8>, f32)> = queries.iter().map(|q| quantize(q)).collect();
        let (codes, scales) = (self.codes.codes(), self.codes.scales());
        // bytes, not floats, per row: the parallel threshold counts what is read
        let approx = scan_with(ranges, dims.div_ceil(4), queries.len(), pool, |row, q| {
            let (qc, qs) = &quantized[q];
            dot_i8(&codes[row * dims..(row + 1) * dims], qc) as f32 * (scales[row] * qs)
        });
        approx
            .into_iter()
            .zip(queries)
            .map(|(scan, q)| rescore(scan, self.matrix, dims, q, k))
            .collect()
    }
}

/// The best `k` of an approximate scan's pool, scored exactly against the f32 rows of `matrix`
/// (`dims` columns); the moments stay those of the approximate scores.
pub(super) fn rescore(pool: Scan, matrix: &[f32], dims: usize, q: &[f32], k: usize) -> Scan {
    let exact = pool
        .top
        .iter()
        .map(|&(row, _)| (row, dot(&matrix[row * dims..(row + 1) * dims], q)))
        .collect();
    Scan {
        top: top_k(exact, k),
        ..pool
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one range of rows is a legitimate scan
pub(super) mod tests {
    use super::*;
    use crate::catalog::format::Matrix;
    use crate::stages::retrieve::ExactScan;
    use crate::vector::l2_normalize;

    /// `rows` seeded unit vectors of `dims`; from 301 rows on, rows 7 and 300 are copies of row 3
    /// (ties).
    pub(crate) fn catalog(rows: usize, dims: usize, seed: u64) -> Matrix {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let mut m = Matrix::new(dims);
        let mut rows_v: Vec<Vec<f32>> = (0..rows)
            .map(|_| {
                let mut v: Vec<f32> = (0..dims).map(|_| next()).collect();
                l2_normalize(&mut v);
                v
            })
            .collect();
        if rows > 300 {
            rows_v[7] = rows_v[3].clone();
            rows_v[300] = rows_v[3].clone();
        }
        for r in &rows_v {
            m.push(r);
        }
        m
    }

    /// A query near row `r` (as a photo of a listed product is near its catalog row).
    pub(crate) fn near(m: &Matrix, r: usize) -> Vec<f32> {
        let mut q: Vec<f32> = m
            .row(r)
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.02 * ((i * r) as f32).sin())
            .collect();
        l2_normalize(&mut q);
        q
    }

    #[test]
    fn int8_and_rescore_agree_with_the_exact_scan_ties_included() {
        let m = catalog(3000, 96, 11);
        let codes = Codes::of(&m);
        let int8 = Int8Rescore {
            codes: &codes,
            matrix: m.data(),
        };
        let exact = ExactScan {
            matrix: m.data(),
            dims: m.dims,
        };
        // queries near catalog rows (as a photo of a listed product is), one on the tied rows,
        // and one far from everything
        let mut queries: Vec<Vec<f32>> = [3usize, 10, 1500, 2999]
            .iter()
            .map(|&r| near(&m, r))
            .collect();
        queries.push(catalog(1, 96, 99).row(0).to_vec());
        let refs: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
        for ranges in [vec![0..3000], vec![0..100, 250..2999]] {
            let want = exact.top_k(&ranges, &refs, 10);
            let got = int8.top_k(&ranges, &refs, 10);
            for (q, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.top, w.top, "query {q}, ranges {ranges:?}");
                assert_eq!(g.count, w.count);
                // the approximate moments are close to the exact ones
                let (gm, gs) = g.moments();
                let (wm, ws) = w.moments();
                assert!(
                    (gm - wm).abs() < 1e-3 && (gs - ws).abs() < 1e-3,
                    "{gm} {gs} vs {wm} {ws}"
                );
            }
            // the tied copies of row 3 come in row order, with one score
            if ranges.len() == 1 {
                let rows: Vec<usize> = got[0].top[..3].iter().map(|t| t.0).collect();
                assert_eq!(rows, vec![3, 7, 300]);
                assert_eq!(got[0].top[0].1, got[0].top[2].1);
            }
        }
    }

    #[test]
    fn a_pool_too_small_for_k_returns_what_there_is() {
        let m = catalog(400, 32, 5);
        let codes = Codes::of(&m);
        let int8 = Int8Rescore {
            codes: &codes,
            matrix: m.data(),
        };
        let q = m.row(42).to_vec();
        let got = int8.top_k(&[10..15], &[q.as_slice()], 10);
        assert_eq!(got[0].top.len(), 5);
        assert_eq!(got[0].count, 5);
        assert!(int8.top_k(&[0..400], &[q.as_slice()], 0)[0].top.is_empty());
    }
}
