//! Stage 4, embed: the query's embedding in each expert's space (which model and output comes
//! from the profile, per expert name), of its cut-out and, as a second view, of its whole frame
//! (`Features::frame_embedding`), L2-normalised so retrieval is a dot product. A shopper's words
//! ("in red leather", profiles with a text tower per expert) are mixed into each view here.

use crate::vector::{l2_normalize, normalized};

pub fn embedding(raw: &[f32]) -> Vec<f32> {
    normalized(raw)
}

/// The longest text a search takes, in characters (the towers read at most 64 tokens anyway).
pub const MAX_TEXT_CHARS: usize = 200;

/// An image view moved towards a text in the same space: `normalise(image + weight * text)`,
/// both unit length, so a cosine with it is the image's cosine plus `weight` times the text's,
/// over one length shared by every catalog row (the ranking is that sum's).
pub fn with_text(image: &[f32], text: &[f32], weight: f32) -> Vec<f32> {
    let mut v: Vec<f32> = image
        .iter()
        .zip(text)
        .map(|(i, t)| i + weight * t)
        .collect();
    l2_normalize(&mut v);
    v
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

    #[test]
    fn text_moves_the_query_and_keeps_it_unit_length() {
        let image = [1.0, 0.0, 0.0];
        let text = [0.0, 1.0, 0.0];
        let q = with_text(&image, &text, 1.0);
        assert!((q.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((q[0] - q[1]).abs() < 1e-6, "equal weight: halfway");
        let heavy = with_text(&image, &text, 3.0);
        assert!(heavy[1] > 2.9 * heavy[0], "{heavy:?}");
    }
}
