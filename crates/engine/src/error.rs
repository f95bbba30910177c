//! Every way a search or an index build can fail, each with a message a person can act on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

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
    #[error(
        "model file missing: {path} (model `{model}`; run `bash scripts/setup.sh core` to fetch it)"
    )]
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
    /// A catalog bundle (`lookalike pack` / `unpack`, the app's import) that is not whole or not safe.
    #[error("catalog bundle {path}: {detail}")]
    Bundle { path: PathBuf, detail: String },
    #[error("unknown category `{name}` (the catalog has: {known})")]
    UnknownCategory { name: String, known: String },
    /// The user stopped a long job (an index build); nothing was replaced.
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("invalid search options: {0}")]
    InvalidOptions(String),
    /// A broken invariant inside the engine, never the user's input: a bug to report.
    #[error("internal error (please report it): {0}")]
    Internal(String),

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
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::EmptyInput => ErrorCode::EmptyInput,
            EngineError::UnsupportedFormat(_) => ErrorCode::UnsupportedFormat,
            EngineError::CorruptImage { .. } => ErrorCode::CorruptImage,
            EngineError::ImageTooLarge { .. } => ErrorCode::ImageTooLarge,
            EngineError::ImageTooSmall { .. } => ErrorCode::ImageTooSmall,
            EngineError::Manifest { .. } => ErrorCode::Manifest,
            EngineError::UnknownProfile { .. } => ErrorCode::UnknownProfile,
            EngineError::ModelMissing { .. } => ErrorCode::ModelMissing,
            EngineError::ModelChecksum { .. } => ErrorCode::ModelChecksum,
            EngineError::ModelMismatch { .. } => ErrorCode::ModelMismatch,
            EngineError::RandomWeights { .. } => ErrorCode::RandomWeights,
            EngineError::Runtime { .. } => ErrorCode::Runtime,
            EngineError::Inference { .. } => ErrorCode::Inference,
            EngineError::Catalog { .. } => ErrorCode::Catalog,
            EngineError::CatalogMismatch { .. } => ErrorCode::CatalogMismatch,
            EngineError::Products { .. } => ErrorCode::Products,
            EngineError::Bundle { .. } => ErrorCode::Bundle,
            EngineError::UnknownCategory { .. } => ErrorCode::UnknownCategory,
            EngineError::Cancelled(_) => ErrorCode::Cancelled,
            EngineError::InvalidOptions(_) => ErrorCode::InvalidOptions,
            EngineError::Internal(_) => ErrorCode::Internal,
            EngineError::Io { .. } => ErrorCode::Io,
        }
    }
}

/// Every error code anyone reports: the engine (and so the CLI's `--json` errors), the app shell
/// and the UI itself. The UI's TypeScript union is generated from this list, so a code the UI
/// matches on cannot drift from the one Rust sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // ---- the engine ------------------------------------------------------------------------
    EmptyInput,
    UnsupportedFormat,
    CorruptImage,
    ImageTooLarge,
    ImageTooSmall,
    Manifest,
    UnknownProfile,
    ModelMissing,
    ModelChecksum,
    ModelMismatch,
    RandomWeights,
    Runtime,
    Inference,
    Catalog,
    CatalogMismatch,
    Products,
    Bundle,
    UnknownCategory,
    Cancelled,
    InvalidOptions,
    Internal,
    Io,
    // ---- the app shell ---------------------------------------------------------------------
    /// The models and catalog are still loading.
    EngineNotReady,
    /// The phone could not copy its bundled models and catalog out of the APK.
    Install,
    /// A request the command layer refuses before the engine sees it.
    BadRequest,
    PayloadTooLarge,
    InvalidBarcode,
    /// No product with that id (or thumbnail).
    NotFound,
    /// A preview image could not be encoded.
    Encode,
    /// Another catalog job (build, import, health check) is running.
    Busy,
    // ---- the UI itself ---------------------------------------------------------------------
    /// Browser mode with no mock and no Tauri.
    NoBackend,
    /// The feature needs the mobile app (camera barcode scanning).
    Unsupported,
    CameraPermission,
    /// A barcode was read but no product has that GTIN.
    BarcodeNotFound,
    /// No barcode was found in the photo.
    NoBarcode,
    /// Anything else that reached the UI without a code.
    Unknown,
}

impl std::fmt::Display for ErrorCode {
    /// The code as it travels (`image_too_large`): serde's name, so there is one spelling.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => f.write_str(&s),
            _ => write!(f, "{self:?}"),
        }
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        matches!(serde_json::to_value(self), Ok(serde_json::Value::String(s)) if s == *other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_travel_as_their_names() {
        for code in [
            ErrorCode::ImageTooLarge,
            ErrorCode::EngineNotReady,
            ErrorCode::NoBarcode,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
        assert_eq!(ErrorCode::CorruptImage, "corrupt_image");
    }
}
