//! Text towers: at index time each category's prompts ("a photo of a dress", ...) are tokenised
//! with the tokenizer file that ships beside the model, embedded, averaged and normalised into
//! the category's prototype; in a search, a shopper's words ("in red leather") are embedded the
//! same way and mixed into the image query (`stages/embed.rs`). Only profiles with text towers
//! (the full one) run them; the lite profile, the phone's, has none.

use std::sync::Arc;

use super::manifest::{PaddingSide, TextSpec};
use super::runtime::sha256_file;
use super::{LoadedModel, ModelRegistry};
use crate::error::{EngineError, Result};
use crate::vector::l2_normalize;

pub struct TextEncoder {
    model: Arc<LoadedModel>,
    spec: TextSpec,
    tokenizer: tokenizers::Tokenizer,
    output: String,
}

impl TextEncoder {
    /// Loads the text tower `id` and its checksum-verified tokenizer.
    pub fn load(models: &ModelRegistry, id: &str) -> Result<Self> {
        let model = models.get(id)?;
        let spec = model
            .spec
            .text
            .clone()
            .ok_or_else(|| EngineError::ModelMismatch {
                model: id.into(),
                detail: "is not a text tower".into(),
            })?;
        let path = models.manifest().dir.join(&spec.tokenizer);
        if !path.is_file() {
            return Err(EngineError::ModelMissing {
                model: format!("{id} tokenizer"),
                path,
            });
        }
        let actual = sha256_file(&path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
        if !actual.eq_ignore_ascii_case(&spec.tokenizer_sha256) {
            return Err(EngineError::ModelChecksum {
                model: format!("{id} tokenizer"),
                path,
                expected: spec.tokenizer_sha256.clone(),
                actual,
            });
        }
        let tokenizer =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| EngineError::ModelMismatch {
                model: format!("{id} tokenizer"),
                detail: format!("{} ({:?}): {e}", path.display(), spec.tokenizer_kind),
            })?;
        let output = model
            .spec
            .outputs
            .first()
            .map(|o| o.name.clone())
            .unwrap_or_default();
        Ok(TextEncoder {
            model,
            spec,
            tokenizer,
            output,
        })
    }

    /// Token ids for `text`: truncated or padded to exactly `max_len`.
    pub fn tokenize(&self, text: &str) -> Result<Vec<i64>> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| EngineError::Inference {
                model: self.model.id.clone(),
                detail: format!("tokenising `{text}`: {e}"),
            })?;
        let ids: Vec<i64> = encoding.get_ids().iter().map(|i| i64::from(*i)).collect();
        Ok(fit(ids, &self.spec))
    }

    /// The normalised embedding of one text.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>> {
        let ids = self.tokenize(text)?;
        let mut out = self.model.run_text(&ids)?;
        let mut v = out.remove(&self.output).map(|t| t.data).unwrap_or_default();
        l2_normalize(&mut v);
        Ok(v)
    }

    /// A category prototype: the normalised mean of its prompts' normalised embeddings.
    pub fn prototype(&self, prompts: &[String]) -> Result<Vec<f32>> {
        let mut mean: Vec<f32> = Vec::new();
        for p in prompts {
            let e = self.embed(p)?;
            if mean.is_empty() {
                mean = vec![0.0; e.len()];
            }
            mean.iter_mut().zip(&e).for_each(|(m, x)| *m += x);
        }
        l2_normalize(&mut mean);
        Ok(mean)
    }
}

/// Exactly `max_len` ids: cut (keeping the end-of-sequence id last) or padded on the manifest's side.
fn fit(mut ids: Vec<i64>, spec: &TextSpec) -> Vec<i64> {
    let n = spec.max_len;
    if ids.len() > n {
        ids.truncate(n);
        if let (Some(eos), Some(last)) = (spec.eos_id, ids.last_mut()) {
            *last = eos;
        }
    }
    let pad = vec![spec.pad_id; n - ids.len()];
    match spec.padding_side {
        PaddingSide::Right => ids.extend(pad),
        PaddingSide::Left => ids.splice(0..0, pad).for_each(drop),
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::manifest::TokenizerKind;

    fn spec(side: PaddingSide, eos: Option<i64>) -> TextSpec {
        TextSpec {
            input: "input_ids".into(),
            max_len: 4,
            tokenizer: String::new(),
            tokenizer_sha256: String::new(),
            tokenizer_kind: TokenizerKind::ByteLevelStub,
            padding_side: side,
            pad_id: 0,
            eos_id: eos,
            image_model: String::new(),
        }
    }

    #[test]
    fn ids_are_padded_on_the_manifest_side_and_cut_keeping_eos() {
        assert_eq!(
            fit(vec![5, 6], &spec(PaddingSide::Right, Some(1))),
            [5, 6, 0, 0]
        );
        assert_eq!(
            fit(vec![5, 6], &spec(PaddingSide::Left, Some(1))),
            [0, 0, 5, 6]
        );
        assert_eq!(
            fit(vec![5, 6, 7, 8, 9, 1], &spec(PaddingSide::Right, Some(1))),
            [5, 6, 7, 1]
        );
        assert_eq!(
            fit(vec![5, 6, 7, 8, 9], &spec(PaddingSide::Right, None)),
            [5, 6, 7, 8]
        );
    }
}
