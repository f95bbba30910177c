//! The int8 codes and the HNSW graph of a catalog (`lookalike index --codes int8`, `--ann hnsw`)
//! on the real demo catalog: the search that scans the codes, or walks the graph, and re-scores
//! its shortlist answers what the exact scan answers, and a damaged, truncated or foreign codes
//! or graph file, or a catalog of an unknown version, is refused with a message that says what
//! to do.

use std::path::{Path, PathBuf};

use lookalike_engine::catalog::Catalog;
use lookalike_engine::catalog::index::{self, AnnChoice, CodesChoice, IndexOptions};
use lookalike_engine::catalog::schema::{
    AnnKind, CATALOG_VERSION, CODES_BIN, CodesKind, GRAPH_BIN, PRODUCTS_IDX, PRODUCTS_JSONL,
};
use lookalike_engine::{Engine, EngineConfig, SearchOptions};
use lookalike_tests::{bench_photos, demo_sources, models_dir, repo};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The demo catalog rebuilt with `codes` and `ann` into `dir/name` (from a copy of catalog/demo,
/// so the build cache reuses every product's vectors: no model runs).
fn demo_with(dir: &Path, name: &str, codes: CodesChoice, ann: AnnChoice) -> PathBuf {
    let out = dir.join(name);
    copy_dir(&repo().join("catalog/demo"), &out);
    let mut opts = IndexOptions::new(
        demo_sources().join("images"),
        demo_sources().join("products.json"),
        &out,
        models_dir(),
    );
    opts.codes = codes;
    opts.ann = ann;
    let report = index::build(&opts, &mut |_, _, _| {}).expect("the demo rebuilds");
    assert_eq!(
        report.embedded, 0,
        "every product's vectors come from the cache"
    );
    out
}

#[test]
fn a_search_over_int8_codes_answers_as_the_exact_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let exact_dir = demo_with(tmp.path(), "exact", CodesChoice::None, AnnChoice::Auto);
    let int8_dir = demo_with(tmp.path(), "int8", CodesChoice::Int8, AnnChoice::Auto);
    assert!(
        !exact_dir.join(CODES_BIN).exists(),
        "85 products, --codes none"
    );
    let file = &Catalog::open(&int8_dir).unwrap().file;
    assert_eq!(
        (file.version, file.codes, file.ann),
        (CATALOG_VERSION, Some(CodesKind::Int8), None)
    );
    // auto: the demo is far below the thresholds
    assert_eq!(CodesChoice::Auto.kind(file.rows), None);
    assert_eq!(AnnChoice::Auto.kind(file.rows), None);

    let exact = Engine::open(EngineConfig::new(models_dir(), &exact_dir)).unwrap();
    let int8 = Engine::open(EngineConfig::new(models_dir(), &int8_dir)).unwrap();
    assert!(int8.catalog().codes.is_some() && exact.catalog().codes.is_none());
    // a shortlist of 10 keeps a pool of 40 of the 85 rows: the codes choose it
    for candidates in [10, SearchOptions::default().candidates] {
        let opts = SearchOptions {
            candidates,
            ..SearchOptions::default()
        };
        for photo in bench_photos() {
            let bytes = std::fs::read(&photo).unwrap();
            let (a, b) = (
                exact.search(&bytes, &opts).unwrap(),
                int8.search(&bytes, &opts).unwrap(),
            );
            let ids = |r: &lookalike_engine::SearchResult| {
                r.results
                    .iter()
                    .map(|h| (h.id.clone(), h.score, h.semantic_cutout))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                ids(&a),
                ids(&b),
                "{} candidates={candidates}",
                photo.display()
            );
            assert_eq!(a.verdict, b.verdict);
        }
    }
}

#[test]
fn damaged_foreign_or_unknown_catalog_files_are_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo_with(tmp.path(), "int8", CodesChoice::Int8, AnnChoice::Auto);
    let codes = dir.join(CODES_BIN);
    let good = std::fs::read(&codes).unwrap();
    let (rows, dims) = {
        let c = Catalog::open_checked(&dir).unwrap();
        (c.len(), c.file.dims.embedding)
    };
    let open_err = |d: &Path| Catalog::open(d).unwrap_err().to_string();

    std::fs::write(&codes, &good[..good.len() - 100]).unwrap();
    let e = open_err(&dir);
    assert!(e.contains(CODES_BIN) && e.contains("truncated"), "{e}");

    // row 1's codes in row 0's place: opening (header only) takes them, the full check does not
    let mut swapped = good.clone();
    let codes_at = lookalike_engine::catalog::codes::HEADER_LEN + 4 * rows;
    swapped[codes_at..codes_at + dims].copy_from_slice(&good[codes_at + dims..codes_at + 2 * dims]);
    std::fs::write(&codes, &swapped).unwrap();
    Catalog::open(&dir).expect("opening reads the header only");
    let e = Catalog::open_checked(&dir).unwrap_err().to_string();
    assert!(e.contains("row 0") && e.contains("another build"), "{e}");

    // the codes file missing although catalog.json names it
    std::fs::remove_file(&codes).unwrap();
    let e = open_err(&dir);
    assert!(e.contains(CODES_BIN), "{e}");
    std::fs::write(&codes, &good).unwrap();
    Catalog::open_checked(&dir).expect("the good codes are back");

    // versions: 1 (no codes, products inside catalog.json) still opens, a newer one asks for
    // an update
    let products = Catalog::open(&dir).unwrap().all_products().unwrap();
    let json = dir.join("catalog.json");
    let text = std::fs::read_to_string(&json).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["version"] = 1.into();
    std::fs::write(&json, v.to_string()).unwrap();
    assert!(open_err(&dir).contains("version 2 added them"));
    v.as_object_mut().unwrap().remove("codes");
    std::fs::write(&json, v.to_string()).unwrap();
    assert!(
        open_err(&dir).contains("lists no products"),
        "version 1 kept them inline"
    );
    v.as_object_mut().unwrap().remove("rows");
    v["products"] = serde_json::to_value(&products).unwrap();
    std::fs::write(&json, v.to_string()).unwrap();
    for name in [PRODUCTS_JSONL, PRODUCTS_IDX] {
        std::fs::remove_file(dir.join(name)).unwrap();
    }
    let old = Catalog::open_checked(&dir).expect("a version 1 catalog opens");
    assert!(old.codes.is_none());
    assert_eq!(old.all_products().unwrap(), products);
    let last = products.last().unwrap();
    assert_eq!(old.product_by_id(&last.id).unwrap().as_ref(), Some(last));
    // version 4 keeps its products out of catalog.json
    v["version"] = CATALOG_VERSION.into();
    std::fs::write(&json, v.to_string()).unwrap();
    assert!(open_err(&dir).contains("lists its products inline"));
    v["version"] = (CATALOG_VERSION + 1).into();
    std::fs::write(&json, v.to_string()).unwrap();
    let e = open_err(&dir);
    assert!(
        e.contains(&format!("version {}", CATALOG_VERSION + 1)) && e.contains("newer Lookalike"),
        "{e}"
    );
}

/// The engine's results on every bench photo, as (id, score, cut-out cosine).
fn answers(engine: &Engine, opts: &SearchOptions) -> Vec<Vec<(String, f32, f32)>> {
    bench_photos()
        .iter()
        .map(|photo| {
            let bytes = std::fs::read(photo).unwrap();
            let r = engine.search(&bytes, opts).unwrap();
            r.results
                .iter()
                .map(|h| (h.id.clone(), h.score, h.semantic_cutout))
                .collect()
        })
        .collect()
}

#[test]
fn a_search_that_walks_an_hnsw_graph_answers_as_the_exact_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let exact_dir = demo_with(tmp.path(), "exact", CodesChoice::None, AnnChoice::None);
    // the graph brings the codes it links along
    let hnsw_dir = demo_with(tmp.path(), "hnsw", CodesChoice::Auto, AnnChoice::Hnsw);
    let file = &Catalog::open_checked(&hnsw_dir).unwrap().file;
    assert_eq!(
        (file.codes, file.ann),
        (Some(CodesKind::Int8), Some(AnnKind::Hnsw))
    );
    assert!(hnsw_dir.join(GRAPH_BIN).is_file());
    let exact = Engine::open(EngineConfig::new(models_dir(), &exact_dir)).unwrap();
    let hnsw = Engine::open(EngineConfig::new(models_dir(), &hnsw_dir)).unwrap();
    assert!(hnsw.catalog().graph.is_some());
    // the walk keeps at least 128 rows: on 85 products it reaches them all, so a wrong link
    // or a row the graph cannot reach changes the answer
    for candidates in [10, SearchOptions::default().candidates] {
        let opts = SearchOptions {
            candidates,
            ..SearchOptions::default()
        };
        assert_eq!(
            answers(&exact, &opts),
            answers(&hnsw, &opts),
            "candidates={candidates}"
        );
    }
    // a graph without its codes cannot be asked for
    let e = index::build(
        &{
            let mut o = IndexOptions::new(
                demo_sources().join("images"),
                demo_sources().join("products.json"),
                tmp.path().join("none"),
                models_dir(),
            );
            (o.codes, o.ann) = (CodesChoice::None, AnnChoice::Hnsw);
            o
        },
        &mut |_, _, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--ann hnsw") && e.contains("--codes"), "{e}");
    assert!(!tmp.path().join("none").exists(), "nothing was written");
}

#[test]
fn a_truncated_missing_or_foreign_graph_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo_with(tmp.path(), "hnsw", CodesChoice::Int8, AnnChoice::Hnsw);
    let graph = dir.join(GRAPH_BIN);
    let good = std::fs::read(&graph).unwrap();
    let open_err = |d: &Path| Catalog::open(d).unwrap_err().to_string();

    std::fs::write(&graph, &good[..good.len() - 8]).unwrap();
    let e = open_err(&dir);
    assert!(e.contains(GRAPH_BIN) && e.contains("truncated"), "{e}");
    assert!(
        e.contains("rebuild the catalog with `lookalike index`"),
        "{e}"
    );

    std::fs::remove_file(&graph).unwrap();
    let e = open_err(&dir);
    assert!(e.contains(GRAPH_BIN), "{e}");

    // a graph built on other codes (here: the codes of rows 0 and 1 swapped under it)
    std::fs::write(&graph, &good).unwrap();
    Catalog::open_checked(&dir).expect("the good graph is back");
    let codes = dir.join(CODES_BIN);
    let good_codes = std::fs::read(&codes).unwrap();
    let (rows, dims) = {
        let c = Catalog::open(&dir).unwrap();
        (c.len(), c.file.dims.embedding)
    };
    let mut swapped = good_codes.clone();
    let at = lookalike_engine::catalog::codes::HEADER_LEN + 4 * rows;
    swapped[at..at + dims].copy_from_slice(&good_codes[at + dims..at + 2 * dims]);
    swapped[at + dims..at + 2 * dims].copy_from_slice(&good_codes[at..at + dims]);
    std::fs::write(&codes, &swapped).unwrap();
    let e = open_err(&dir);
    assert!(e.contains(GRAPH_BIN) && e.contains("another build"), "{e}");
    std::fs::write(&codes, &good_codes).unwrap();

    // a link to a row that is not there: opening maps the graph, the full check reads it
    let mut damaged = good.clone();
    let layer0 = 4 * (16 + u32::from_le_bytes(good[28..32].try_into().unwrap()) as usize);
    damaged[layer0..layer0 + 4].copy_from_slice(&(rows as u32 + 7).to_le_bytes());
    std::fs::write(&graph, &damaged).unwrap();
    Catalog::open(&dir).expect("opening reads the header only");
    let e = Catalog::open_checked(&dir).unwrap_err().to_string();
    assert!(e.contains(GRAPH_BIN) && e.contains("damaged"), "{e}");
    std::fs::write(&graph, &good).unwrap();

    // catalog.json: a graph needs version 3 and codes
    let json = dir.join("catalog.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    v["version"] = 2.into();
    std::fs::write(&json, v.to_string()).unwrap();
    assert!(open_err(&dir).contains("version 3 added them"));
    v["version"] = 3.into();
    v.as_object_mut().unwrap().remove("codes");
    std::fs::write(&json, v.to_string()).unwrap();
    assert!(open_err(&dir).contains("no codes"));
}
