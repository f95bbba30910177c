//! The desktop webcam on Linux. WebKitGTK ships `getUserMedia` switched off, and denies a camera
//! request that no one answers; the app turns it on and answers its own page's requests: the
//! camera yes (the page asks only when the person presses Take photo, and shows the live picture),
//! the microphone and the screen never. Windows (WebView2) and macOS (WKWebView) ask the person
//! themselves. `LOOKALIKE_E2E_CAMERA=mock` (the end-to-end tests) swaps the device for WebKit's own
//! mock camera, a generated test picture.

/// Turns the camera on in the window's web view (Linux; a no-op elsewhere).
pub fn enable<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let mock = std::env::var("LOOKALIKE_E2E_CAMERA").is_ok_and(|v| v == "mock");
        let done = window.with_webview(move |w| {
            use webkit2gtk::glib::prelude::Cast;
            use webkit2gtk::{
                PermissionRequestExt, SettingsExt, UserMediaPermissionRequest,
                UserMediaPermissionRequestExt, WebViewExt,
            };
            let view = w.inner();
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_enable_media_stream(true);
                settings.set_enable_mock_capture_devices(mock);
            }
            view.connect_permission_request(|_, request| {
                let Some(media) = request.downcast_ref::<UserMediaPermissionRequest>() else {
                    return false; // not ours to answer: WebKit's default (deny)
                };
                if media.is_for_video_device() && !media.is_for_audio_device() {
                    request.allow();
                } else {
                    request.deny();
                }
                true
            });
        });
        if let Err(e) = done {
            eprintln!("lookalike: the webcam stays off: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
