//! Lookalike's engine: visual product search on device, with no UI code.
//!
//! ```text
//! bytes -> features (decode, segment; model outputs on demand)          features.rs
//!       -> route -> embed -> retrieve (top-50) -> texture + color -> rerank (top-10) -> match
//!                                                                      stages/, engine.rs
//! ```
//! `Engine::open` loads the manifest's models for a profile and a checked catalog;
//! `Engine::search` runs the stages above. `catalog::index` (feature `index`) builds catalogs
//! with the same feature extractor, so query and catalog vectors come from one code path.

pub mod catalog;
pub mod engine;
pub mod error;
pub mod features;
pub mod models;
pub mod result;
pub mod stages;
pub mod vector;

pub use catalog::Catalog;
pub use engine::{Engine, EngineConfig};
pub use error::{EngineError, ErrorCode, Result};
pub use result::{Hit, RouteSummary, SearchOptions, SearchResult};
pub use stages::color::ColorTarget;
pub use stages::objects::{DetectedObject, Region};
pub use stages::rerank::{BlendWeights, Scoring};
pub use stages::verdict::{Match, MatchRule};
pub use stages::{Stage, StageTime, Timings};
