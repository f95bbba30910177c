//! The command layer without a webview: argument validation, error mapping, and real searches
//! through the same `AppState` the app manages.

use lookalike_app_lib::commands::{self, MAX_IMAGE_BYTES};
use lookalike_app_lib::error::ApiError;
use lookalike_app_lib::state::{AppState, EnginePaths, EngineStatus};
use lookalike_app_lib::thumbs;
use lookalike_engine::EngineError;
use lookalike_tests::{build_catalog, demo_sources, models_dir, photo_like};
use tauri::ipc::InvokeBody;

fn ready_state(dir: &std::path::Path) -> AppState {
    let catalog = build_catalog(
        dir,
        &["vendure-laptop", "vendure-tent", "saleor-orange-juice"],
    );
    let state = AppState::default();
    let status = state.load(&EnginePaths {
        models: models_dir(),
        catalog,
        dylib: None,
    });
    assert!(matches!(status, EngineStatus::Ready { .. }), "{status:?}");
    state
}

#[test]
fn options_header_is_validated() {
    let o = commands::parse_options(None).unwrap();
    assert_eq!(
        (o.top_k, o.candidates, o.include_candidates, o.category),
        (10, 50, true, None)
    );
    let o = commands::parse_options(Some(
        r#"{"category":"sports","weights":{"semantic":1,"texture":0,"color":0},"top_k":5}"#,
    ))
    .unwrap();
    assert_eq!(o.category.as_deref(), Some("sports"));
    assert_eq!(o.top_k, 5);
    assert_eq!(o.weights.unwrap().semantic, 1.0);
    // a region and a colour, checked as the engine checks them
    let o = commands::parse_options(Some(
        r##"{"region":{"x":0.5,"y":0,"w":0.5,"h":1},"color":"#1b2a6b"}"##,
    ))
    .unwrap();
    let r = o.region.unwrap();
    assert_eq!((r.x, r.y, r.w, r.h), (0.5, 0.0, 0.5, 1.0));
    assert_eq!(o.color.unwrap().rgb, [0x1b, 0x2a, 0x6b]);
    assert_eq!(
        commands::parse_options(Some(r#"{"color":"red"}"#))
            .unwrap()
            .color
            .unwrap()
            .swatch,
        Some(5)
    );
    for bad in [
        r#"{"top_k":0}"#,
        r#"{"top_k":500}"#,
        r#"{"topK":5}"#,
        r#"{"colour":1}"#,
        r#"{"color":"navy"}"#,
        r#"{"region":{"x":0.6,"y":0,"w":0.5,"h":1}}"#,
        r#"{"region":{"x":0,"y":0,"w":0,"h":1}}"#,
        r#"{"region":{"x":0,"y":0,"w":0.5}}"#,
        "not json",
    ] {
        let e = commands::parse_options(Some(bad)).unwrap_err();
        assert_eq!(e.code, "invalid_options", "{bad}: {e}");
    }
}

#[test]
fn image_must_be_a_raw_body_of_bounded_size() {
    assert_eq!(
        commands::raw_image(&InvokeBody::Raw(vec![1, 2, 3])).unwrap(),
        &[1, 2, 3]
    );
    let json = InvokeBody::Json(serde_json::json!([255, 216, 255]));
    assert_eq!(commands::raw_image(&json).unwrap_err().code, "bad_request");
    let huge = InvokeBody::Raw(vec![0; MAX_IMAGE_BYTES + 1]);
    assert_eq!(
        commands::raw_image(&huge).unwrap_err().code,
        "payload_too_large"
    );
}

#[test]
fn engine_errors_keep_their_code_and_message() {
    let e: ApiError = EngineError::UnsupportedFormat("SVG vector drawing".into()).into();
    assert_eq!(e.code, "unsupported_format");
    assert!(e.message.contains("SVG"));
}

#[test]
fn commands_wait_for_the_engine_and_report_load_failures() {
    let state = AppState::default();
    assert!(matches!(state.status(), EngineStatus::Loading));
    assert_eq!(
        commands::product_impl(&state, "x").unwrap_err().code,
        "engine_not_ready"
    );
    let missing = tempfile::tempdir().unwrap();
    let status = state.load(&EnginePaths {
        models: models_dir(),
        catalog: missing.path().to_path_buf(),
        dylib: None,
    });
    match status {
        EngineStatus::Error { error } => {
            assert_eq!(error.code, "catalog");
            assert!(error.message.contains("lookalike index"));
        }
        other => panic!("expected an error status, got {other:?}"),
    }
    assert_eq!(
        commands::search_impl(&state, b"x", &Default::default())
            .unwrap_err()
            .code,
        "catalog"
    );
}

#[test]
fn search_product_and_barcode_through_the_app_state() {
    let tmp = tempfile::tempdir().unwrap();
    let state = ready_state(tmp.path());
    let original = std::fs::read(demo_sources().join("images/vendure-tent.jpg")).unwrap();
    let photo = photo_like(&original, 5.0, 0.03, 80);
    let options = commands::parse_options(None).unwrap();
    let response = commands::search_impl(&state, &photo, &options).unwrap();
    let r = &response.result;
    assert_eq!(r.results[0].id, "vendure-tent");
    assert_eq!(r.results.len(), 3);
    assert_eq!(
        r.candidates.len(),
        3,
        "the app always gets the shortlist for the designer view"
    );
    assert!(response.cutout.starts_with("data:image/png;base64,"));
    assert!(response.mask.starts_with("data:image/png;base64,"));
    let json = serde_json::to_value(&response).unwrap();
    for key in [
        "image",
        "categories",
        "route",
        "segmentation",
        "results",
        "candidates",
        "timings",
        "cutout",
        "mask",
    ] {
        assert!(!json[key].is_null(), "response has `{key}`");
    }
    // thumbnails travel by id over the `thumb:` scheme, never inside a response
    assert!(
        !json.to_string().contains("image/jpeg"),
        "no JPEG in the response"
    );
    let thumb = thumbs::respond(&state, &format!("/{}", r.results[0].id));
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    assert_eq!(&thumb.body()[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
    assert_eq!(thumbs::respond(&state, "/no-such-product").status(), 404);
    assert_eq!(thumbs::respond(&state, "/../catalog.json").status(), 404);
    assert_eq!(thumbs::respond(&state, "/%zz").status(), 400);

    let err = commands::search_impl(&state, b"hello there\n", &options).unwrap_err();
    assert_eq!(err.code, "unsupported_format");

    // the empty state's samples: one product per category (largest first), and the thumbnail
    // the UI fetches for one finds that very product
    let info = lookalike_app_lib::response::catalog_info(&state.engine().unwrap()).unwrap();
    assert_eq!(info.samples.len(), 3, "three categories, one sample each");
    let sample = &info.samples[1];
    let thumb = thumbs::respond(&state, &format!("/{}", sample.id));
    let found = commands::search_impl(&state, thumb.body(), &options).unwrap();
    assert_eq!(found.result.results[0].id, sample.id);
    assert_eq!(found.result.results[0].name, sample.name);
    // the lite profile takes no words: the UI hides the box, the engine says why
    assert!(!info.takes_text);
    let words = commands::parse_options(Some(r#"{"text":"in r\u00f6d leather"}"#)).unwrap();
    assert_eq!(words.text.as_deref(), Some("in röd leather"));
    let err = commands::search_impl(&state, &photo, &words).unwrap_err();
    assert_eq!(err.code, "invalid_options");
    assert!(err.message.contains("takes no words"), "{err}");

    let p = commands::product_impl(&state, "vendure-laptop").unwrap();
    assert_eq!(p.name, "Laptop");
    assert_eq!(
        commands::product_impl(&state, "../etc").unwrap_err().code,
        "not_found"
    );
    // the demo products carry no GTIN: a valid code finds nothing, a malformed one is refused
    assert!(
        commands::product_by_barcode_impl(&state, "4006381333931")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        commands::product_by_barcode_impl(&state, "12ab")
            .unwrap_err()
            .code,
        "invalid_barcode"
    );
}

#[test]
fn a_thumbnail_swapped_for_a_link_after_opening_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let state = ready_state(tmp.path());
    let ok = thumbs::respond(&state, "/vendure-laptop");
    assert_eq!(ok.status(), 200);
    let thumb = state
        .engine()
        .unwrap()
        .catalog()
        .dir
        .join("thumbs/vendure-laptop.jpg");
    std::fs::remove_file(&thumb).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &thumb).unwrap();
    let r = thumbs::respond(&state, "/vendure-laptop");
    assert_eq!(r.status(), 500);
    let why = String::from_utf8_lossy(r.body()).into_owned();
    assert!(why.contains("symbolic link"), "{why}");
}
