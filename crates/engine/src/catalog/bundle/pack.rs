//! Packing: a checked catalog folder into one deterministic tar (fixed headers, `bundle.json`
//! first), written beside the target and renamed into place.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use super::listing::{check_listing, check_path};
use super::reader::Hashing;
use super::{
    BUNDLE_FORMAT, BUNDLE_JSON, BUNDLE_VERSION, BundleFile, BundleLimits, BundleManifest,
    PackReport, catalog_files,
};
use crate::catalog::reader::{Catalog, safe_relative};
use crate::error::{EngineError, Result};
use crate::models::runtime::sha256_file;

/// Packs the catalog at `catalog_dir` into `out_file`: opened (and so checked) first, written
/// beside `out_file` and renamed into place. Only the files the reader needs are packed.
pub fn pack(catalog_dir: &Path, out_file: &Path) -> Result<PackReport> {
    let err = |detail: String| EngineError::Bundle {
        path: out_file.to_path_buf(),
        detail,
    };
    let cat_err = |detail: String| EngineError::Catalog {
        path: catalog_dir.to_path_buf(),
        detail,
    };
    let catalog = Catalog::open_checked(catalog_dir)?;
    if out_file.is_dir() {
        return Err(err("is a folder: give the bundle a file name".into()));
    }
    let name = out_file
        .file_name()
        .ok_or_else(|| err("needs a file name".into()))?
        .to_string_lossy()
        .into_owned();
    let mut files = Vec::new();
    for path in catalog_files(&catalog)? {
        check_path(&path).map_err(|e| cat_err(format!("cannot be packed: {e}")))?;
        let full = safe_relative(catalog_dir, &path).map_err(cat_err)?;
        let meta = std::fs::symlink_metadata(&full)
            .map_err(|e| EngineError::io(format!("reading {}", full.display()), e))?;
        if !meta.file_type().is_file() {
            return Err(cat_err(format!("`{path}` is not a regular file")));
        }
        let sha256 = sha256_file(&full)
            .map_err(|e| EngineError::io(format!("reading {}", full.display()), e))?;
        files.push(BundleFile {
            path,
            size: meta.len(),
            sha256,
        });
    }
    let manifest = BundleManifest {
        format: BUNDLE_FORMAT.into(),
        version: BUNDLE_VERSION,
        name: catalog.file.name.clone(),
        profile: catalog.file.profile.clone(),
        models: catalog.file.models.clone(),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| EngineError::Internal(format!("serialising {BUNDLE_JSON}: {e}")))?;
    // never make a bundle that an unpack with the default limits refuses
    let limits = BundleLimits::default();
    check_listing(&manifest, &limits).map_err(err)?;
    if json.len() as u64 > limits.max_manifest_bytes {
        return Err(err(format!(
            "{BUNDLE_JSON} would be {} bytes, more than the {} an unpack accepts",
            json.len(),
            limits.max_manifest_bytes
        )));
    }

    let parent = match out_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| EngineError::io(format!("creating {}", parent.display()), e))?;
    let tmp = parent.join(format!(".{name}.packing"));
    let written = write_tar(catalog_dir, &tmp, &json, &manifest.files).and_then(|()| {
        std::fs::rename(&tmp, out_file).map_err(|e| {
            EngineError::io(
                format!("moving the bundle into place at {}", out_file.display()),
                e,
            )
        })
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let bundle_bytes = std::fs::metadata(out_file)
        .map_err(|e| EngineError::io(format!("reading {}", out_file.display()), e))?
        .len();
    Ok(PackReport {
        bundle: out_file.to_path_buf(),
        name: manifest.name,
        profile: manifest.profile,
        products: catalog.len(),
        files: manifest.files.len(),
        content_bytes: manifest.files.iter().map(|f| f.size).sum(),
        bundle_bytes,
    })
}

/// Fixed metadata (mode 0644, owner 0, time 0): the same catalog packs to the same bytes.
fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

fn write_tar(dir: &Path, tmp: &Path, json: &[u8], files: &[BundleFile]) -> Result<()> {
    let io = |what: String| move |e: std::io::Error| EngineError::io(what, e);
    // a leftover from a killed pack must not be followed if it is a link
    match std::fs::remove_file(tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io(format!("removing leftover {}", tmp.display()))(e));
        }
        _ => {}
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(io(format!("creating {}", tmp.display())))?;
    let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, file));
    let writing = || io(format!("writing {}", tmp.display()));
    tar.append_data(&mut header(json.len() as u64), BUNDLE_JSON, json)
        .map_err(writing())?;
    for f in files {
        let full = dir.join(&f.path);
        let source = File::open(&full).map_err(io(format!("reading {}", full.display())))?;
        let mut hashing = Hashing::new(source.take(f.size));
        tar.append_data(&mut header(f.size), &f.path, &mut hashing)
            .map_err(writing())?;
        if hashing.count != f.size || hashing.hex() != f.sha256 {
            return Err(EngineError::Catalog {
                path: dir.to_path_buf(),
                detail: format!("`{}` changed while it was being packed", f.path),
            });
        }
    }
    let out = tar.into_inner().map_err(writing())?;
    let file = out.into_inner().map_err(|e| writing()(e.into_error()))?;
    file.sync_all().map_err(writing())?;
    Ok(())
}
