//! The Tauri commands: argument checks, then one call into the engine off the main thread.
//! The logic lives in plain functions (`*_impl`) so it is tested without a webview.

use lookalike_engine::{ColorTarget, ErrorCode, SearchOptions};
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::barcode::{self, Barcode};
use crate::catalogs::{
    self, CATALOG_JOB_EVENT, Catalogs, CatalogsView, JobKind, JobProgress, Pick,
};
use crate::error::ApiError;
use crate::response::{self, CatalogInfo, ProductDto, SearchOptionsDto, SearchResponse};
use crate::shared::{self, SharedImageInfo};
use crate::state::{AppState, EngineStatus};

/// Largest image the UI may send (a 50 MP JPEG is about 25 MB).
pub const MAX_IMAGE_BYTES: usize = 40 * 1024 * 1024;
pub const OPTIONS_HEADER: &str = "x-search-options";

/// The image bytes of a raw-body invoke (`invoke(cmd, uint8array)`), size-checked.
pub fn raw_image(body: &InvokeBody) -> Result<&[u8], ApiError> {
    match body {
        InvokeBody::Raw(bytes) if bytes.len() > MAX_IMAGE_BYTES => Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the image is {} MB; the limit is {} MB",
                bytes.len() >> 20,
                MAX_IMAGE_BYTES >> 20
            ),
        )),
        InvokeBody::Raw(bytes) => Ok(bytes),
        InvokeBody::Json(_) => Err(ApiError::new(
            ErrorCode::BadRequest,
            "send the image as a raw binary body (invoke(cmd, bytes)), not JSON",
        )),
    }
}

pub fn parse_options(header: Option<&str>) -> Result<SearchOptions, ApiError> {
    let dto: SearchOptionsDto = match header {
        Some(h) => serde_json::from_str(h).map_err(|e| {
            ApiError::new(ErrorCode::InvalidOptions, format!("{OPTIONS_HEADER}: {e}"))
        })?,
        None => SearchOptionsDto::default(),
    };
    let top_k = dto.top_k.unwrap_or(10);
    if !(1..=50).contains(&top_k) {
        return Err(ApiError::new(
            ErrorCode::InvalidOptions,
            format!("top_k must be 1..=50, got {top_k}"),
        ));
    }
    let color = dto.color.as_deref().map(ColorTarget::parse).transpose()?;
    if let Some(r) = &dto.region {
        r.validate()?;
    }
    Ok(SearchOptions {
        category: dto.category,
        weights: dto.weights,
        top_k,
        region: dto.region,
        color,
        text: dto.text,
        candidates: 50,
        include_candidates: true,
        ..SearchOptions::default()
    })
}

pub fn search_impl(
    state: &AppState,
    bytes: &[u8],
    options: &SearchOptions,
) -> Result<SearchResponse, ApiError> {
    let engine = state.engine()?;
    response::search_response(engine.search(bytes, options)?)
}

pub fn product_impl(state: &AppState, id: &str) -> Result<ProductDto, ApiError> {
    let engine = state.engine()?;
    crate::state::product(&engine, id)
}

pub fn product_by_barcode_impl(
    state: &AppState,
    code: &str,
) -> Result<Option<ProductDto>, ApiError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(
            ErrorCode::InvalidBarcode,
            format!("`{code}` is not an EAN/UPC number"),
        ));
    }
    Ok(state.engine()?.catalog().product_by_gtin(code)?)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("worker failed: {e}")))?
}

#[tauri::command]
pub fn engine_status(state: State<'_, AppState>) -> EngineStatus {
    state.status()
}

#[tauri::command]
pub async fn search<R: Runtime>(
    app: AppHandle<R>,
    request: Request<'_>,
) -> Result<SearchResponse, ApiError> {
    let bytes = raw_image(request.body())?.to_vec();
    let header = request
        .headers()
        .get(OPTIONS_HEADER)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let options = parse_options(header.as_deref())?;
    blocking(move || search_impl(&app.state::<AppState>(), &bytes, &options)).await
}

#[tauri::command]
pub async fn product<R: Runtime>(app: AppHandle<R>, id: String) -> Result<ProductDto, ApiError> {
    blocking(move || product_impl(&app.state::<AppState>(), &id)).await
}

#[tauri::command]
pub async fn product_by_barcode<R: Runtime>(
    app: AppHandle<R>,
    code: String,
) -> Result<Option<ProductDto>, ApiError> {
    blocking(move || product_by_barcode_impl(&app.state::<AppState>(), &code)).await
}

#[tauri::command]
pub async fn decode_barcode(request: Request<'_>) -> Result<Option<Barcode>, ApiError> {
    let bytes = raw_image(request.body())?.to_vec();
    blocking(move || barcode::decode(&bytes)).await
}

// ---- the Catalogs panel --------------------------------------------------------------------

#[tauri::command]
pub fn catalogs(state: State<'_, AppState>, catalogs: State<'_, Catalogs>) -> CatalogsView {
    catalogs::view(&state, &catalogs)
}

/// Picks a catalog folder and switches to it (`None`: the dialog was closed).
#[tauri::command]
pub async fn open_catalog<R: Runtime>(app: AppHandle<R>) -> Result<Option<CatalogInfo>, ApiError> {
    blocking(move || {
        let Some(dir) = catalogs::pick(&app, Pick::Folder("Open a Lookalike catalog folder"))?
        else {
            return Ok(None);
        };
        catalogs::open_impl(&app.state(), &app.state(), &dir).map(Some)
    })
    .await
}

#[tauri::command]
pub async fn switch_catalog<R: Runtime>(
    app: AppHandle<R>,
    name: String,
) -> Result<CatalogInfo, ApiError> {
    blocking(move || catalogs::switch_impl(&app.state(), &app.state(), &name)).await
}

/// Picks a `.lookalike` bundle, imports it and switches to it.
#[tauri::command]
pub async fn import_bundle<R: Runtime>(app: AppHandle<R>) -> Result<Option<CatalogInfo>, ApiError> {
    blocking(move || {
        let title = "Import a Lookalike catalog bundle";
        let Some(file) = catalogs::pick(&app, Pick::File(title, "Catalog bundle", &["lookalike"]))?
        else {
            return Ok(None);
        };
        let store = app.state::<Catalogs>();
        let _job = store.start_job()?;
        emit_progress(&app, JobKind::Import, 0, 1, "verifying");
        let info = catalogs::import_impl(&app.state(), &store, &file)?;
        emit_progress(&app, JobKind::Import, 1, 1, &info.name);
        Ok(Some(info))
    })
    .await
}

/// Picks a folder of images, then a products file, builds the catalog (progress events) and
/// switches to it.
#[cfg(desktop)]
#[tauri::command]
pub async fn build_catalog<R: Runtime>(
    app: AppHandle<R>,
) -> Result<Option<catalogs::BuildOutcome>, ApiError> {
    blocking(move || {
        let Some(images) =
            catalogs::pick(&app, Pick::Folder("The folder with the product images"))?
        else {
            return Ok(None);
        };
        let title = "The products file (Lookalike JSON, CSV or a Shopify export)";
        let filter = Pick::File(title, "Products file", &["json", "csv"]);
        let Some(products) = catalogs::pick(&app, filter)? else {
            return Ok(None);
        };
        let store = app.state::<Catalogs>();
        let job = store.start_job()?;
        let mut progress = |p: JobProgress| {
            let _ = app.emit(CATALOG_JOB_EVENT, p);
        };
        catalogs::build_impl(
            &app.state(),
            &store,
            &images,
            &products,
            &job,
            &mut progress,
        )
        .map(Some)
    })
    .await
}

/// Rebuilds a saved catalog from the files it was built from: only changed images are embedded.
#[cfg(desktop)]
#[tauri::command]
pub async fn update_catalog<R: Runtime>(
    app: AppHandle<R>,
    name: String,
) -> Result<catalogs::BuildOutcome, ApiError> {
    blocking(move || {
        let store = app.state::<Catalogs>();
        let job = store.start_job()?;
        let mut progress = |p: JobProgress| {
            let _ = app.emit(CATALOG_JOB_EVENT, p);
        };
        catalogs::update_impl(&app.state(), &store, &name, &job, &mut progress)
    })
    .await
}

#[cfg(mobile)]
#[tauri::command]
pub fn build_catalog() -> Result<(), ApiError> {
    Err(ApiError::new(
        ErrorCode::Unsupported,
        "catalogs are built in the desktop app; import the bundle here",
    ))
}

#[cfg(mobile)]
#[tauri::command]
pub fn update_catalog() -> Result<(), ApiError> {
    build_catalog()
}

/// Stops the running build between two products (`false`: nothing was running).
#[tauri::command]
pub fn cancel_job(catalogs: State<'_, Catalogs>) -> bool {
    catalogs.cancel()
}

/// The health report of the catalog in use (`lookalike check`), with progress events.
#[tauri::command]
pub async fn catalog_health<R: Runtime>(
    app: AppHandle<R>,
) -> Result<lookalike_engine::catalog::health::HealthReport, ApiError> {
    blocking(move || {
        let store = app.state::<Catalogs>();
        let _job = store.start_job()?;
        let engine = app.state::<AppState>().engine()?;
        let mut progress = |done, total| emit_progress(&app, JobKind::Health, done, total, "");
        Ok(lookalike_engine::catalog::health::check(
            &engine,
            None,
            &mut progress,
        )?)
    })
    .await
}

/// Opens the product's shop page in the system browser (http and https links only).
#[tauri::command]
pub async fn open_in_shop<R: Runtime>(app: AppHandle<R>, id: String) -> Result<(), ApiError> {
    let url = catalogs::shop_url(&app.state(), &id)?;
    let failed =
        |e: String| ApiError::new(ErrorCode::Io, format!("cannot open the shop page: {e}"));
    #[cfg(desktop)]
    {
        let _ = &app;
        open::that_detached(&url).map_err(|e| failed(e.to_string()))
    }
    #[cfg(mobile)]
    {
        use tauri_plugin_opener::OpenerExt;
        app.opener()
            .open_url(url, None::<&str>)
            .map_err(|e| failed(e.to_string()))
    }
}

fn emit_progress<R: Runtime>(
    app: &AppHandle<R>,
    job: JobKind,
    done: usize,
    total: usize,
    item: &str,
) {
    let p = JobProgress {
        job,
        done,
        total,
        item: item.to_string(),
    };
    let _ = app.emit(CATALOG_JOB_EVENT, p);
}

/// A photo opened with the app or shared into it, if one waits (see `shared.rs`).
#[tauri::command]
pub fn shared_image() -> Result<Option<SharedImageInfo>, ApiError> {
    shared::peek()
}

/// A product's thumbnail as a photo to search (the empty state's samples), as a raw binary
/// answer. The `thumb:` scheme serves the same file to `<img>`; a webview's `fetch` of a custom
/// scheme is not portable, hence a command.
#[tauri::command]
pub async fn product_photo<R: Runtime>(
    app: AppHandle<R>,
    id: String,
) -> Result<tauri::ipc::Response, ApiError> {
    blocking(move || app.state::<AppState>().thumbnail(&id))
        .await
        .map(tauri::ipc::Response::new)
}

/// The waiting photo's bytes, as a raw binary answer (an `ArrayBuffer` in the UI).
#[tauri::command]
pub fn take_shared_image() -> Result<tauri::ipc::Response, ApiError> {
    shared::take().map(tauri::ipc::Response::new)
}
