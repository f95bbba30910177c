//! Rerank signal, texture: the profile's texture descriptor (lite: mean/std of EfficientNet-Lite0's
//! stride-8 and stride-16 feature maps; full: DINOv2's CLS token), L2-normalised, compared by cosine.

use super::retrieve::{dot, l2_normalize};

/// The query's texture descriptor, normalised so that a dot product is a cosine.
pub fn descriptor(raw: &[f32]) -> Vec<f32> {
    let mut v = raw.to_vec();
    l2_normalize(&mut v);
    v
}

/// Cosine of two normalised descriptors.
pub fn similarity(query: &[f32], item: &[f32]) -> f32 {
    dot(query, item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_normalised_descriptors() {
        let a = descriptor(&[2.0, 0.0, 0.0]);
        let b = descriptor(&[1.0, 1.0, 0.0]);
        assert!((similarity(&a, &a) - 1.0).abs() < 1e-6);
        assert!((similarity(&a, &b) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }
}
