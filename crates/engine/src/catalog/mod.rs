//! Catalogs: the on-disk format (`catalog.json` + product records + `.bin` matrices + optional
//! int8 codes and HNSW graph + `thumbs/`), the checked
//! reader, the check against the models that search it, the atomic folder swap, bundles (a
//! catalog as one checked file), the health report, and (feature `index`) the builder behind
//! `lookalike index` with its products-file reader and build cache.

pub mod atomic;
#[cfg(feature = "index")]
pub mod build_cache;
pub mod bundle;
pub mod codes;
pub mod compat;
pub mod format;
pub mod graph;
pub mod health;
#[cfg(feature = "index")]
pub mod index;
#[cfg(feature = "index")]
pub mod products;
pub mod reader;
pub mod records;
pub mod schema;

pub use reader::Catalog;
