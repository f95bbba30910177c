//! The wire contract as TypeScript, generated from the Rust types the UI receives and sends.
//! `ui/src/generated/contract.ts` is this module's output, committed so that web contributors need
//! no Rust; `tests/contract.rs` fails when it is stale and says how to regenerate it
//! (`cargo xtask contract`, which runs that test with `LOOKALIKE_WRITE_CONTRACT=1`).

use ts_rs::{Config, TS};

/// Where the generated file lives, relative to the repository root.
pub const CONTRACT_TS: &str = "ui/src/generated/contract.ts";

fn declare<T: TS + 'static + ?Sized>(cfg: &Config, out: &mut String) {
    out.push('\n');
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push('\n');
}

/// A value the UI needs beside the types: `export const NAME = value;` with its doc line.
fn constant(out: &mut String, doc: &str, name: &str, value: &str) {
    out.push_str(&format!("\n/** {doc} */\nexport const {name} = {value};\n"));
}

/// The whole file: every type the commands, events and the thumbnail scheme exchange.
pub fn typescript() -> String {
    use lookalike_engine as engine;
    let cfg = Config::default();
    let mut out = String::from(
        "// GENERATED from the Rust types by src-tauri/src/contract.rs: do not edit.\n\
         // Regenerate: cargo xtask contract (a test fails while this file is stale).\n",
    );
    // errors: the union, and the same codes as a value (api.ts checks what arrives against it)
    declare::<engine::ErrorCode>(&cfg, &mut out);
    let union = engine::ErrorCode::inline(&cfg);
    let codes: Vec<&str> = union.split('|').map(str::trim).collect();
    let codes = format!("[{}]", codes.join(", "));
    let doc = "Every `ErrorCode`, as a value.";
    constant(&mut out, doc, "ERROR_CODES: readonly ErrorCode[]", &codes);
    declare::<crate::error::ApiError>(&cfg, &mut out);
    // engine status and the catalog
    declare::<crate::state::EngineStatus>(&cfg, &mut out);
    let doc = "The event that carries an `EngineStatus` when loading ends.";
    let event = format!("{:?}", crate::state::ENGINE_STATUS_EVENT);
    constant(&mut out, doc, "ENGINE_STATUS_EVENT", &event);
    declare::<crate::response::CatalogInfo>(&cfg, &mut out);
    declare::<crate::response::CategoryInfo>(&cfg, &mut out);
    declare::<crate::response::Sample>(&cfg, &mut out);
    declare::<crate::response::ModelInfo>(&cfg, &mut out);
    declare::<engine::BlendWeights>(&cfg, &mut out);
    declare::<engine::Scoring>(&cfg, &mut out);
    declare::<engine::MatchRule>(&cfg, &mut out);
    // a search: options travel as JSON in this header, beside the raw image body
    declare::<crate::response::SearchOptionsDto>(&cfg, &mut out);
    let doc = "The request header that carries a search's `SearchOptionsDto`.";
    let header = format!("{:?}", crate::commands::OPTIONS_HEADER);
    constant(&mut out, doc, "OPTIONS_HEADER", &header);
    declare::<engine::Region>(&cfg, &mut out);
    declare::<engine::stages::color::Swatch>(&cfg, &mut out);
    let doc = "The colours a search can be ranked towards, in the order of every `Hit.swatches`.";
    // names and hex strings: serialising them cannot fail
    let palette =
        serde_json::to_string(&engine::stages::color::palette()).expect("palette as JSON");
    constant(&mut out, doc, "PALETTE: readonly Swatch[]", &palette);
    declare::<crate::response::SearchResponse>(&cfg, &mut out);
    declare::<engine::DetectedObject>(&cfg, &mut out);
    declare::<engine::stages::decode::ImageInfo>(&cfg, &mut out);
    declare::<engine::stages::route::CategoryScore>(&cfg, &mut out);
    declare::<engine::RouteSummary>(&cfg, &mut out);
    declare::<engine::stages::route::RouteReason>(&cfg, &mut out);
    declare::<engine::stages::segment::SegmentationInfo>(&cfg, &mut out);
    declare::<engine::stages::segment::MaskSource>(&cfg, &mut out);
    declare::<engine::stages::segment::CutoutUse>(&cfg, &mut out);
    declare::<engine::Match>(&cfg, &mut out);
    declare::<engine::Hit>(&cfg, &mut out);
    declare::<engine::Timings>(&cfg, &mut out);
    declare::<engine::StageTime>(&cfg, &mut out);
    declare::<engine::Stage>(&cfg, &mut out);
    // products, their thumbnails (by id over this URI scheme) and barcodes
    let doc = "The URI scheme that serves a product's thumbnail by id (`convertFileSrc(id, THUMB_SCHEME)`).";
    let scheme = format!("{:?}", crate::thumbs::SCHEME);
    constant(&mut out, doc, "THUMB_SCHEME", &scheme);
    declare::<crate::response::ProductDto>(&cfg, &mut out);
    declare::<crate::barcode::Barcode>(&cfg, &mut out);
    declare::<crate::shared::SharedImageInfo>(&cfg, &mut out);
    // the Catalogs panel: catalogs in the app's storage, long jobs and their progress
    declare::<crate::catalogs::CatalogsView>(&cfg, &mut out);
    declare::<crate::catalogs::SavedCatalog>(&cfg, &mut out);
    declare::<crate::catalogs::JobKind>(&cfg, &mut out);
    declare::<crate::catalogs::JobProgress>(&cfg, &mut out);
    let doc = "The event that carries a long catalog job's `JobProgress`.";
    let event = format!("{:?}", crate::catalogs::CATALOG_JOB_EVENT);
    constant(&mut out, doc, "CATALOG_JOB_EVENT", &event);
    #[cfg(desktop)]
    {
        use engine::catalog::index::{CategoryCount, IndexReport, Skipped};
        declare::<crate::catalogs::BuildOutcome>(&cfg, &mut out);
        declare::<IndexReport>(&cfg, &mut out);
        declare::<Skipped>(&cfg, &mut out);
        declare::<CategoryCount>(&cfg, &mut out);
    }
    // catalog health (`lookalike check`; the designer view shows the same report)
    {
        use engine::catalog::health::*;
        declare::<HealthReport>(&cfg, &mut out);
        declare::<ProductRef>(&cfg, &mut out);
        declare::<SelfRetrieval>(&cfg, &mut out);
        declare::<SelfRank>(&cfg, &mut out);
        declare::<Duplicates>(&cfg, &mut out);
        declare::<DuplicatePair>(&cfg, &mut out);
        declare::<RouterConfusion>(&cfg, &mut out);
        declare::<Confusion>(&cfg, &mut out);
        declare::<Fallbacks>(&cfg, &mut out);
        declare::<QueryFallback>(&cfg, &mut out);
        declare::<Problem>(&cfg, &mut out);
    }
    out
}
