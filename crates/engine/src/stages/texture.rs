//! Rerank signal, texture: the profile's texture descriptor (lite: mean/std of EfficientNet-Lite0's
//! stride-8 and stride-16 feature maps; full: DINOv2's CLS token), compared by cosine.
//!
//! Raw descriptors of any two images point in much the same direction (every product photo has
//! edges and flat areas), so their cosine sits near 0.9 and says little. The catalog stores the
//! mean of its normalised descriptors (`texture_center`); subtracting it before the cosine keeps
//! only what sets a texture apart, spreading scores over [-1, 1].

use crate::vector::{dot, l2_normalize};

/// A descriptor ready for cosine: normalised, centred on the catalog's mean, normalised again.
pub fn descriptor(raw: &[f32], center: &[f32]) -> Vec<f32> {
    let mut v = raw.to_vec();
    l2_normalize(&mut v);
    if center.len() == v.len() {
        v.iter_mut().zip(center).for_each(|(x, c)| *x -= c);
        l2_normalize(&mut v);
    }
    v
}

/// The mean of normalised raw descriptors (the catalog's `texture_center`).
pub fn center(raws: &[Vec<f32>]) -> Vec<f32> {
    let Some(first) = raws.first() else {
        return Vec::new();
    };
    let mut mean = vec![0f32; first.len()];
    for raw in raws {
        let v = descriptor(raw, &[]);
        mean.iter_mut()
            .zip(&v)
            .for_each(|(m, x)| *m += x / raws.len() as f32);
    }
    mean
}

/// Cosine of two normalised descriptors.
pub fn similarity(query: &[f32], item: &[f32]) -> f32 {
    dot(query, item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centring_spreads_similar_descriptors_apart() {
        let raws = vec![vec![10.0, 1.0, 0.0], vec![10.0, 0.0, 1.0]];
        let raw_cos = similarity(&descriptor(&raws[0], &[]), &descriptor(&raws[1], &[]));
        assert!(raw_cos > 0.98, "both are mostly the shared first axis");
        let c = center(&raws);
        let centred = similarity(&descriptor(&raws[0], &c), &descriptor(&raws[1], &c));
        assert!(centred < -0.9, "what is left differs: {centred}");
        assert!(
            (similarity(&descriptor(&raws[0], &c), &descriptor(&raws[0], &c)) - 1.0).abs() < 1e-5
        );
    }

    #[test]
    fn cosine_of_normalised_descriptors() {
        let a = descriptor(&[2.0, 0.0, 0.0], &[]);
        let b = descriptor(&[1.0, 1.0, 0.0], &[]);
        assert!((similarity(&a, &a) - 1.0).abs() < 1e-6);
        assert!((similarity(&a, &b) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }
}
