fn main() {
    // Declaring the app's commands makes each one a permission that a capability must grant
    // (capabilities/*.json): the webview can call nothing else.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "engine_status",
        "search",
        "product",
        "product_photo",
        "product_by_barcode",
        "decode_barcode",
        "catalogs",
        "open_catalog",
        "switch_catalog",
        "import_bundle",
        "build_catalog",
        "update_catalog",
        "cancel_job",
        "catalog_health",
        "open_in_shop",
        "shared_image",
        "take_shared_image",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build step failed");
}
