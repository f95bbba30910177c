//! Unpacking: open and size-check the bundle file, read `bundle.json`, extract into a temp
//! folder, open and check the catalog there, and only then swap it in at `out`.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use super::reader::{EntryReader, Shared, check_tail};
use super::{BUNDLE_JSON, BundleLimits, BundleManifest, ModelCheck, UnpackReport, catalog_files};
use crate::catalog::atomic::write_atomically;
use crate::catalog::compat;
use crate::catalog::reader::Catalog;
use crate::catalog::schema::{CATALOG_JSON, ModelStamp};
use crate::error::{EngineError, Result};
use crate::models::manifest::OutputRef;

/// Reads only `bundle.json` (checked as an unpack checks it): what an import would bring in.
pub fn read_manifest(bundle: &Path, limits: &BundleLimits) -> Result<BundleManifest> {
    let (file, len) = open_bundle(bundle, limits)?;
    let mut archive = tar::Archive::new(BufReader::new(file).take(len));
    let inner = archive
        .entries()
        .map_err(|e| EngineError::io(format!("reading {}", bundle.display()), e))?
        .raw(true);
    let mut entries = EntryReader::new(inner, bundle, limits);
    entries.manifest(len)
}

fn open_bundle(bundle: &Path, limits: &BundleLimits) -> Result<(File, u64)> {
    let err = |detail: String| EngineError::Bundle {
        path: bundle.to_path_buf(),
        detail,
    };
    // checked before opening: opening a pipe would block
    let meta = std::fs::metadata(bundle)
        .map_err(|e| EngineError::io(format!("reading catalog bundle {}", bundle.display()), e))?;
    if !meta.is_file() {
        return Err(err("is not a regular file".into()));
    }
    if meta.len() > limits.max_bundle_bytes {
        return Err(err(format!(
            "is {} bytes, more than the limit of {}",
            meta.len(),
            limits.max_bundle_bytes
        )));
    }
    let file = File::open(bundle)
        .map_err(|e| EngineError::io(format!("opening {}", bundle.display()), e))?;
    Ok((file, meta.len()))
}

/// Unpacks `bundle` into the catalog folder `out`, replacing the catalog there only once the new
/// one is whole, opens as a catalog and (with `models`) fits the loaded models. Refuses to replace
/// a non-empty folder that is not a catalog.
pub fn unpack(
    bundle: &Path,
    out: &Path,
    limits: &BundleLimits,
    models: Option<ModelCheck<'_>>,
) -> Result<UnpackReport> {
    let (file, len) = open_bundle(bundle, limits)?;
    unpack_from(
        BufReader::with_capacity(1 << 20, file),
        len,
        bundle,
        out,
        limits,
        models,
    )
}

/// `unpack` from any reader of `len` bytes (`bundle` names it in messages).
pub(super) fn unpack_from<R: Read>(
    source: R,
    len: u64,
    bundle: &Path,
    out: &Path,
    limits: &BundleLimits,
    models: Option<ModelCheck<'_>>,
) -> Result<UnpackReport> {
    let source = Rc::new(RefCell::new(source.take(len)));
    let mut archive = tar::Archive::new(Shared(source.clone()));
    let inner = archive
        .entries()
        .map_err(|e| EngineError::io(format!("reading {}", bundle.display()), e))?
        .raw(true);
    let mut entries = EntryReader::new(inner, bundle, limits);
    let manifest = entries.manifest(len)?;
    if let Some(check) = models {
        models_fit(bundle, &manifest, check)?;
    }
    let err = |detail: String| EngineError::Bundle {
        path: bundle.to_path_buf(),
        detail,
    };
    let mut report = None;
    write_atomically(out, |tmp| {
        let content_bytes = entries.extract(&manifest, tmp)?;
        check_tail(&source, bundle)?;
        // the catalog inside is opened where it lies; its errors name the bundle, not the temp folder
        let catalog = Catalog::open_checked(tmp).map_err(|e| match e {
            EngineError::Catalog { detail, .. } => {
                err(format!("the catalog inside is not valid: {detail}"))
            }
            other => other,
        })?;
        let file = &catalog.file;
        if file.models != manifest.models {
            return Err(err(format!(
                "{CATALOG_JSON}'s models differ from {BUNDLE_JSON}'s (the bundle was edited or damaged)"
            )));
        }
        if file.name != manifest.name || file.profile != manifest.profile {
            return Err(err(format!(
                "{CATALOG_JSON} is `{}` (profile `{}`), {BUNDLE_JSON} says `{}` (profile `{}`)",
                file.name, file.profile, manifest.name, manifest.profile
            )));
        }
        let needed: HashSet<String> = catalog_files(&catalog)?.into_iter().collect();
        if let Some(extra) = manifest.files.iter().find(|f| !needed.contains(&f.path)) {
            return Err(err(format!(
                "holds `{}`, which the catalog does not use",
                extra.path
            )));
        }
        if let Some(check) = models {
            let name = check.profile.unwrap_or(&file.profile);
            let profile = check.models.manifest().profile(name)?.clone();
            compat::check(&catalog, check.models, name, &profile).map_err(|e| match e {
                EngineError::CatalogMismatch { detail, .. } => EngineError::CatalogMismatch {
                    path: bundle.to_path_buf(),
                    detail,
                },
                other => other,
            })?;
        }
        report = Some(UnpackReport {
            catalog: out.to_path_buf(),
            name: file.name.clone(),
            profile: file.profile.clone(),
            products: catalog.len(),
            files: manifest.files.len(),
            content_bytes,
            bundle_bytes: len,
            models_checked: models.is_some(),
        });
        Ok(())
    })?;
    report.ok_or_else(|| EngineError::Internal("unpack finished without a report".into()))
}

/// Before anything is written: the profile, and the model files the bundle's vectors came from
/// against the loaded ones (the full check, `compat::check`, runs on the unpacked catalog).
fn models_fit(bundle: &Path, m: &BundleManifest, check: ModelCheck<'_>) -> Result<()> {
    let mismatch = |detail: String| EngineError::CatalogMismatch {
        path: bundle.to_path_buf(),
        detail,
    };
    let name = check.profile.unwrap_or(&m.profile);
    if name != m.profile {
        return Err(mismatch(format!(
            "it was built with profile `{}`, the loaded models search with `{name}`",
            m.profile
        )));
    }
    let profile = check.models.manifest().profile(name)?;
    let mut stamps: Vec<(String, &ModelStamp, OutputRef)> = vec![
        (
            "router".into(),
            &m.models.router,
            profile.router.output_ref(),
        ),
        ("texture".into(), &m.models.texture, profile.texture.clone()),
    ];
    for (expert, stamp) in &m.models.experts {
        if let Some(want) = profile.experts.get(expert) {
            stamps.push((format!("expert `{expert}`"), stamp, want.clone()));
        }
    }
    for (part, stamp, want) in stamps {
        // a different model or output is compat::check's to explain
        if stamp.model != want.model || stamp.output != want.output {
            continue;
        }
        let loaded = check.models.get(&want.model)?;
        if !stamp.sha256.eq_ignore_ascii_case(&loaded.sha256) {
            return Err(mismatch(format!(
                "its {part} vectors come from `{}` sha256 {}, the loaded file is sha256 {} (pack the catalog again with these models)",
                stamp.model, stamp.sha256, loaded.sha256
            )));
        }
    }
    Ok(())
}
