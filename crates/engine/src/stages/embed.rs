//! Stage 4, embed: the query's embedding in each expert's space (which model and output comes
//! from the profile, per expert name), of its cut-out and, as a second view, of its whole frame
//! (`Features::frame_embedding`), L2-normalised so retrieval is a dot product.

use crate::vector::normalized;

pub fn embedding(raw: &[f32]) -> Vec<f32> {
    normalized(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_have_unit_length() {
        let e = embedding(&[1.0, 2.0, 2.0]);
        assert!((e.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((e[0] - 1.0 / 3.0).abs() < 1e-6);
    }
}
