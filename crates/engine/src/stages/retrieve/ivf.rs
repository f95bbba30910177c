//! The IVF retriever (inverted file): the rows are grouped by their nearest of `lists` centroids
//! (spherical k-means on a sample of the rows); a query scores the centroids, scans only the
//! rows of its `probe` nearest lists through their int8 codes, and re-scores the `OVERSAMPLE`
//! pool exactly, as `int8` does. Fewer rows read, at the cost of missing neighbours that sit in
//! a list the query did not probe: recall depends on how clustered the vectors are, which the
//! scale bench (`lookalike bench-scale`) measures on the worst case, random unit vectors.
//!
//! The index is 4 bytes per row (its row numbers grouped by list) plus the centroids.

use std::ops::Range;

use super::int8::{OVERSAMPLE, rescore};
use super::{Retriever, Scan, TopK, cores, each_query, in_parallel};
use crate::catalog::codes::{Codes, quantize};
use crate::catalog::format::Matrix;
use crate::vector::{dot, dot_i8, l2_normalize, top_k};

/// Rows of the k-means sample per list (enough for stable centroids, few enough to train fast).
const SAMPLE_PER_LIST: usize = 48;
/// k-means rounds over the sample.
const ROUNDS: usize = 8;
/// Rows per list in the default list count (`lists_for`).
const ROWS_PER_LIST: usize = 1000;

/// The lists of an IVF index: `lists` unit centroids and each row's list.
#[derive(Debug, Clone, PartialEq)]
pub struct IvfIndex {
    pub dims: usize,
    /// `lists * dims`, row-major, each of unit length.
    centroids: Vec<f32>,
    /// List `l` holds `rows[offsets[l]..offsets[l + 1]]`, ascending.
    offsets: Vec<u32>,
    rows: Vec<u32>,
}

/// The default number of lists for `rows` rows: about `ROWS_PER_LIST` rows each, at least 1.
pub fn lists_for(rows: usize) -> usize {
    rows.div_ceil(ROWS_PER_LIST).max(1)
}

impl IvfIndex {
    /// Trains `lists` centroids on an evenly spaced sample of `m`'s rows (`seed` picks the
    /// starting centroids) and files every row under its nearest one. Uses every core.
    pub fn build(m: &Matrix, lists: usize, seed: u64) -> Self {
        let (n, dims) = (m.rows, m.dims);
        let lists = lists.clamp(1, n.max(1));
        let sample_len = (lists * SAMPLE_PER_LIST).min(n);
        let sample: Vec<usize> = (0..sample_len).map(|i| i * n / sample_len.max(1)).collect();
        // starting centroids: distinct sample rows, a seeded shuffle's first `lists`
        let mut order: Vec<usize> = (0..sample.len()).collect();
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut centroids: Vec<f32> = order[..lists]
            .iter()
            .flat_map(|&s| m.row(sample[s]).iter().copied())
            .collect();
        for _ in 0..ROUNDS {
            let assigned = nearest_lists(&centroids, dims, sample.len(), |i| m.row(sample[i]));
            let mut sums = vec![0f32; lists * dims];
            let mut counts = vec![0usize; lists];
            for (i, &l) in assigned.iter().enumerate() {
                counts[l] += 1;
                for (s, v) in sums[l * dims..(l + 1) * dims]
                    .iter_mut()
                    .zip(m.row(sample[i]))
                {
                    *s += v;
                }
            }
            for l in 0..lists {
                // an emptied list keeps its centroid: it may win rows back next round
                if counts[l] > 0 {
                    let c = &mut sums[l * dims..(l + 1) * dims];
                    l2_normalize(c);
                    centroids[l * dims..(l + 1) * dims].copy_from_slice(c);
                }
            }
        }
        let assigned = nearest_lists(&centroids, dims, n, |r| m.row(r));
        let mut counts = vec![0u32; lists + 1];
        for &l in &assigned {
            counts[l + 1] += 1;
        }
        let mut offsets = counts;
        for l in 0..lists {
            offsets[l + 1] += offsets[l];
        }
        let mut next: Vec<u32> = offsets[..lists].to_vec();
        let mut rows = vec![0u32; n];
        // rows in ascending order within each list (row order decides ties)
        for (r, &l) in assigned.iter().enumerate() {
            rows[next[l] as usize] = r as u32;
            next[l] += 1;
        }
        IvfIndex {
            dims,
            centroids,
            offsets,
            rows,
        }
    }

    pub fn lists(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Rows indexed (the catalog's row count).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn list(&self, l: usize) -> &[u32] {
        &self.rows[self.offsets[l] as usize..self.offsets[l + 1] as usize]
    }

    /// The `probe` lists whose centroids are nearest to `q`.
    fn probed(&self, q: &[f32], probe: usize) -> Vec<usize> {
        let scored = (0..self.lists())
            .map(|l| {
                (
                    l,
                    dot(&self.centroids[l * self.dims..(l + 1) * self.dims], q),
                )
            })
            .collect();
        top_k(scored, probe).into_iter().map(|t| t.0).collect()
    }
}

/// Each of `count` vectors' nearest centroid, the vectors split across the cores.
fn nearest_lists<'a, F>(centroids: &[f32], dims: usize, count: usize, vector: F) -> Vec<usize>
where
    F: Fn(usize) -> &'a [f32] + Sync,
{
    let lists = centroids.len() / dims.max(1);
    let nearest = |i: usize| {
        let v = vector(i);
        let mut best = (0, f32::NEG_INFINITY);
        for l in 0..lists {
            let s = dot(&centroids[l * dims..(l + 1) * dims], v);
            if s > best.1 {
                best = (l, s);
            }
        }
        best.0
    };
    let threads = if count < 4096 { 1 } else { cores() };
    in_parallel(0..count, &mut vec![(); threads], &|i, _| nearest(i))
}

/// Searches an [`IvfIndex`] through the catalog's int8 codes, re-scoring exactly.
pub struct IvfRescore<'m> {
    pub index: &'m IvfIndex,
    pub codes: &'m Codes,
    /// The f32 rows (row-major, `codes.dims` columns).
    pub matrix: &'m [f32],
    /// Lists scanned per query.
    pub probe: usize,
}

impl IvfRescore<'_> {
    fn one(&self, ranges: &[Range<usize>], q: &[f32], k: usize) -> Scan {
        let dims = self.codes.dims;
        let (qc, qs) = quantize(q);
        let (codes, scales) = (self.codes.codes(), self.codes.scales());
        let whole = ranges.len() == 1 && ranges[0] == (0..self.index.len());
        let inside = |row: usize| whole || ranges.iter().any(|r| r.contains(&row));
        let mut pool = TopK::new(k.saturating_mul(OVERSAMPLE));
        for l in self.index.probed(q, self.probe) {
            for &row in self.index.list(l) {
                let row = row as usize;
                if inside(row) {
                    let approx = dot_i8(&codes[row * dims..(row + 1) * dims], &qc) as f32;
                    pool.push(row, approx * (scales[row] * qs));
                }
            }
        }
        rescore(pool.finish(), self.matrix, dims, q, k)
    }
}

impl Retriever for IvfRescore<'_> {
    fn name(&self) -> &'static str {
        "ivf"
    }

    /// The moments are those of the rows the probed lists hold: the nearest part of the
    /// distribution, not all of it (an IVF catalog is one embedding space: nothing to align).
    fn top_k(&self, ranges: &[Range<usize>], queries: &[&[f32]], k: usize) -> Vec<Scan> {
        each_query(queries, |q| self.one(ranges, q, k))
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one range of rows is a legitimate scan
mod tests {
    use super::*;
    use crate::stages::retrieve::ExactScan;
    use crate::stages::retrieve::int8::tests::{catalog, near};

    #[test]
    fn every_row_is_filed_once_in_a_list_with_a_unit_centroid() {
        let m = catalog(2000, 32, 3);
        let ivf = IvfIndex::build(&m, 20, 1);
        assert_eq!(ivf.lists(), 20);
        let mut seen: Vec<u32> = (0..20).flat_map(|l| ivf.list(l).to_vec()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..2000).collect::<Vec<u32>>());
        for l in 0..20 {
            let c = &ivf.centroids[l * 32..(l + 1) * 32];
            assert!((dot(c, c) - 1.0).abs() < 1e-4);
            assert!(ivf.list(l).windows(2).all(|w| w[0] < w[1]));
        }
        // the same seed builds the same index
        assert_eq!(ivf, IvfIndex::build(&m, 20, 1));
        assert_eq!(IvfIndex::build(&m, 5000, 1).lists(), 2000);
    }

    #[test]
    fn probing_every_list_is_the_exact_answer_ties_included() {
        let m = catalog(3000, 96, 11);
        let codes = Codes::of(&m);
        let ivf = IvfIndex::build(&m, 30, 7);
        let exact = ExactScan {
            matrix: m.data(),
            dims: m.dims,
        };
        let all = IvfRescore {
            index: &ivf,
            codes: &codes,
            matrix: m.data(),
            probe: 30,
        };
        let queries: Vec<Vec<f32>> = [3usize, 10, 1500, 2999]
            .iter()
            .map(|&r| near(&m, r))
            .collect();
        let refs: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
        for ranges in [vec![0..3000], vec![0..100, 250..2999]] {
            let want = exact.top_k(&ranges, &refs, 10);
            let got = all.top_k(&ranges, &refs, 10);
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.top, w.top, "ranges {ranges:?}");
            }
        }
        // the tied copies of row 3 sit in one list and come in row order
        let rows: Vec<usize> = all.top_k(&[0..3000], &refs[..1], 10)[0].top[..3]
            .iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(rows, vec![3, 7, 300]);
    }

    #[test]
    fn a_few_lists_find_a_query_near_a_row_and_stay_inside_the_ranges() {
        let m = catalog(3000, 96, 11);
        let codes = Codes::of(&m);
        let ivf = IvfIndex::build(&m, 30, 7);
        let few = IvfRescore {
            index: &ivf,
            codes: &codes,
            matrix: m.data(),
            probe: 3,
        };
        for r in [10usize, 1500, 2999] {
            let q = near(&m, r);
            let got = few.top_k(&[0..3000], &[q.as_slice()], 10);
            assert_eq!(
                got[0].top[0].0, r,
                "the row the query was made from comes first"
            );
            assert!(got[0].count < 3000, "only the probed lists were scanned");
            let inside = few.top_k(&[2000..2500], &[q.as_slice()], 10);
            assert!(inside[0].top.iter().all(|t| (2000..2500).contains(&t.0)));
        }
    }
}
