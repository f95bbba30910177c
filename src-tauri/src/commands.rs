//! The Tauri commands: argument checks, then one call into the engine off the main thread.
//! The logic lives in plain functions (`*_impl`) so it is tested without a webview.

use lookalike_engine::{ErrorCode, SearchOptions};
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::barcode::{self, Barcode};
use crate::error::ApiError;
use crate::response::{self, ProductDto, SearchOptionsDto, SearchResponse};
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
    Ok(SearchOptions {
        category: dto.category,
        weights: dto.weights,
        top_k,
        candidates: 50,
        include_candidates: true,
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
    Ok(crate::state::product(&engine, id)?.clone())
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
    Ok(state.engine()?.catalog().product_by_gtin(code).cloned())
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
