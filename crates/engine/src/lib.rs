//! Lookalike's engine: visual product search on device, with no UI code.
//!
//! ```text
//! bytes -> stages::decode -> stages::segment -> stages::route -> stages::embed
//!       -> stages::retrieve (top-50) -> stages::texture + stages::color -> stages::rerank (top-10)
//! ```
//! `Engine::open` loads the manifest's models for a profile and a checked catalog;
//! `Engine::search` runs the stages above. `catalog::index` builds catalogs with the same stages.

pub mod catalog;
pub mod engine;
pub mod error;
pub mod models;
pub mod stages;

pub use catalog::Catalog;
pub use engine::{Engine, EngineConfig, Hit, SearchOptions, SearchResult, Timings};
pub use error::{EngineError, Result};
pub use stages::rerank::BlendWeights;
