//! The checks on `bundle.json` on its own (paths, duplicates, case clashes, checksums, limits),
//! shared by pack (never write a bundle an unpack refuses) and unpack (before anything is written).

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};

use super::{BUNDLE_JSON, BundleLimits, BundleManifest};

/// A path inside the catalog folder: `/`-separated plain names only (no `..`, `.`, empty parts,
/// leading `/`, `\`, NUL or drive prefix).
pub(super) fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("an empty path".into());
    }
    if path.contains('\0') {
        return Err(format!("path {path:?} contains a NUL byte"));
    }
    if path.contains('\\') {
        return Err(format!(
            "path `{path}` contains `\\` (only `/` separates folders)"
        ));
    }
    if path.starts_with('/') {
        return Err(format!(
            "path `{path}` is absolute: every path must stay inside the catalog folder"
        ));
    }
    for part in path.split('/') {
        match part {
            ".." => {
                return Err(format!("path `{path}` leaves the catalog folder (`..`)"));
            }
            "" | "." => {
                return Err(format!(
                    "path `{path}` has an empty or `.` part (plain names only)"
                ));
            }
            _ => {}
        }
    }
    if !Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "path `{path}` is not a plain relative path on this system"
        ));
    }
    Ok(())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The listing on its own: paths, duplicates, checksums, limits.
pub(super) fn check_listing(m: &BundleManifest, limits: &BundleLimits) -> Result<(), String> {
    if m.files.len() >= limits.max_entries {
        return Err(format!(
            "{BUNDLE_JSON} lists {} files: {} entries are more than the limit of {} entries",
            m.files.len(),
            m.files.len() + 1,
            limits.max_entries
        ));
    }
    let mut exact = HashSet::new();
    let mut folded = HashMap::new();
    let mut parents = HashSet::new();
    let mut total: u64 = 0;
    for f in &m.files {
        check_path(&f.path).map_err(|e| format!("{BUNDLE_JSON} lists {e}"))?;
        if f.path == BUNDLE_JSON {
            return Err(format!("{BUNDLE_JSON} lists itself"));
        }
        if !exact.insert(f.path.as_str()) {
            return Err(format!("{BUNDLE_JSON} lists `{}` twice", f.path));
        }
        if let Some(other) = folded.insert(f.path.to_lowercase(), f.path.as_str()) {
            return Err(format!(
                "{BUNDLE_JSON} lists `{other}` and `{}`, which clash on case-insensitive file systems",
                f.path
            ));
        }
        let mut end = 0;
        while let Some(i) = f.path[end..].find('/') {
            end += i;
            parents.insert(&f.path[..end]);
            end += 1;
        }
        if !is_sha256(&f.sha256) {
            return Err(format!(
                "{BUNDLE_JSON} lists `{}` with sha256 `{}`, not 64 lower-case hex digits",
                f.path, f.sha256
            ));
        }
        total = total.saturating_add(f.size);
    }
    if let Some(f) = m.files.iter().find(|f| parents.contains(f.path.as_str())) {
        return Err(format!(
            "{BUNDLE_JSON} lists `{}` both as a file and as a folder",
            f.path
        ));
    }
    if total > limits.max_total_bytes {
        return Err(format!(
            "{BUNDLE_JSON} lists {total} bytes of files, more than the limit of {} bytes",
            limits.max_total_bytes
        ));
    }
    Ok(())
}

/// The folders the listed files imply (`thumbs` for `thumbs/a.jpg`).
pub(super) fn implied_dirs(m: &BundleManifest) -> HashSet<String> {
    let mut dirs = HashSet::new();
    for f in &m.files {
        let mut p = Path::new(&f.path).parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_string_lossy().into_owned());
            p = d.parent();
        }
    }
    dirs
}
