//! Does a catalog fit the models that would search it? Opening an engine refuses a catalog whose
//! vectors came from other model files, other outputs, other dimensions or another router, and
//! says what differs (re-indexing is the fix).

use super::reader::Catalog;
use super::schema::ModelStamp;
use crate::error::{EngineError, Result};
use crate::models::ModelRegistry;
use crate::models::manifest::{OutputRef, ProfileSpec, RouterKind};

pub fn check(
    catalog: &Catalog,
    models: &ModelRegistry,
    profile_name: &str,
    profile: &ProfileSpec,
) -> Result<()> {
    let file = &catalog.file;
    let mismatch = |detail: String| EngineError::CatalogMismatch {
        path: catalog.dir.clone(),
        detail,
    };
    let stamp_ok = |part: &str, stamp: &ModelStamp, want: &OutputRef| -> Result<()> {
        let model = models.get(&want.model)?;
        if stamp.model != want.model || stamp.output != want.output {
            return Err(mismatch(format!(
                "its {part} is `{}`.`{}`, the profile uses `{}`.`{}`",
                stamp.model, stamp.output, want.model, want.output
            )));
        }
        if stamp.sha256 != model.sha256 {
            return Err(mismatch(format!(
                "its {part} vectors come from `{}` sha256 {}, the loaded file is sha256 {} (re-index the catalog)",
                stamp.model, stamp.sha256, model.sha256
            )));
        }
        Ok(())
    };
    stamp_ok("router", &file.models.router, &profile.router.output_ref())?;
    stamp_ok("texture", &file.models.texture, &profile.texture)?;
    for c in &file.categories {
        let want = profile.experts.get(&c.def.expert).ok_or_else(|| {
            mismatch(format!(
                "category `{}` uses expert `{}`, which profile `{}` lacks",
                c.def.name, c.def.expert, profile_name
            ))
        })?;
        let stamp = file.models.experts.get(&c.def.expert).ok_or_else(|| {
            mismatch(format!(
                "category `{}` uses expert `{}`, which the catalog does not record",
                c.def.name, c.def.expert
            ))
        })?;
        stamp_ok(&format!("expert `{}`", c.def.expert), stamp, want)?;
    }
    let manifest = models.manifest();
    let dims = |r: &OutputRef| manifest.output_spec(r).map_or(0, |o| o.len());
    if let Some(r) = profile
        .experts
        .values()
        .find(|r| dims(r) != file.dims.embedding)
    {
        return Err(mismatch(format!(
            "embeddings have {} dims, `{}`.`{}` gives {}",
            file.dims.embedding,
            r.model,
            r.output,
            dims(r)
        )));
    }
    if dims(&profile.texture) != file.dims.texture {
        return Err(mismatch(format!(
            "texture vectors have {} dims, the profile's texture gives {}",
            file.dims.texture,
            dims(&profile.texture)
        )));
    }
    let router_kind = profile.router.kind;
    if file.router.kind != router_kind {
        return Err(mismatch(format!(
            "router kind {:?}, the profile uses {router_kind:?}",
            file.router.kind
        )));
    }
    let classes = dims(&profile.router.output_ref());
    for c in &file.categories {
        match router_kind {
            RouterKind::ClassTable => {
                // curated ids are optional (a CSV's categories are just names); the classes the
                // category's own images voted for must then be there
                let ids = c.def.imagenet_classes.iter().copied();
                let learned = c.learned_classes.iter().map(|(k, _)| *k);
                let known = c.def.imagenet_classes.len() + c.learned_classes.len();
                if known == 0 || ids.chain(learned).any(|k| k as usize >= classes) {
                    return Err(mismatch(format!(
                        "category `{}` needs class ids (curated or learned) in 0..{classes}",
                        c.def.name
                    )));
                }
            }
            RouterKind::TextPrototypes => {
                if c.prototype.is_none() {
                    return Err(mismatch(format!(
                        "category `{}` has no text prototype",
                        c.def.name
                    )));
                }
            }
        }
    }
    Ok(())
}
