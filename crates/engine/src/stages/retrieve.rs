//! Stage 5, retrieve: exact dot-product scan of the query against a sub-catalog's L2-normalised
//! embeddings (so the dot product is the cosine), keeping the top-k (50) rows.

use std::ops::Range;

/// Dot product with eight independent accumulators, so the compiler vectorises the loop.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; 8];
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..8 {
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

/// Scores `rows` of the row-major `matrix` (`dims` columns) against `query`, appending `(row, score)`.
pub fn scan(
    matrix: &[f32],
    dims: usize,
    rows: Range<usize>,
    query: &[f32],
    out: &mut Vec<(usize, f32)>,
) {
    for row in rows {
        let v = &matrix[row * dims..(row + 1) * dims];
        out.push((row, dot(v, query)));
    }
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
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
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
        let mut out = Vec::new();
        scan(&m, 2, 1..3, &[0.0, 1.0], &mut out);
        assert_eq!(out, vec![(1, 1.0), (2, 0.8)]);
    }
}
