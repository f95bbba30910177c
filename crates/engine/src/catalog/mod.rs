//! Catalogs: the on-disk format (`catalog.json` + `.bin` matrices + `thumbs/`), the checked
//! reader, and the builder behind `lookalike index`.

pub mod format;
pub mod index;
pub mod reader;
pub mod schema;

pub use reader::Catalog;
