//! A photo opened with the app (`lookalike-app photo.jpg`, what a file association runs) or
//! shared into it waits in `shared.rs` until the UI takes it, once. One test: the slot is global.

use std::ffi::OsString;

use lookalike_app_lib::shared;

#[test]
fn an_opened_photo_waits_once_and_a_bad_one_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("my lamp.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff not really a jpeg").unwrap();
    let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();

    // no argument, or options only: nothing was opened
    assert!(shared::from_args(args(&["lookalike-app"])).is_none());
    assert!(shared::from_args(args(&["lookalike-app", "--verbose"])).is_none());
    assert!(shared::from_args(args(&["lookalike-app", "http://127.0.0.1:4444/x"])).is_none());
    assert_eq!(shared::peek().unwrap(), None);
    assert_eq!(shared::take().unwrap_err().code, "not_found");

    // the first plain argument is the photo: its name and bytes wait, once
    let path = photo.to_string_lossy().into_owned();
    let info = shared::from_args(args(&["lookalike-app", "--x", &path]))
        .unwrap()
        .unwrap();
    assert_eq!((info.name.as_str(), info.bytes), ("my lamp.jpg", 21));
    assert_eq!(
        shared::peek().unwrap(),
        Some(info.clone()),
        "peeking leaves it"
    );
    assert_eq!(shared::take().unwrap(), std::fs::read(&photo).unwrap());
    assert_eq!(shared::peek().unwrap(), None, "taken once");

    // a newer share replaces one nobody took
    shared::offer("a.png", vec![1, 2, 3]).unwrap();
    shared::offer("b.png", vec![4, 5]).unwrap();
    assert_eq!(shared::peek().unwrap().unwrap().name, "b.png");
    assert_eq!(shared::take().unwrap(), vec![4, 5]);

    // a file that cannot be read: the UI is told why, once, and nothing waits
    let missing = dir.path().join("gone.jpg").to_string_lossy().into_owned();
    let e = shared::from_args(args(&["lookalike-app", &missing]))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, "io");
    assert!(e.message.contains("cannot open gone.jpg"), "{}", e.message);
    assert_eq!(shared::peek().unwrap_err(), e);
    assert_eq!(shared::peek().unwrap(), None);

    // over the search's size limit
    let big = vec![0u8; lookalike_app_lib::commands::MAX_IMAGE_BYTES + 1];
    let e = shared::offer("huge.jpg", big).unwrap_err();
    assert_eq!(e.code, "payload_too_large");
    assert!(
        e.message.contains("huge.jpg is 40 MB; the limit is 40 MB"),
        "{}",
        e.message
    );
}

/// The `.deb` registers the app for the image types the engine decodes, and its desktop entry
/// passes the opened files on (`%F`: Tauri's default entry passes none). Checked by building the
/// bundle once: `npm run tauri -- build --bundles deb` writes `Exec=lookalike-app %F`.
#[test]
fn the_desktop_bundle_opens_images_with_the_app() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tauri.conf.json")).unwrap())
            .unwrap();
    let mimes: Vec<&str> = conf["bundle"]["fileAssociations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["mimeType"].as_str().unwrap())
        .collect();
    for m in [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/tiff",
        "image/bmp",
    ] {
        assert!(mimes.contains(&m), "{m} is not associated: {mimes:?}");
    }
    let template = conf["bundle"]["linux"]["deb"]["desktopTemplate"]
        .as_str()
        .unwrap();
    let entry = std::fs::read_to_string(root.join(template)).unwrap();
    assert!(entry.lines().any(|l| l == "Exec={{exec}} %F"), "{entry}");
    assert!(entry.contains("MimeType={{mime_type}}"), "{entry}");
    // the phone takes shares through its own intent filter, not the desktop's associations
    let android: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tauri.android.conf.json")).unwrap(),
    )
    .unwrap();
    assert!(android["bundle"]["fileAssociations"].is_null());
    assert!(
        android["bundle"]
            .as_object()
            .unwrap()
            .contains_key("fileAssociations")
    );
}
