//! What every command failure looks like on the wire: `{code, message}`. The code is one of the
//! shared `ErrorCode`s (the UI's union type is generated from the same enum).

use lookalike_engine::{EngineError, ErrorCode};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
pub struct ApiError {
    pub code: ErrorCode,
    /// Human-readable, shown to the user as is.
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
