//! Replacing a catalog folder as one step: a new catalog is written into a temp folder beside the
//! old one and swapped in, so an interrupted build or import (kill -9 included) leaves the old
//! catalog whole. Used by `lookalike index` and by bundle imports.

use std::path::{Path, PathBuf};

use super::schema::{CATALOG_FORMAT, CATALOG_JSON};
use crate::error::{EngineError, Result};

/// Runs `write` into a fresh temp folder beside `out`, then swaps it into place. An interrupted
/// build leaves only the temp folder (removed by the next build), never a half catalog at `out`.
/// Refuses to replace a non-empty folder that is not a catalog.
pub fn write_atomically(out: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let err = |detail: String| EngineError::Catalog {
        path: out.to_path_buf(),
        detail,
    };
    let (parent, tmp, old) = side_paths(out)?;
    recover(out, &old)?;
    if out.exists() {
        let is_catalog = is_catalog(out);
        let is_empty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !is_catalog && !is_empty {
            return Err(err(
                "exists and is not a catalog: refusing to replace it".into()
            ));
        }
    }
    std::fs::create_dir_all(&parent)
        .map_err(|e| EngineError::io(format!("creating {}", parent.display()), e))?;
    for leftover in [&tmp, &old] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(|e| {
                EngineError::io(format!("removing leftover {}", leftover.display()), e)
            })?;
        }
    }
    std::fs::create_dir(&tmp)
        .map_err(|e| EngineError::io(format!("creating {}", tmp.display()), e))?;
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    swap_in(&tmp, out, &old)
}

/// A folder whose `catalog.json` says it is a Lookalike catalog (any file of that name is not
/// enough: the folder is about to be replaced whole).
fn is_catalog(dir: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Format {
        format: String,
    }
    let path = dir.join(CATALOG_JSON);
    let regular = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
    regular
        && std::fs::File::open(&path)
            .ok()
            .and_then(|f| serde_json::from_reader::<_, Format>(std::io::BufReader::new(f)).ok())
            .is_some_and(|f| f.format == CATALOG_FORMAT)
}

/// The folder `out` lives in, and the temp (`.NAME.building`) and aside (`.NAME.old`) folders
/// beside it.
fn side_paths(out: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let name = out
        .file_name()
        .ok_or_else(|| EngineError::Catalog {
            path: out.to_path_buf(),
            detail: "output folder needs a name".into(),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = parent.join(format!(".{name}.building"));
    let old = parent.join(format!(".{name}.old"));
    Ok((parent, tmp, old))
}

/// Puts back a catalog that an interrupted swap left aside (see [`recover`]); a no-op otherwise.
/// Builders call it before reading the previous catalog.
pub fn restore_interrupted(out: &Path) -> Result<()> {
    let (_, _, old) = side_paths(out)?;
    recover(out, &old)
}

/// Puts `tmp` at `out`. Where the kernel can, the two folders trade places in one step, so no
/// moment exists without a catalog at `out`; elsewhere the old one is first moved to `old`
/// (put back by [`recover`] if the process dies in between).
fn swap_in(tmp: &Path, out: &Path, old: &Path) -> Result<()> {
    let moving = |what: &str, e| EngineError::io(format!("{what} {}", out.display()), e);
    if out.exists() {
        if exchange(tmp, out).map_err(|e| moving("swapping the new catalog into", e))? {
            // `tmp` now holds the old catalog
            return std::fs::remove_dir_all(tmp).map_err(|e| {
                EngineError::io(format!("removing the old catalog {}", tmp.display()), e)
            });
        }
        std::fs::rename(out, old).map_err(|e| moving("moving aside the old catalog", e))?;
    }
    std::fs::rename(tmp, out).map_err(|e| moving("moving the new catalog into", e))?;
    if old.exists() {
        std::fs::remove_dir_all(old).map_err(|e| {
            EngineError::io(format!("removing the old catalog {}", old.display()), e)
        })?;
    }
    Ok(())
}

/// A process killed between the two renames of the fallback swap left the old catalog at `old`
/// and nothing at `out`: put it back before anything else.
fn recover(out: &Path, old: &Path) -> Result<()> {
    if !out.exists() && old.join(CATALOG_JSON).is_file() {
        std::fs::rename(old, out).map_err(|e| {
            EngineError::io(
                format!("restoring the previous catalog {}", old.display()),
                e,
            )
        })?;
    }
    Ok(())
}

/// `renameat2(RENAME_EXCHANGE)`: `Ok(false)` where the kernel or file system does not offer it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (a, b) = (
        CString::new(a.as_os_str().as_bytes())?,
        CString::new(b.as_os_str().as_bytes())?,
    );
    // SAFETY: both pointers are NUL-terminated strings that outlive the call, which reads only them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSYS | libc::EINVAL | libc::EPERM) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Enough of a catalog.json for the swap to treat the folder as a catalog.
    const V1: &str = r#"{"format": "lookalike-catalog", "version": 1, "name": "v1"}"#;
    const V2: &str = r#"{"format": "lookalike-catalog", "version": 1, "name": "v2"}"#;

    #[test]
    fn a_folder_with_someone_elses_catalog_json_is_not_replaced() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("project");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join(CATALOG_JSON), r#"{"books": []}"#).unwrap();
        let err = write_atomically(&out, |_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("not a catalog"), "{err}");
        assert!(out.join(CATALOG_JSON).is_file());
    }

    #[test]
    fn atomic_write_replaces_a_catalog_and_cleans_up_on_failure() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("cat");
        write_atomically(&out, |d| {
            std::fs::write(d.join(CATALOG_JSON), V1).map_err(|e| EngineError::io("test write", e))
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(out.join(CATALOG_JSON)).unwrap(), V1);
        // a failing build leaves the old catalog untouched and no temp folder
        let failed = write_atomically(&out, |d| {
            std::fs::write(d.join(CATALOG_JSON), "half").unwrap();
            Err(EngineError::Internal("interrupted".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(out.join(CATALOG_JSON)).unwrap(), V1);
        assert!(!root.path().join(".cat.building").exists());
        // a leftover temp folder from a killed build does not block the next one
        std::fs::create_dir(root.path().join(".cat.building")).unwrap();
        write_atomically(&out, |d| {
            std::fs::write(d.join(CATALOG_JSON), V2).map_err(|e| EngineError::io("test write", e))
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(out.join(CATALOG_JSON)).unwrap(), V2);
    }

    #[test]
    fn a_catalog_left_aside_by_a_killed_swap_is_put_back() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("cat");
        // the state between the fallback's two renames: nothing at `out`, the old one aside
        let aside = root.path().join(".cat.old");
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join(CATALOG_JSON), V1).unwrap();
        restore_interrupted(&out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join(CATALOG_JSON)).unwrap(), V1);
        assert!(!aside.exists());
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn exchange_trades_two_folders() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        for (d, text) in [(&a, "A"), (&b, "B")] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("f"), text).unwrap();
        }
        // ext4, btrfs, xfs and tmpfs all support it (f2fs on phones too)
        assert!(
            exchange(&a, &b).unwrap(),
            "RENAME_EXCHANGE unsupported here"
        );
        assert_eq!(std::fs::read_to_string(a.join("f")).unwrap(), "B");
        assert_eq!(std::fs::read_to_string(b.join("f")).unwrap(), "A");
        assert!(exchange(&a, &root.path().join("missing")).is_err());
    }

    #[test]
    fn refuses_to_replace_a_folder_that_is_not_a_catalog() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("photos");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("holiday.jpg"), "precious").unwrap();
        let err = write_atomically(&out, |_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("not a catalog"), "{err}");
        assert_eq!(
            std::fs::read_to_string(out.join("holiday.jpg")).unwrap(),
            "precious"
        );
    }
}
