//! Stage 5, retrieve: exact dot-product scan of the query against a sub-catalog's L2-normalised
//! embeddings (so the dot product is the cosine), keeping the top-k (50) rows.

use std::ops::Range;

/// Dot product with sixteen independent accumulators: the compiler turns them into SIMD
/// registers (SSE on x86-64, NEON on arm64) and the adds do not wait on each other.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; 16];
    let (ca, ra) = a.as_chunks::<16>();
    let (cb, rb) = b.as_chunks::<16>();
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > f32::EPSILON {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Best first; ties go to the lower row (stable results).
fn order(a: &(usize, f32), b: &(usize, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// What one scan found: its top-k rows, plus the score moments over every row it scored (the
/// two-expert alignment needs the whole distribution, not just the shortlist).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// `(row, score)`, best first.
    pub top: Vec<(usize, f32)>,
    pub count: usize,
    sum: f64,
    sum_sq: f64,
}

impl Scan {
    /// Mean and standard deviation of every score the scan computed.
    pub fn moments(&self) -> (f32, f32) {
        let n = self.count.max(1) as f64;
        let mean = self.sum / n;
        let var = (self.sum_sq / n - mean * mean).max(0.0);
        (mean as f32, var.sqrt() as f32)
    }

    fn merge(parts: Vec<Scan>, k: usize) -> Scan {
        let mut all = Scan::default();
        let mut top = Vec::new();
        for p in parts {
            all.count += p.count;
            all.sum += p.sum;
            all.sum_sq += p.sum_sq;
            top.extend(p.top);
        }
        all.top = top_k(top, k);
        all
    }
}

/// Running top-k of one scan: keeps at most 2k pairs and prunes back to k with a selection,
/// so a million-row scan never sorts (or even stores) a million scores.
struct TopK {
    k: usize,
    buf: Vec<(usize, f32)>,
    floor: f32,
    scan: Scan,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            buf: Vec::with_capacity(2 * k.max(1)),
            floor: f32::NEG_INFINITY,
            scan: Scan::default(),
        }
    }

    #[inline]
    fn push(&mut self, row: usize, score: f32) {
        self.scan.count += 1;
        self.scan.sum += f64::from(score);
        self.scan.sum_sq += f64::from(score) * f64::from(score);
        // rows arrive in ascending order, so a tie with the floor loses to the rows already kept
        if self.k == 0 || (self.buf.len() >= self.k && score.total_cmp(&self.floor).is_le()) {
            return;
        }
        self.buf.push((row, score));
        if self.buf.len() == self.buf.capacity() {
            self.buf.select_nth_unstable_by(self.k - 1, order);
            self.buf.truncate(self.k);
            self.floor = self.buf[self.k - 1].1;
        }
    }

    fn finish(mut self) -> Scan {
        self.scan.top = top_k(self.buf, self.k);
        self.scan
    }
}

/// Below this many floats (4 MiB of rows) one thread scans faster than starting more.
const PARALLEL_MIN_FLOATS: usize = 1 << 20;

/// Splits the rows of `ranges` into `parts` contiguous pieces of (nearly) equal length.
fn split_rows(ranges: &[Range<usize>], parts: usize) -> Vec<Vec<Range<usize>>> {
    let total: usize = ranges.iter().map(|r| r.len()).sum();
    let per = total.div_ceil(parts.max(1)).max(1);
    let mut out: Vec<Vec<Range<usize>>> = vec![Vec::new()];
    let mut room = per;
    for r in ranges {
        let mut start = r.start;
        while start < r.end {
            if room == 0 {
                out.push(Vec::new());
                room = per;
            }
            let end = r.end.min(start + room);
            if let Some(last) = out.last_mut() {
                last.push(start..end);
            }
            room -= end - start;
            start = end;
        }
    }
    out
}

fn threads_for(ranges: &[Range<usize>], dims: usize) -> usize {
    let floats = ranges.iter().map(|r| r.len()).sum::<usize>() * dims;
    if floats < PARALLEL_MIN_FLOATS {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Exact top-`k` of `query` against the rows in `ranges` of the row-major `matrix` (`dims`
/// columns). Large scans are split across the machine's cores; the answer does not depend on
/// how (ties go to the lower row).
pub fn scan_top_k(
    matrix: &[f32],
    dims: usize,
    ranges: &[Range<usize>],
    query: &[f32],
    k: usize,
) -> Scan {
    scan_top_k_batch(matrix, dims, ranges, &[query], k)
        .pop()
        .unwrap_or_default()
}

/// [`scan_top_k`] for several queries in one pass over the rows: each block of rows is read from
/// memory once and scored against every query while it is in cache.
pub fn scan_top_k_batch(
    matrix: &[f32],
    dims: usize,
    ranges: &[Range<usize>],
    queries: &[&[f32]],
    k: usize,
) -> Vec<Scan> {
    let threads = threads_for(ranges, dims);
    if threads <= 1 {
        return scan_part(matrix, dims, ranges, queries, k);
    }
    let parts = split_rows(ranges, threads);
    let results: Vec<Vec<Scan>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|p| s.spawn(move || scan_part(matrix, dims, p, queries, k)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    (0..queries.len())
        .map(|q| Scan::merge(results.iter().map(|r| r[q].clone()).collect(), k))
        .collect()
}

/// Rows per block in a batch scan: 16 rows of 768 f32 are 48 KiB, which stay in L2 while every
/// query visits them.
const BLOCK_ROWS: usize = 16;

fn scan_part(
    matrix: &[f32],
    dims: usize,
    ranges: &[Range<usize>],
    queries: &[&[f32]],
    k: usize,
) -> Vec<Scan> {
    let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(k)).collect();
    for r in ranges {
        if let [q] = queries {
            let top = &mut tops[0];
            for row in r.clone() {
                top.push(row, dot(&matrix[row * dims..(row + 1) * dims], q));
            }
            continue;
        }
        let mut start = r.start;
        while start < r.end {
            let end = r.end.min(start + BLOCK_ROWS);
            for (q, top) in queries.iter().zip(tops.iter_mut()) {
                for row in start..end {
                    top.push(row, dot(&matrix[row * dims..(row + 1) * dims], q));
                }
            }
            start = end;
        }
    }
    tops.into_iter().map(TopK::finish).collect()
}

/// Mean and standard deviation of the scores.
pub fn moments(scored: &[(usize, f32)]) -> (f32, f32) {
    let n = scored.len().max(1) as f32;
    let mean = scored.iter().map(|s| s.1).sum::<f32>() / n;
    let var = scored.iter().map(|s| (s.1 - mean).powi(2)).sum::<f32>() / n;
    (mean, var.sqrt())
}

/// Two experts' cosines live on different scales (one model's "close" may be 0.3, another's 0.8),
/// so a merged ranking compares them after mapping one onto the other: same mean and spread over
/// the sub-catalogs each one scanned. A group too small to have a spread keeps its raw scores.
pub fn align(scored: &mut [(usize, f32)], from: (f32, f32), to: (f32, f32)) {
    if from.1 <= 1e-6 || to.1 <= 1e-6 {
        return;
    }
    for s in scored.iter_mut() {
        s.1 = to.0 + (s.1 - from.0) * (to.1 / from.1);
    }
}

/// Keeps the `k` best `(row, score)` pairs, best first; ties go to the lower row (stable results).
pub fn top_k(mut scored: Vec<(usize, f32)>, k: usize) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    if scored.len() > k {
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
    }
    scored.sort_unstable_by(order);
    scored
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one range of rows is a legitimate scan
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_naive_sum_for_every_length() {
        for n in [0, 1, 7, 8, 9, 17, 768] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-4, "n={n}");
        }
    }

    #[test]
    fn normalise_gives_unit_length() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut z = vec![0.0; 3];
        l2_normalize(&mut z);
        assert_eq!(z, vec![0.0; 3]);
    }

    #[test]
    fn top_k_keeps_the_best_in_order() {
        let scored = vec![(0, 0.1), (1, 0.9), (2, 0.5), (3, 0.9), (4, -1.0), (5, 0.7)];
        assert_eq!(top_k(scored.clone(), 3), vec![(1, 0.9), (3, 0.9), (5, 0.7)]);
        assert_eq!(top_k(scored.clone(), 10).len(), 6);
        assert!(top_k(scored, 0).is_empty());
    }

    #[test]
    fn aligned_experts_rank_fairly() {
        // expert A scores everything high, expert B low; each has one clear best match
        let a = vec![(0, 0.90), (1, 0.80), (2, 0.82), (3, 0.78)];
        let mut b = vec![(10, 0.40), (11, 0.10), (12, 0.12), (13, 0.08)];
        let (ma, mb) = (moments(&a), moments(&b));
        align(&mut b, mb, ma);
        assert!((moments(&b).0 - ma.0).abs() < 1e-5);
        assert!((moments(&b).1 - ma.1).abs() < 1e-5);
        let merged = top_k(a.iter().copied().chain(b.iter().copied()).collect(), 2);
        // B's standout match (far above B's own mean) now competes with A's best instead of losing to all of A
        assert!(merged.iter().any(|m| m.0 == 10), "{merged:?}");
        let mut single = vec![(5, 0.3)];
        align(&mut single, moments(&[(5, 0.3)]), ma);
        assert_eq!(single, vec![(5, 0.3)], "no spread: left as is");
    }

    #[test]
    fn scan_covers_only_the_requested_rows() {
        // 4 rows of 2 dims; query picks the second axis
        let m = vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8, 0.0, -1.0];
        let s = scan_top_k(&m, 2, &[1..3], &[0.0, 1.0], 5);
        assert_eq!(s.top, vec![(1, 1.0), (2, 0.8)]);
        assert_eq!(s.count, 2);
        let s = scan_top_k(&m, 2, &[0..1, 3..4], &[0.0, 1.0], 1);
        assert_eq!(s.top, vec![(0, 0.0)]);
        assert!(scan_top_k(&m, 2, &[0..4], &[0.0, 1.0], 0).top.is_empty());
    }

    /// Pseudo-random unit rows (xorshift: no rand dependency, same numbers everywhere).
    fn rows(n: usize, dims: usize, seed: u64) -> Vec<f32> {
        let mut x = seed;
        let mut m: Vec<f32> = (0..n * dims)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        m.chunks_mut(dims).for_each(l2_normalize);
        m
    }

    fn naive(m: &[f32], dims: usize, ranges: &[Range<usize>], q: &[f32], k: usize) -> Scan {
        let mut all = Vec::new();
        for r in ranges {
            for row in r.clone() {
                all.push((row, dot(&m[row * dims..(row + 1) * dims], q)));
            }
        }
        let (mean, sd) = moments(&all);
        let mut s = Scan {
            count: all.len(),
            top: top_k(all, k),
            ..Scan::default()
        };
        s.sum = f64::from(mean) * s.count as f64;
        s.sum_sq = (f64::from(sd).powi(2) + f64::from(mean).powi(2)) * s.count as f64;
        s
    }

    #[test]
    fn fused_parallel_and_batched_scans_equal_the_naive_one() {
        // big enough to run on several threads, with duplicate rows to exercise ties
        let dims = 64;
        let n = PARALLEL_MIN_FLOATS / dims + 3001;
        let mut m = rows(n, dims, 7);
        let dup = m[dims * 10..dims * 11].to_vec();
        for r in [500, 9000, n - 1] {
            m[r * dims..(r + 1) * dims].copy_from_slice(&dup);
        }
        let queries: Vec<Vec<f32>> = (0..3).map(|i| rows(1, dims, 100 + i)).collect();
        let q10 = m[dims * 10..dims * 11].to_vec();
        let ranges = [0..n / 3, n / 3 + 5..n];
        for (i, q) in queries.iter().chain([&q10]).enumerate() {
            for k in [1, 50, 333] {
                let want = naive(&m, dims, &ranges, q, k);
                let got = scan_top_k(&m, dims, &ranges, q, k);
                assert_eq!(got.top, want.top, "query {i}, k {k}");
                assert_eq!(got.count, want.count);
                let (gm, gs) = got.moments();
                let (wm, ws) = want.moments();
                assert!(
                    (gm - wm).abs() < 1e-5 && (gs - ws).abs() < 1e-4,
                    "query {i}"
                );
            }
        }
        // the duplicates of row 10 tie with it: lower rows first
        let top = scan_top_k(&m, dims, &[0..n], &q10, 4).top;
        assert_eq!(
            top.iter().map(|t| t.0).collect::<Vec<_>>(),
            vec![10, 500, 9000, n - 1]
        );
        let refs: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
        let batch = scan_top_k_batch(&m, dims, &ranges, &refs, 50);
        for (q, b) in refs.iter().zip(&batch) {
            assert_eq!(b.top, scan_top_k(&m, dims, &ranges, q, 50).top);
        }
    }

    #[test]
    fn rows_split_evenly_across_ranges() {
        let parts = split_rows(&[0..5, 10..17], 3);
        let lens: Vec<usize> = parts
            .iter()
            .map(|p| p.iter().map(|r| r.len()).sum())
            .collect();
        assert_eq!(lens, vec![4, 4, 4]);
        assert_eq!(parts[1], vec![4..5, 10..13]);
        assert_eq!(split_rows(&[0..2], 4).len(), 2);
    }
}
