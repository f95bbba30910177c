//! The search pipeline, one stage per file, in the order a query flows through them:
//! decode -> segment -> route -> embed -> retrieve (top-50) -> texture + color -> rerank (top-10).

pub mod color;
pub mod decode;
pub mod embed;
pub mod rerank;
pub mod retrieve;
pub mod route;
pub mod segment;
pub mod texture;
