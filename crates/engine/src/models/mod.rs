//! Models: the manifest (what each model is and how to feed it), preprocessing built from it, and
//! the ONNX Runtime sessions, loaded lazily behind a lock and shared by every search. The text
//! towers (feature `text`: the CLI and the desktop app) embed a full-profile catalog's category
//! prompts and a search's words; the phone build has none.

pub mod manifest;
pub mod preprocess;
pub mod resample;
pub mod runtime;
#[cfg(feature = "text")]
pub mod text;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use manifest::{Manifest, ModelSpec, OutputRef, ProfileSpec, Weights};
pub use runtime::{LoadedModel, ModelOutputs, OutputTensor, RuntimeOptions};

use crate::error::{EngineError, Result};

pub struct ModelRegistry {
    manifest: Manifest,
    options: RuntimeOptions,
    allow_random_weights: bool,
    loaded: Mutex<HashMap<String, Arc<LoadedModel>>>,
}

impl ModelRegistry {
    pub fn new(manifest: Manifest, options: RuntimeOptions, allow_random_weights: bool) -> Self {
        ModelRegistry {
            manifest,
            options,
            allow_random_weights,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn runtime_options(&self) -> &RuntimeOptions {
        &self.options
    }

    /// The model, loading (and verifying) it on first use.
    pub fn get(&self, id: &str) -> Result<Arc<LoadedModel>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(model) = loaded.get(id) {
            return Ok(model.clone());
        }
        if self.manifest.model(id)?.weights == Weights::RandomInit && !self.allow_random_weights {
            return Err(EngineError::RandomWeights { model: id.into() });
        }
        let model = Arc::new(LoadedModel::load(&self.manifest, id, &self.options)?);
        loaded.insert(id.to_string(), model.clone());
        Ok(model)
    }

    /// Whether the model's file is present (used to pick the best available index segmenter).
    pub fn is_available(&self, id: &str) -> bool {
        self.manifest.model_path(id).is_ok_and(|p| p.is_file())
    }
}
