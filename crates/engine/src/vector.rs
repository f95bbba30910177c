//! Vector maths shared by every stage: dot products, unit length, best-k selection and score
//! moments. Retrieval, texture, routing, the text towers and the index builder all use these.

pub mod kernels;

/// Dot product, with the kernel chosen for this CPU (`kernels`).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels::kernels().dot_f32)(a, b)
}

/// Dot product of two int8 codes, summed exactly in i32 (`kernels`).
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels::kernels().dot_i8)(a, b)
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > f32::EPSILON {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// A unit-length copy of `raw`.
pub fn normalized(raw: &[f32]) -> Vec<f32> {
    let mut v = raw.to_vec();
    l2_normalize(&mut v);
    v
}

/// Best first; ties go to the lower row (stable results).
pub(crate) fn order(a: &(usize, f32), b: &(usize, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
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

/// Mean and standard deviation of the scores.
pub fn moments(scored: &[(usize, f32)]) -> (f32, f32) {
    let n = scored.len().max(1) as f32;
    let mean = scored.iter().map(|s| s.1).sum::<f32>() / n;
    let var = scored.iter().map(|s| (s.1 - mean).powi(2)).sum::<f32>() / n;
    (mean, var.sqrt())
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
        let e = normalized(&[1.0, 2.0, 2.0]);
        assert!((dot(&e, &e) - 1.0).abs() < 1e-6);
        assert!((e[0] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn top_k_keeps_the_best_in_order() {
        let scored = vec![(0, 0.1), (1, 0.9), (2, 0.5), (3, 0.9), (4, -1.0), (5, 0.7)];
        assert_eq!(top_k(scored.clone(), 3), vec![(1, 0.9), (3, 0.9), (5, 0.7)]);
        assert_eq!(top_k(scored.clone(), 10).len(), 6);
        assert!(top_k(scored, 0).is_empty());
    }

    #[test]
    fn moments_of_a_known_set() {
        let (m, s) = moments(&[(0, 1.0), (1, 3.0)]);
        assert!((m - 2.0).abs() < 1e-6 && (s - 1.0).abs() < 1e-6);
    }
}
