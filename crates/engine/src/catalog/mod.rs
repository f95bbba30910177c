//! Catalogs: the on-disk format (`catalog.json` + `.bin` matrices + `thumbs/`), the checked
//! reader, the check against the models that search it, and (feature `index`) the builder behind
//! `lookalike index`.

pub mod atomic;
pub mod compat;
pub mod format;
#[cfg(feature = "index")]
pub mod index;
#[cfg(feature = "index")]
pub mod products;
pub mod reader;
pub mod schema;

pub use reader::Catalog;
