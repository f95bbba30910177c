//! Lookalike's app shell: loads the engine in the background, exposes a handful of commands.

pub mod barcode;
pub mod camera;
pub mod catalogs;
pub mod commands;
pub mod contract;
pub mod error;
pub mod mobile;
pub mod response;
pub mod shared;
pub mod state;
pub mod thumbs;

use tauri::{Emitter, Manager, Runtime};

use crate::state::AppState;

/// The app's state and commands, on any runtime: the real webview in [`run`], tauri's mock runtime
/// in the tests (`tests/capabilities.rs`). The engine is loaded by `run`'s setup hook.
pub fn app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    // used from Rust only (pickers, checked shop links): no capability grants them to the UI
    let builder = builder.plugin(tauri_plugin_dialog::init());
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_opener::init());
    builder
        .manage(AppState::default())
        .manage(catalogs::Catalogs::default())
        .register_asynchronous_uri_scheme_protocol(thumbs::SCHEME, thumbs::handle)
        .invoke_handler(tauri::generate_handler![
            commands::engine_status,
            commands::search,
            commands::product,
            commands::product_photo,
            commands::product_by_barcode,
            commands::decode_barcode,
            commands::catalogs,
            commands::open_catalog,
            commands::switch_catalog,
            commands::import_bundle,
            commands::build_catalog,
            commands::update_catalog,
            commands::cancel_job,
            commands::catalog_health,
            commands::open_in_shop,
            commands::shared_image,
            commands::take_shared_image,
        ])
}

/// The real context: `tauri.conf.json` (windows, CSP), the capabilities and the embedded UI.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = tauri::Builder::default();
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_barcode_scanner::init());
    app(builder)
        .setup(|app| {
            // opened with a photo (a file association, or `lookalike-app photo.jpg`)
            #[cfg(desktop)]
            if let Some(Err(e)) = shared::from_args(std::env::args_os()) {
                eprintln!("lookalike: {}", e.message);
            }
            #[cfg(desktop)]
            if let Some(window) = app.get_webview_window("main") {
                camera::enable(&window);
            }
            let handle = app.handle().clone();
            let store = app.state::<catalogs::Catalogs>();
            if let (Ok(data), Ok(config)) = (app.path().app_data_dir(), app.path().app_config_dir())
            {
                store.set_dirs(&data, &config);
            }
            // `$LOOKALIKE_CATALOG` (tests, development) wins over the catalog used last time
            let remembered = std::env::var_os("LOOKALIKE_CATALOG")
                .is_none()
                .then(|| store.remembered())
                .flatten();
            #[cfg(not(target_os = "android"))]
            let paths = state::EnginePaths::resolve(app.path().resource_dir().ok().as_deref());
            // models + catalog load on the async runtime's blocking pool (tokio, Tauri's own), off
            // the main thread; the UI shows "loading" meanwhile
            tauri::async_runtime::spawn_blocking(move || {
                // Android: the models and catalog are APK assets, copied out on first run
                #[cfg(target_os = "android")]
                let paths = match mobile::prepare_engine_paths(&handle) {
                    Ok(paths) => paths,
                    Err(message) => {
                        let error =
                            error::ApiError::new(lookalike_engine::ErrorCode::Install, message);
                        let status = handle.state::<AppState>().fail(error);
                        let _ = handle.emit(state::ENGINE_STATUS_EVENT, status);
                        return;
                    }
                };
                let status = handle
                    .state::<AppState>()
                    .load_preferring(&paths, remembered);
                let _ = handle.emit(state::ENGINE_STATUS_EVENT, status);
            });
            Ok(())
        })
        .run(context())
        .unwrap_or_else(|e| {
            eprintln!("lookalike: the app could not start: {e}");
            std::process::exit(1);
        });
}
