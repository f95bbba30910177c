//! The committed TypeScript contract (`ui/src/generated/contract.ts`) must be what the Rust types
//! generate today. `LOOKALIKE_WRITE_CONTRACT=1` (what `cargo xtask contract` sets) rewrites it.

use std::path::Path;

use lookalike_app_lib::contract::{CONTRACT_TS, typescript};

#[test]
fn generated_typescript_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(CONTRACT_TS);
    let want = typescript();
    if std::env::var_os("LOOKALIKE_WRITE_CONTRACT").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{CONTRACT_TS} is stale: the Rust types the UI sees changed. Regenerate it with \
         `cargo xtask contract` (or LOOKALIKE_WRITE_CONTRACT=1 cargo test -p lookalike-app --test contract)"
    );
}

#[test]
fn the_contract_declares_what_the_ui_imports() {
    let ts = typescript();
    for name in [
        "type ErrorCode",
        "type SearchResponse",
        "type Hit",
        "type Stage",
        "type EngineStatus",
        "type Product",
        "type SearchOptionsDto",
    ] {
        assert!(
            ts.contains(&format!("export {name} ")),
            "{name} missing:\n{ts}"
        );
    }
    // one casing on the wire, and no thumbnail inside a hit
    assert!(ts.contains("top_k?: number"), "{ts}");
    let hit = ts.split("export type Hit ").nth(1).unwrap_or_default();
    let hit = hit.split("export ").next().unwrap_or_default();
    assert!(!hit.contains("thumbnail"), "{hit}");
}
