//! The `thumb:` URI scheme: product thumbnails by id (`thumb://localhost/<id>` on Linux and macOS,
//! `http://thumb.localhost/<id>` on Windows and Android; the UI builds both with `convertFileSrc`).
//! Search responses carry ids, not images, so ten results cost ten small file reads instead of
//! base64 inside every response. Only the catalog in use is served, by id: never a path.

use tauri::http::{Response, StatusCode, header};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::state::AppState;

pub const SCHEME: &str = "thumb";

/// The product id in a request path (`/<id>`, percent-encoded as `encodeURIComponent` writes it).
/// It is only ever looked up among the catalog's ids, never joined to a path.
fn id_of(path: &str) -> Option<String> {
    let raw = path.strip_prefix('/')?.as_bytes();
    let mut id = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = std::str::from_utf8(raw.get(i + 1..i + 3)?).ok()?;
            id.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            id.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(id).ok().filter(|id| !id.is_empty())
}

/// The response for one request path: the JPEG, or a status with the reason as text.
pub fn respond(state: &AppState, path: &str) -> Response<Vec<u8>> {
    let reply = |status: StatusCode, mime: &str, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, mime)
            .header(header::CACHE_CONTROL, "no-cache")
            .body(body)
            .unwrap_or_default()
    };
    let Some(id) = id_of(path) else {
        let why = format!("`{path}` is not /<product id>");
        return reply(StatusCode::BAD_REQUEST, "text/plain", why.into_bytes());
    };
    match state.thumbnail(&id) {
        Ok(jpeg) => reply(StatusCode::OK, "image/jpeg", jpeg),
        Err(e) => {
            let status = match e.code {
                lookalike_engine::ErrorCode::NotFound => StatusCode::NOT_FOUND,
                lookalike_engine::ErrorCode::EngineNotReady => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            reply(status, "text/plain", e.to_string().into_bytes())
        }
    }
}

/// The scheme's handler: reads off the main thread, answers when done.
pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: tauri::http::Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let path = request.uri().path().to_string();
    tauri::async_runtime::spawn_blocking(move || {
        responder.respond(respond(&app.state::<AppState>(), &path));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_decoded_from_the_path() {
        assert_eq!(id_of("/vendure-laptop").as_deref(), Some("vendure-laptop"));
        // decoded and looked up among the catalog's ids, never joined to a path
        assert_eq!(id_of("/a%20b%2Fc").as_deref(), Some("a b/c"));
        for bad in ["", "/", "vendure-laptop", "/%2", "/%zz", "/%ff"] {
            assert_eq!(id_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_loading_engine_answers_503() {
        let r = respond(&AppState::default(), "/vendure-laptop");
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            respond(&AppState::default(), "/%zz").status(),
            StatusCode::BAD_REQUEST
        );
    }
}
