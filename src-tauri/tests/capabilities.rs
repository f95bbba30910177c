//! The app's IPC surface as the webview sees it: the REAL context (`tauri.conf.json`, the
//! capabilities compiled by `build.rs`, the embedded UI) and the real command handler, on tauri's
//! mock runtime. What the capability grants works; everything else is refused by the ACL before
//! any code runs; no command reads a path the UI sends; the CSP allows only the app itself.

use std::sync::OnceLock;

use lookalike_app_lib::state::{AppState, EnginePaths, EngineStatus};
use lookalike_tests::{build_catalog, models_dir};
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

/// Where the app's own pages come from on Linux (the `tauri://` custom protocol).
const LOCAL: &str = "tauri://localhost";

/// One small real catalog for the whole file (tests only read it).
fn catalog() -> &'static std::path::Path {
    static DIR: OnceLock<(tempfile::TempDir, std::path::PathBuf)> = OnceLock::new();
    let (_, catalog) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let catalog = build_catalog(
            dir.path(),
            &["vendure-laptop", "vendure-tent", "saleor-orange-juice"],
        );
        (dir, catalog)
    });
    catalog
}

/// The app as `run` builds it (its commands, state and real context) on the mock runtime, its
/// engine loaded on the small catalog.
fn app() -> App<MockRuntime> {
    let app = lookalike_app_lib::app(mock_builder())
        .build(lookalike_app_lib::context())
        .expect("the app builds with its real context");
    let status = app.state::<AppState>().load(&EnginePaths {
        models: models_dir(),
        catalog: catalog().to_path_buf(),
        dylib: None,
    });
    assert!(matches!(status, EngineStatus::Ready { .. }), "{status:?}");
    app
}

/// The window `tauri.conf.json` declares, built from its config entry as `run` would.
fn main_window(app: &App<MockRuntime>) -> WebviewWindow<MockRuntime> {
    if let Some(w) = app.get_webview_window("main") {
        return w;
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .expect("tauri.conf.json declares the `main` window")
        .clone();
    WebviewWindowBuilder::from_config(app, &config)
        .and_then(|b| b.build())
        .expect("the main window builds")
}

fn request(cmd: &str, url: &str, body: InvokeBody) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: url.parse().unwrap(),
        body,
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}

fn invoke(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    url: &str,
    body: InvokeBody,
) -> Result<Value, Value> {
    get_ipc_response(window, request(cmd, url, body))
        .map(|b| b.deserialize::<Value>().expect("a JSON response"))
}

fn args(v: Value) -> InvokeBody {
    InvokeBody::Json(v)
}

/// An ACL refusal: the command never ran (a command's own errors are `{code, message}` objects).
fn assert_refused(result: Result<Value, Value>, what: &str) {
    match result {
        Err(Value::String(msg)) => {
            println!("{what}: {msg}");
            assert!(
                msg.contains("not allowed"),
                "{what}: refused, but for another reason: {msg}"
            )
        }
        other => panic!("{what}: must be refused by the ACL, got {other:?}"),
    }
}

#[test]
fn granted_commands_work_from_the_main_window() {
    let app = &app();
    {
        let main = main_window(app);
        let status = invoke(&main, "engine_status", LOCAL, args(json!({}))).unwrap();
        assert_eq!(status["state"], "ready", "{status}");
        let p = invoke(
            &main,
            "product",
            LOCAL,
            args(json!({"id": "vendure-laptop"})),
        )
        .unwrap();
        assert_eq!(p["name"], "Laptop");
        // a sample's photo: the thumbnail's JPEG bytes as a raw answer
        let photo = request(
            "product_photo",
            LOCAL,
            args(json!({"id": "vendure-laptop"})),
        );
        match get_ipc_response(&main, photo) {
            Ok(tauri::ipc::InvokeResponseBody::Raw(bytes)) => {
                assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "a JPEG")
            }
            other => panic!("product_photo: expected raw bytes, got {other:?}"),
        }
        // the one core permission granted: listening to events (the UI waits for `engine-status`)
        let listen = json!({"event": "engine-status", "target": {"kind": "Any"}, "handler": 7});
        let id = invoke(&main, "plugin:event|listen", LOCAL, args(listen)).unwrap();
        assert!(id.is_u64(), "an event id: {id}");
    }
}

#[test]
fn commands_the_capability_does_not_grant_are_refused() {
    let app = &app();
    {
        let main = main_window(app);
        for cmd in [
            // plugins the app does not even have: no file system, shell or HTTP
            "plugin:fs|read_file",
            "plugin:fs|read_text_file",
            "plugin:shell|execute",
            "plugin:shell|open",
            "plugin:http|fetch",
            // plugins the app has but uses from Rust only: the UI cannot open dialogs, files or
            // links by itself
            "plugin:dialog|open",
            "plugin:dialog|save",
            "plugin:dialog|message",
            "plugin:opener|open_url",
            "plugin:opener|open_path",
            "plugin:opener|reveal_item_in_dir",
            // core plugins that exist in every Tauri app but are not granted
            "plugin:path|resolve_directory",
            "plugin:window|close",
            "plugin:webview|create_webview_window",
            "plugin:app|app_show",
            "plugin:event|emit",
            // commands the app does not have
            "read_file",
            "delete_catalog",
            "__proto__",
        ] {
            assert_refused(
                invoke(
                    &main,
                    cmd,
                    LOCAL,
                    args(json!({"path": "/etc/passwd", "options": {}})),
                ),
                cmd,
            );
        }
    }
}

#[test]
fn granted_commands_are_refused_to_other_windows_and_remote_origins() {
    let app = &app();
    {
        // a second window the capability does not name (`windows: ["main"]`)
        let other = match app.get_webview_window("other") {
            Some(w) => w,
            None => WebviewWindowBuilder::new(app, "other", WebviewUrl::App("index.html".into()))
                .build()
                .expect("a second window"),
        };
        for cmd in ["engine_status", "product", "search", "decode_barcode"] {
            assert_refused(
                invoke(&other, cmd, LOCAL, args(json!({"id": "vendure-laptop"}))),
                &format!("{cmd} from window `other`"),
            );
        }
        // the main window showing a remote page (a redirect, an injected frame): no capability
        // has `remote` URLs, so nothing is granted to it
        let main = main_window(app);
        for origin in [
            "https://example.com/",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "https://tauri.localhost.evil.example/",
        ] {
            for cmd in ["engine_status", "product", "plugin:event|listen"] {
                assert_refused(
                    invoke(&main, cmd, origin, args(json!({"id": "vendure-laptop"}))),
                    &format!("{cmd} from {origin}"),
                );
            }
        }
    }
}

#[test]
fn no_command_reads_a_path_it_is_given() {
    let app = &app();
    {
        let main = main_window(app);
        let code = |r: Result<Value, Value>| -> String {
            let e = r.expect_err("must be refused");
            e["code"].as_str().unwrap_or_default().to_string()
        };
        // product ids are looked up in the catalog, never joined to a path
        for id in [
            "../../etc/passwd",
            "/etc/passwd",
            "thumbs/../../../etc/hostname",
            "file:///etc/passwd",
        ] {
            let r = invoke(&main, "product", LOCAL, args(json!({ "id": id })));
            assert_eq!(code(r.clone()), "not_found", "{id}: {r:?}");
            assert!(!format!("{r:?}").contains("root:"), "{id}: {r:?}");
        }
        // a barcode is digits only
        let r = invoke(
            &main,
            "product_by_barcode",
            LOCAL,
            args(json!({"code": "../../etc/passwd"})),
        );
        assert_eq!(code(r), "invalid_barcode");
        // images are bytes in the request body: a path sent as the body is just 11 bytes of text,
        // and a JSON body (where a path could hide) is refused
        for cmd in ["search", "decode_barcode"] {
            let r = invoke(&main, cmd, LOCAL, InvokeBody::Raw(b"/etc/passwd".to_vec()));
            let e = r.expect_err("a path is not an image");
            assert_eq!(e["code"], "unsupported_format", "{cmd}: {e}");
            assert!(
                e["message"].as_str().unwrap().contains("text file"),
                "{cmd}: {e}"
            );
            let r = invoke(&main, cmd, LOCAL, args(json!({"path": "/etc/passwd"})));
            assert_eq!(code(r), "bad_request", "{cmd}");
        }
        // catalogs are switched to and updated by the name of a saved one, never by a path;
        // shop links come from the catalog by product id
        for (cmd, arg) in [
            ("switch_catalog", json!({"name": "../../etc"})),
            ("switch_catalog", json!({"name": "/tmp"})),
            ("update_catalog", json!({"name": "../../etc"})),
            ("open_in_shop", json!({"id": "/etc/passwd"})),
            ("product_photo", json!({"id": "/etc/passwd"})),
            ("product_photo", json!({"id": "../catalog.json"})),
        ] {
            let r = invoke(&main, cmd, LOCAL, args(arg.clone()));
            assert_eq!(code(r.clone()), "not_found", "{cmd} {arg}: {r:?}");
        }
    }
}

// ---- CSP ------------------------------------------------------------------------------------

fn csp_directives() -> Vec<(String, Vec<String>)> {
    let context = lookalike_app_lib::context::<MockRuntime>();
    let csp = context
        .config()
        .app
        .security
        .csp
        .as_ref()
        .expect("tauri.conf.json sets a CSP")
        .to_string();
    csp.split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut parts = d.split_whitespace().map(String::from);
            (parts.next().unwrap(), parts.collect())
        })
        .collect()
}

#[test]
fn csp_allows_only_the_app_itself() {
    let directives = csp_directives();
    let get = |name: &str| -> &[String] {
        directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_else(|| panic!("the CSP has no {name}: {directives:?}"))
    };
    assert_eq!(get("default-src"), ["'self'"]);
    assert_eq!(get("script-src"), ["'self'"], "scripts: the app's own only");
    assert_eq!(get("style-src"), ["'self'"]);
    assert_eq!(get("object-src"), ["'none'"]);
    assert_eq!(get("base-uri"), ["'none'"]);
    assert_eq!(get("form-action"), ["'none'"]);
    // images: the app's own, data: URLs (cut-out, mask), blob: (the picked photo's preview)
    // and the app's own `thumb:` scheme (thumbnails by product id; `http://thumb.localhost` is
    // how Windows and Android spell it)
    for src in get("img-src") {
        assert!(
            [
                "'self'",
                "data:",
                "blob:",
                "thumb:",
                "http://thumb.localhost"
            ]
            .contains(&src.as_str()),
            "img-src allows {src}"
        );
    }
    // fetch/XHR/WebSocket: only Tauri's IPC
    for src in get("connect-src") {
        assert!(
            ["ipc:", "http://ipc.localhost"].contains(&src.as_str()),
            "connect-src allows {src}"
        );
    }
    for (name, sources) in &directives {
        for src in sources {
            assert!(
                ![
                    "'unsafe-eval'",
                    "'unsafe-inline'",
                    "'wasm-unsafe-eval'",
                    "*"
                ]
                .contains(&src.as_str()),
                "{name} allows {src}"
            );
            // no remote origin anywhere: ipc.localhost is the IPC endpoint and thumb.localhost
            // the app's own thumbnail scheme, both served inside the app (Windows/Android form)
            if src.starts_with("http") || src.starts_with("ws") {
                assert!(
                    ["http://ipc.localhost", "http://thumb.localhost"].contains(&src.as_str()),
                    "{name} allows {src}"
                );
            }
            assert!(
                !["http:", "https:", "ws:", "wss:", "file:"].contains(&src.as_str()),
                "{name} allows the scheme {src}"
            );
        }
    }
}

#[test]
fn the_real_context_declares_one_main_window_and_no_remote_capability() {
    let context = lookalike_app_lib::context::<MockRuntime>();
    let config = context.config();
    let labels: Vec<_> = config
        .app
        .windows
        .iter()
        .map(|w| w.label.as_str())
        .collect();
    assert_eq!(labels, ["main"]);
    assert!(
        !config.app.with_global_tauri,
        "no global __TAURI__ object for injected scripts"
    );
    // the capability files: what they grant, to whom, and never a remote URL
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let cap: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(
            cap.get("remote").is_none(),
            "{}: remote URLs",
            path.display()
        );
        assert_eq!(cap["windows"], json!(["main"]), "{}", path.display());
        for p in cap["permissions"].as_array().unwrap() {
            let p = p.as_str().expect("plain permission names, no scopes");
            assert!(
                p.starts_with("allow-")
                    || ["core:event:allow-listen", "core:event:allow-unlisten"].contains(&p)
                    || p == "barcode-scanner:default",
                "{}: grants {p}",
                path.display()
            );
        }
    }
}
