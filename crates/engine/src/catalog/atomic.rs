//! Replacing a catalog folder as one step: a new catalog is written into a temp folder beside the
//! old one and swapped in, so an interrupted build or import (kill -9 included) leaves the old
//! catalog whole. Used by `lookalike index` and by bundle imports.

use std::path::{Path, PathBuf};

use super::schema::CATALOG_JSON;
use crate::error::{EngineError, Result};

/// Runs `write` into a fresh temp folder beside `out`, then swaps it into place. An interrupted
/// build leaves only the temp folder (removed by the next build), never a half catalog at `out`.
/// Refuses to replace a non-empty folder that is not a catalog.
pub fn write_atomically(out: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let err = |detail: String| EngineError::Catalog {
        path: out.to_path_buf(),
        detail,
    };
    let name = out
        .file_name()
        .ok_or_else(|| err("output folder needs a name".into()))?
        .to_string_lossy()
        .into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if out.exists() {
        let is_catalog = out.join(CATALOG_JSON).is_file();
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
    let tmp = parent.join(format!(".{name}.building"));
    let old = parent.join(format!(".{name}.old"));
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
    if out.exists() {
        std::fs::rename(out, &old).map_err(|e| {
            EngineError::io(format!("moving the old catalog {} aside", out.display()), e)
        })?;
    }
    std::fs::rename(&tmp, out).map_err(|e| {
        EngineError::io(format!("moving the new catalog into {}", out.display()), e)
    })?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| {
            EngineError::io(format!("removing the old catalog {}", old.display()), e)
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_a_catalog_and_cleans_up_on_failure() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("cat");
        write_atomically(&out, |d| {
            std::fs::write(d.join(CATALOG_JSON), "v1").map_err(|e| EngineError::io("test write", e))
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join(CATALOG_JSON)).unwrap(),
            "v1"
        );
        // a failing build leaves the old catalog untouched and no temp folder
        let failed = write_atomically(&out, |d| {
            std::fs::write(d.join(CATALOG_JSON), "half").unwrap();
            Err(EngineError::Internal("interrupted".into()))
        });
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_to_string(out.join(CATALOG_JSON)).unwrap(),
            "v1"
        );
        assert!(!root.path().join(".cat.building").exists());
        // a leftover temp folder from a killed build does not block the next one
        std::fs::create_dir(root.path().join(".cat.building")).unwrap();
        write_atomically(&out, |d| {
            std::fs::write(d.join(CATALOG_JSON), "v2").map_err(|e| EngineError::io("test write", e))
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join(CATALOG_JSON)).unwrap(),
            "v2"
        );
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
