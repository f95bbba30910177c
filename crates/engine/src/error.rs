//! Every way a search or an index build can fail, each with a message a person can act on.

use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum EngineError {
    // ---- user images -------------------------------------------------------------------------
    #[error("empty input: the file has no bytes")]
    EmptyInput,
    #[error("unsupported image format: {0}")]
    UnsupportedFormat(String),
    #[error("corrupt or truncated image ({format}): {detail}")]
    CorruptImage { format: String, detail: String },
    #[error(
        "image too large: {width}x{height} = {pixels} pixels exceeds the limit of {limit} pixels"
    )]
    ImageTooLarge {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("image too small: {width}x{height} (at least {min}x{min} pixels are needed)")]
    ImageTooSmall { width: u32, height: u32, min: u32 },

    // ---- models ------------------------------------------------------------------------------
    #[error("model manifest {path}: {detail}")]
    Manifest { path: PathBuf, detail: String },
    #[error("unknown profile `{name}` (the manifest defines: {known})")]
    UnknownProfile { name: String, known: String },
    #[error("model file missing: {path} (model `{model}`; run scripts/setup.sh to fetch it)")]
    ModelMissing { model: String, path: PathBuf },
    #[error(
        "model file corrupt: {path} (model `{model}`) has sha256 {actual}, the manifest expects {expected}"
    )]
    ModelChecksum {
        model: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("model `{model}` does not match its manifest entry: {detail}")]
    ModelMismatch { model: String, detail: String },
    #[error(
        "model `{model}` was exported with random weights: its results are not a real search (pass allow_random_weights to run it anyway)"
    )]
    RandomWeights { model: String },
    #[error("ONNX Runtime could not be loaded from {path}: {detail}")]
    Runtime { path: PathBuf, detail: String },
    #[error("inference failed in model `{model}`: {detail}")]
    Inference { model: String, detail: String },

    // ---- catalogs ----------------------------------------------------------------------------
    #[error("catalog {path}: {detail}")]
    Catalog { path: PathBuf, detail: String },
    #[error("catalog {path} does not match the loaded models: {detail}")]
    CatalogMismatch { path: PathBuf, detail: String },
    #[error("products file {path}: {detail}")]
    Products { path: PathBuf, detail: String },
    #[error("unknown category `{0}`")]
    UnknownCategory(String),
    #[error("invalid search options: {0}")]
    InvalidOptions(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl EngineError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }

    /// A short stable code for the UI and for scripts (`--json` error objects).
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::EmptyInput => "empty_input",
            EngineError::UnsupportedFormat(_) => "unsupported_format",
            EngineError::CorruptImage { .. } => "corrupt_image",
            EngineError::ImageTooLarge { .. } => "image_too_large",
            EngineError::ImageTooSmall { .. } => "image_too_small",
            EngineError::Manifest { .. } => "manifest",
            EngineError::UnknownProfile { .. } => "unknown_profile",
            EngineError::ModelMissing { .. } => "model_missing",
            EngineError::ModelChecksum { .. } => "model_checksum",
            EngineError::ModelMismatch { .. } => "model_mismatch",
            EngineError::RandomWeights { .. } => "random_weights",
            EngineError::Runtime { .. } => "runtime",
            EngineError::Inference { .. } => "inference",
            EngineError::Catalog { .. } => "catalog",
            EngineError::CatalogMismatch { .. } => "catalog_mismatch",
            EngineError::Products { .. } => "products",
            EngineError::UnknownCategory(_) => "unknown_category",
            EngineError::InvalidOptions(_) => "invalid_options",
            EngineError::Io { .. } => "io",
        }
    }
}
