//! `models/manifest.toml`: which models exist, how each is fed (preprocessing as data), and which
//! model plays which part in each profile. Parsed once and validated before any model loads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::stages::rerank::Scoring;
use crate::stages::verdict::MatchRule;

pub const MANIFEST_FILE: &str = "manifest.toml";
/// Written by the export tools for models whose checksum is not known yet.
pub const PENDING_CHECKSUM: &str = "PENDING";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    /// Files an export writes beside its models (`full/seed.manifest.toml`): each holds
    /// `[models.ID]` tables that replace this manifest's entries of the same id, so that one
    /// export command gives a working profile. A missing overlay is skipped.
    #[serde(default)]
    pub overlays: Vec<String>,
    pub models: BTreeMap<String, ModelSpec>,
    pub profiles: BTreeMap<String, ProfileSpec>,
    /// Folder the manifest was read from; model files are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
    /// The overlays that were present and merged, with the ids each replaced.
    #[serde(skip)]
    pub merged: Vec<(PathBuf, Vec<String>)>,
}

/// An overlay file: model entries only, `file` paths relative to the overlay's own folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overlay {
    models: BTreeMap<String, ModelSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Weights {
    Pretrained,
    /// Architecture-faithful graph with random weights: proves the code path, searches nothing real.
    RandomInit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub file: String,
    pub sha256: String,
    /// Upstream's published md5, kept for reference (the engine verifies sha256).
    #[serde(default)]
    pub md5: Option<String>,
    pub source: String,
    pub license: String,
    pub weights: Weights,
    /// Image models: how a picture becomes the input tensor.
    #[serde(default)]
    pub input: Option<InputSpec>,
    /// Text towers (index time only: category prompts -> prototypes).
    #[serde(default)]
    pub text: Option<TextSpec>,
    /// Promptable mask decoders (SAM 2): fed an encoder's features and point prompts.
    #[serde(default)]
    pub prompt: Option<PromptSpec>,
    pub outputs: Vec<OutputSpec>,
}

/// A promptable mask decoder's inputs (SAM 2's decoder). Besides these it takes every
/// `features` output of `encoder`, under the same names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptSpec {
    /// The image encoder whose features this decoder reads.
    pub encoder: String,
    /// `[1, N, 2]` float point coordinates, x then y, in pixels of the encoder's input.
    pub points: String,
    /// `[1, N]` float labels: 1 foreground, 0 background, 2 and 3 a box's corners.
    pub labels: String,
    /// `[1, 1, H, W]` float mask logits from an earlier pass (`H, W` = the mask output's).
    pub mask_input: String,
    /// `[1]` float: 1 when `mask_input` holds a mask, 0 otherwise.
    pub has_mask_input: String,
}

/// A text tower's input: token ids from a tokenizer file that ships beside the model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSpec {
    /// Graph input holding `[1, max_len]` int64 token ids.
    pub input: String,
    pub max_len: usize,
    /// Hugging Face `tokenizer.json`, relative to the manifest.
    pub tokenizer: String,
    pub tokenizer_sha256: String,
    pub tokenizer_kind: TokenizerKind,
    /// Where pad ids go when a text is shorter than `max_len` (SigLIP pools the last position,
    /// so its exports pad on the right).
    #[serde(default)]
    pub padding_side: PaddingSide,
    pub pad_id: i64,
    /// Written over the last id when a text is cut to `max_len`, so the sequence still ends in it.
    #[serde(default)]
    pub eos_id: Option<i64>,
    /// The image tower whose embedding space this text tower shares.
    pub image_model: String,
}

/// What made the tokenizer file: both are Hugging Face `tokenizer.json` files, read the same way.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TokenizerKind {
    /// Exported from the model's own processor (export_seed_models.py).
    HuggingfaceTokenizers,
    /// The byte-level stand-in of the generated test graphs (models/generated/).
    ByteLevelStub,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaddingSide {
    #[default]
    Right,
    Left,
}

impl ModelSpec {
    /// The image input, or a clear error for text towers.
    pub fn image_input(&self, id: &str) -> Result<&InputSpec> {
        self.input
            .as_ref()
            .ok_or_else(|| EngineError::ModelMismatch {
                model: id.into(),
                detail: "is a text tower: it has no image input".into(),
            })
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ResizeMode {
    /// Resize to exactly width x height, ignoring aspect ratio (rembg, SigLIP).
    Stretch,
    /// Resize the shorter side to `resize_shorter`, then crop the centre (DINOv2, timm eval).
    ShorterSideThenCenterCrop,
    /// Fit inside width x height keeping aspect ratio, pad with `background`.
    Letterbox,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    Nearest,
    Bilinear,
    Bicubic,
    Lanczos3,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// x / 255
    Unit,
    /// x / max(x) over the whole resized image (rembg's U2Net preprocessing)
    ImageMax,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub resize: ResizeMode,
    #[serde(default)]
    pub resize_shorter: Option<u32>,
    pub interpolation: Interpolation,
    pub scale: Scale,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Colour that transparent pixels (the removed background) are composited onto.
    pub background: [u8; 3],
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Saliency,
    Logits,
    Embedding,
    Texture,
    /// An image encoder's feature map, fed to a mask decoder.
    Features,
    /// `[1, K, H, W]` mask logits (> 0: foreground), one per candidate mask.
    MaskLogits,
    /// `[1, K]` the decoder's own quality estimate per candidate mask.
    MaskScores,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Normalize {
    MinMax,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    pub kind: OutputKind,
    /// Shape for a batch of one.
    pub dims: Vec<usize>,
    #[serde(default)]
    pub normalize: Option<Normalize>,
}

impl OutputSpec {
    /// Number of values per image.
    pub fn len(&self) -> usize {
        self.dims.iter().skip(1).product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RouterKind {
    /// ImageNet-style logits mapped to catalog categories by each category's class-id table.
    ClassTable,
    /// Image embedding compared with per-category text prototypes stored in the catalog.
    TextPrototypes,
}

/// "Output `output` of model `model`".
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct OutputRef {
    pub model: String,
    pub output: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    pub kind: RouterKind,
    pub model: String,
    pub output: String,
    /// Text tower that turns category prompts into prototypes (text-prototype router).
    #[serde(default)]
    pub text_model: Option<String>,
}

impl RouterSpec {
    pub fn output_ref(&self) -> OutputRef {
        OutputRef {
            model: self.model.clone(),
            output: self.output.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    pub description: String,
    pub segmenter: String,
    pub index_segmenters: Vec<String>,
    pub router: RouterSpec,
    pub texture: OutputRef,
    /// Expert name (as used by catalog categories) -> embedding output.
    pub experts: BTreeMap<String, OutputRef>,
    /// Tuned rerank settings (`[profiles.NAME.scoring]`, fitted by `lookalike eval --tune`);
    /// missing: the seed's blend, the cut-out alone, no router prior.
    #[serde(default)]
    pub scoring: Scoring,
    /// Calibrated `match` rule (`[profiles.NAME.match]`, from `lookalike eval --tune`); missing:
    /// every search says "similar".
    #[serde(default, rename = "match")]
    pub match_rule: Option<MatchRule>,
    /// A promptable segmenter that refines the index segmenter's mask (catalog images only).
    #[serde(default)]
    pub index_refiner: Option<RefinerSpec>,
    /// A shopper's words ("in red leather") mixed into the image query; missing: the profile
    /// takes no words (the lite profile: EfficientNet has no text tower).
    #[serde(default)]
    pub text_query: Option<TextQuerySpec>,
}

/// `text_query = { weight = 1.0, towers = { fashion = "fashion_siglip_text", ... } }`: each
/// expert's query becomes `normalise(image + weight * text)`, the text embedded by the text tower
/// that shares that expert's space. An expert without a tower ranks by the image alone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextQuerySpec {
    pub weight: f32,
    /// Expert name -> text tower id (its `image_model` must be the expert's model).
    pub towers: BTreeMap<String, String>,
}

/// `index_refiner = { model = "sam2_decoder", min_agreement = 0.5 }`: the index-time mask is
/// the decoder's candidate that agrees best with the saliency mask it was prompted from, when
/// that agreement (IoU) reaches `min_agreement`; otherwise the saliency mask stays.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefinerSpec {
    pub model: String,
    pub min_agreement: f32,
}

impl ProfileSpec {
    /// Every model a search with this profile runs (segmenter first), without duplicates.
    pub fn query_models(&self) -> Vec<String> {
        let mut ids = vec![self.segmenter.clone(), self.router.model.clone()];
        ids.extend(self.experts.values().map(|e| e.model.clone()));
        ids.push(self.texture.model.clone());
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        ids
    }
}

impl Manifest {
    /// Reads `<dir>/manifest.toml`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            EngineError::io(format!("reading model manifest {}", path.display()), e)
        })?;
        Self::parse(&text, dir)
    }

    pub fn parse(text: &str, dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let mut manifest: Manifest = toml::from_str(text).map_err(|e| EngineError::Manifest {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        manifest.dir = dir.to_path_buf();
        for overlay in manifest.overlays.clone() {
            manifest.merge_overlay(&overlay)?;
        }
        manifest
            .validate()
            .map_err(|detail| EngineError::Manifest { path, detail })?;
        Ok(manifest)
    }

    /// Adds or replaces the entries that the overlay at `rel` (relative to the manifest)
    /// defines. A replacement keeps the kind of model and its outputs, so the profiles written
    /// against the manifest still hold; each file's sha256 is checked when the model loads, as
    /// for every model. Overlays hold no profiles.
    fn merge_overlay(&mut self, rel: &str) -> Result<()> {
        let path = self.dir.join(rel);
        let fail = |detail: String| EngineError::Manifest {
            path: path.clone(),
            detail,
        };
        if !is_plain_relative(rel) {
            return Err(EngineError::Manifest {
                path: self.dir.join(MANIFEST_FILE),
                detail: format!("overlay `{rel}` must be a plain relative path"),
            });
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(EngineError::io(
                    format!("reading manifest overlay {}", path.display()),
                    e,
                ));
            }
        };
        let overlay: Overlay = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        let folder = Path::new(rel).parent().unwrap_or(Path::new(""));
        let mut replaced = Vec::new();
        for (id, mut spec) in overlay.models {
            if let Some(base) = self.models.get(&id) {
                same_shape(base, &spec).map_err(|d| fail(format!("model `{id}`: {d}")))?;
            }
            for file in
                std::iter::once(&mut spec.file).chain(spec.text.as_mut().map(|t| &mut t.tokenizer))
            {
                if !is_plain_relative(file) {
                    return Err(fail(format!(
                        "model `{id}`: `{file}` must be a plain relative path"
                    )));
                }
                *file = folder.join(&*file).to_string_lossy().into_owned();
            }
            self.models.insert(id.clone(), spec);
            replaced.push(id);
        }
        self.merged.push((path.clone(), replaced));
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        if self.version != 1 {
            return Err(format!(
                "unsupported manifest version {} (expected 1)",
                self.version
            ));
        }
        for (id, m) in &self.models {
            if !is_plain_relative(&m.file) {
                return Err(format!(
                    "model `{id}`: file `{}` must be a plain relative path",
                    m.file
                ));
            }
            if let Some(p) = &m.prompt {
                if m.input.is_some() || m.text.is_some() {
                    return Err(format!(
                        "model `{id}`: needs exactly one of `input` (image), `text` or `prompt`"
                    ));
                }
                self.validate_prompt(id, m, p)?;
                continue;
            }
            let i = match (&m.input, &m.text) {
                (Some(i), None) => i,
                (None, Some(t)) => {
                    if t.max_len == 0 || !self.models.contains_key(&t.image_model) {
                        return Err(format!(
                            "model `{id}`: text tower needs max_len > 0 and a known image_model"
                        ));
                    }
                    if Path::new(&t.tokenizer)
                        .components()
                        .any(|c| !matches!(c, std::path::Component::Normal(_)))
                    {
                        return Err(format!(
                            "model `{id}`: tokenizer `{}` must be a plain relative path",
                            t.tokenizer
                        ));
                    }
                    continue;
                }
                _ => {
                    return Err(format!(
                        "model `{id}`: needs exactly one of `input` (image), `text` or `prompt`"
                    ));
                }
            };
            if i.width == 0 || i.height == 0 {
                return Err(format!("model `{id}`: input size must be positive"));
            }
            if i.std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
                return Err(format!("model `{id}`: std must be finite and non-zero"));
            }
            if i.resize == ResizeMode::ShorterSideThenCenterCrop
                && i.resize_shorter.is_none_or(|s| s < i.width.max(i.height))
            {
                return Err(format!(
                    "model `{id}`: resize `shorter_side_then_center_crop` needs resize_shorter >= the crop size"
                ));
            }
            if m.outputs.is_empty() {
                return Err(format!("model `{id}`: no outputs declared"));
            }
        }
        for (name, p) in &self.profiles {
            p.scoring
                .validate()
                .map_err(|e| format!("profile `{name}`: {e}"))?;
            if let Some(m) = &p.match_rule {
                m.validate().map_err(|e| format!("profile `{name}`: {e}"))?;
            }
            let check = |r: &OutputRef, kinds: &[OutputKind], part: &str| -> Result<(), String> {
                let out = self.output_spec(r).ok_or_else(|| {
                    format!("profile `{name}`: {part} refers to `{}`.`{}`, which the manifest does not define", r.model, r.output)
                })?;
                if !kinds.contains(&out.kind) {
                    return Err(format!(
                        "profile `{name}`: {part} `{}`.`{}` is a {:?} output",
                        r.model, r.output, out.kind
                    ));
                }
                Ok(())
            };
            if let Some(r) = &p.index_refiner {
                if self.models.get(&r.model).is_none_or(|m| m.prompt.is_none()) {
                    return Err(format!(
                        "profile `{name}`: index_refiner `{}` must be a model with a `prompt` table",
                        r.model
                    ));
                }
                if !(0.0..=1.0).contains(&r.min_agreement) {
                    return Err(format!(
                        "profile `{name}`: index_refiner min_agreement must be within 0..1"
                    ));
                }
            }
            for seg in std::iter::once(&p.segmenter).chain(&p.index_segmenters) {
                let m = self
                    .models
                    .get(seg)
                    .ok_or_else(|| format!("profile `{name}`: unknown segmenter `{seg}`"))?;
                if !m.outputs.iter().any(|o| o.kind == OutputKind::Saliency) {
                    return Err(format!(
                        "profile `{name}`: segmenter `{seg}` has no saliency output"
                    ));
                }
            }
            let router_kind = match p.router.kind {
                RouterKind::ClassTable => OutputKind::Logits,
                RouterKind::TextPrototypes => OutputKind::Embedding,
            };
            check(&p.router.output_ref(), &[router_kind], "router")?;
            match (p.router.kind, &p.router.text_model) {
                (RouterKind::TextPrototypes, Some(t)) => {
                    let spec = self.models.get(t).and_then(|m| m.text.as_ref());
                    if spec.is_none_or(|s| s.image_model != p.router.model) {
                        return Err(format!(
                            "profile `{name}`: router text_model `{t}` must be a text tower of `{}`",
                            p.router.model
                        ));
                    }
                }
                (RouterKind::TextPrototypes, None) => {
                    return Err(format!(
                        "profile `{name}`: a text_prototypes router needs a text_model"
                    ));
                }
                _ => {}
            }
            check(
                &p.texture,
                &[OutputKind::Texture, OutputKind::Embedding],
                "texture",
            )?;
            if p.experts.is_empty() {
                return Err(format!("profile `{name}`: no experts"));
            }
            for (expert, r) in &p.experts {
                check(r, &[OutputKind::Embedding], &format!("expert `{expert}`"))?;
            }
            if let Some(t) = &p.text_query {
                self.validate_text_query(name, p, t)?;
            }
        }
        Ok(())
    }

    /// Every tower shares its expert's space: a text tower of the expert's image model, with an
    /// embedding as long as the expert's.
    fn validate_text_query(
        &self,
        name: &str,
        p: &ProfileSpec,
        t: &TextQuerySpec,
    ) -> Result<(), String> {
        if !(t.weight.is_finite() && t.weight > 0.0) {
            return Err(format!(
                "profile `{name}`: text_query weight must be a positive number, got {}",
                t.weight
            ));
        }
        if t.towers.is_empty() {
            return Err(format!("profile `{name}`: text_query names no towers"));
        }
        for (expert, tower) in &t.towers {
            let e = p.experts.get(expert).ok_or_else(|| {
                format!("profile `{name}`: text_query names expert `{expert}`, which the profile does not have")
            })?;
            let m = self.models.get(tower);
            let paired = m
                .and_then(|m| m.text.as_ref())
                .is_some_and(|s| s.image_model == e.model);
            let dims = m.and_then(|m| m.outputs.first()).map(|o| o.len());
            let want = self.output_spec(e).map(|o| o.len());
            if !paired || dims != want {
                return Err(format!(
                    "profile `{name}`: text_query tower `{tower}` must be a text tower of `{}` whose embedding is as long as `{}`.`{}`",
                    e.model, e.model, e.output
                ));
            }
        }
        Ok(())
    }

    /// A decoder needs a known image encoder with `features` outputs, and exactly one
    /// `[1, K, H, W]` mask-logits output with a `[1, K]` scores output beside it.
    fn validate_prompt(&self, id: &str, m: &ModelSpec, p: &PromptSpec) -> Result<(), String> {
        let encoder = self.models.get(&p.encoder);
        let features = encoder.map_or(0, |e| {
            e.outputs
                .iter()
                .filter(|o| o.kind == OutputKind::Features)
                .count()
        });
        if encoder.is_none_or(|e| e.input.is_none()) || features == 0 {
            return Err(format!(
                "model `{id}`: prompt encoder `{}` must be an image model with `features` outputs",
                p.encoder
            ));
        }
        let of = |kind| m.outputs.iter().filter(move |o| o.kind == kind);
        match (
            of(OutputKind::MaskLogits).collect::<Vec<_>>().as_slice(),
            of(OutputKind::MaskScores).collect::<Vec<_>>().as_slice(),
        ) {
            ([masks], [scores])
                if masks.dims.len() == 4
                    && masks.dims[0] == 1
                    && scores.dims == [1, masks.dims[1]]
                    && masks.dims.iter().all(|d| *d > 0) =>
            {
                Ok(())
            }
            _ => Err(format!(
                "model `{id}`: a prompt decoder declares one `mask_logits` output [1, K, H, W] and one `mask_scores` output [1, K]"
            )),
        }
    }

    pub fn profile(&self, name: &str) -> Result<&ProfileSpec> {
        self.profiles
            .get(name)
            .ok_or_else(|| EngineError::UnknownProfile {
                name: name.to_string(),
                known: self.profiles.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    pub fn model(&self, id: &str) -> Result<&ModelSpec> {
        self.models.get(id).ok_or_else(|| EngineError::Manifest {
            path: self.dir.join(MANIFEST_FILE),
            detail: format!("no model `{id}`"),
        })
    }

    pub fn output_spec(&self, r: &OutputRef) -> Option<&OutputSpec> {
        self.models
            .get(&r.model)?
            .outputs
            .iter()
            .find(|o| o.name == r.output)
    }

    pub fn model_path(&self, id: &str) -> Result<PathBuf> {
        Ok(self.dir.join(&self.model(id)?.file))
    }
}

fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Whether an overlay entry can stand in for the base entry: the same kind of model (image,
/// text or prompt) and the same outputs (names, kinds, shapes).
fn same_shape(base: &ModelSpec, new: &ModelSpec) -> Result<(), String> {
    let kind = |m: &ModelSpec| (m.input.is_some(), m.text.is_some(), m.prompt.is_some());
    if kind(base) != kind(new) {
        return Err("the overlay changes the kind of model (image, text or prompt)".into());
    }
    let outs = |m: &ModelSpec| {
        m.outputs
            .iter()
            .map(|o| (o.name.clone(), o.kind, o.dims.clone()))
            .collect::<Vec<_>>()
    };
    if outs(base) != outs(new) {
        return Err(format!(
            "the overlay's outputs {:?} differ from the manifest's {:?}",
            outs(new),
            outs(base)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_manifest() -> Manifest {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        Manifest::load(&dir).expect("the committed manifest parses and validates")
    }

    #[test]
    fn committed_manifest_has_both_profiles() {
        let m = repo_manifest();
        let lite = m.profile("lite").unwrap();
        assert_eq!(lite.segmenter, "u2netp_int8");
        assert_eq!(
            lite.query_models(),
            vec!["u2netp_int8", "efficientnet_lite0"]
        );
        let full = m.profile("full").unwrap();
        assert_eq!(
            full.query_models(),
            vec!["u2netp_int8", "siglip2", "fashion_siglip", "dinov2_small"]
        );
        assert!(matches!(
            m.profile("nope"),
            Err(EngineError::UnknownProfile { .. })
        ));
    }

    #[test]
    fn dangling_output_reference_is_rejected() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap();
        let broken = text.replace(
            "texture = { model = \"efficientnet_lite0\", output = \"texture\" }",
            "texture = { model = \"efficientnet_lite0\", output = \"nope\" }",
        );
        assert_ne!(broken, text);
        let err = Manifest::parse(&broken, &dir).unwrap_err().to_string();
        assert!(err.contains("`efficientnet_lite0`.`nope`"), "{err}");
    }

    #[test]
    fn text_query_towers_must_share_their_experts_space() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap();
        let full = Manifest::parse(&text, &dir).unwrap();
        let q = full.profile("full").unwrap().text_query.as_ref().unwrap();
        assert_eq!(q.towers["fashion"], "fashion_siglip_text");
        assert!(full.profile("lite").unwrap().text_query.is_none());
        let good = "towers = { fashion = \"fashion_siglip_text\", general = \"siglip2_text\" }";
        assert!(text.contains(good));
        for (bad, says) in [
            // SigLIP2's words are not in FashionSigLIP's space
            (
                "towers = { fashion = \"siglip2_text\", general = \"siglip2_text\" }",
                "text tower of `fashion_siglip`",
            ),
            // an image model is no text tower
            (
                "towers = { fashion = \"fashion_siglip\", general = \"siglip2_text\" }",
                "tower `fashion_siglip`",
            ),
            (
                "towers = { shoes = \"fashion_siglip_text\" }",
                "expert `shoes`",
            ),
            ("towers = { }", "names no towers"),
        ] {
            let broken = text.replace(good, bad);
            let err = Manifest::parse(&broken, &dir).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let zero = text.replace("text_query = { weight = 1.0", "text_query = { weight = 0.0");
        let err = Manifest::parse(&zero, &dir).unwrap_err().to_string();
        assert!(err.contains("positive"), "{err}");
    }

    /// A copy of the committed manifest in a temporary folder, with `overlay` written to
    /// `full/sam2.manifest.toml` (one of the committed overlay paths).
    fn with_overlay(overlay: &str) -> (tempfile::TempDir, Result<Manifest>) {
        let dir = tempfile::tempdir().unwrap();
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        std::fs::copy(models.join(MANIFEST_FILE), dir.path().join(MANIFEST_FILE)).unwrap();
        std::fs::create_dir(dir.path().join("full")).unwrap();
        std::fs::write(dir.path().join("full/sam2.manifest.toml"), overlay).unwrap();
        let m = Manifest::load(dir.path());
        (dir, m)
    }

    const SAM2_DECODER: &str = r#"
[models.sam2_decoder]
file = "decoder.onnx"
sha256 = "abc123"
source = "test"
license = "Apache-2.0"
weights = "random-init"
prompt = { encoder = "sam2_encoder", points = "point_coords", labels = "point_labels", mask_input = "mask_input", has_mask_input = "has_mask_input" }
outputs = [
  { name = "masks", kind = "mask_logits", dims = [1, 3, 256, 256] },
  { name = "iou_predictions", kind = "mask_scores", dims = [1, 3] },
]
"#;

    #[test]
    fn an_overlay_replaces_pending_entries_with_files_beside_it() {
        // the committed manifest alone (a machine that ran the real export has models/full/)
        let dir = tempfile::tempdir().unwrap();
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        std::fs::copy(models.join(MANIFEST_FILE), dir.path().join(MANIFEST_FILE)).unwrap();
        let base = Manifest::load(dir.path()).unwrap();
        assert_eq!(base.model("sam2_decoder").unwrap().sha256, PENDING_CHECKSUM);
        assert!(base.merged.is_empty(), "no overlay is committed");
        let (dir, m) = with_overlay(SAM2_DECODER);
        let m = m.expect("the overlay merges");
        let d = m.model("sam2_decoder").unwrap();
        assert_eq!(d.sha256, "abc123");
        assert_eq!(d.weights, Weights::RandomInit);
        assert_eq!(
            m.model_path("sam2_decoder").unwrap(),
            dir.path().join("full/decoder.onnx"),
            "overlay paths are relative to the overlay's folder"
        );
        assert_eq!(m.merged.len(), 1);
        assert_eq!(m.merged[0].1, vec!["sam2_decoder".to_string()]);
        assert_eq!(
            m.model("sam2_encoder").unwrap().sha256,
            PENDING_CHECKSUM,
            "entries the overlay does not name stay"
        );
    }

    #[test]
    fn an_overlay_that_changes_outputs_or_holds_profiles_is_refused() {
        let (_d, m) = with_overlay(&SAM2_DECODER.replace("[1, 3, 256, 256]", "[1, 3, 64, 64]"));
        let err = m.unwrap_err().to_string();
        assert!(
            err.contains("sam2.manifest.toml") && err.contains("outputs"),
            "{err}"
        );
        let (_d, m) = with_overlay(&format!(
            "{SAM2_DECODER}\n[profiles.x]\ndescription = \"x\"\n"
        ));
        assert!(m.unwrap_err().to_string().contains("profiles"));
        let (_d, m) = with_overlay(&SAM2_DECODER.replace("decoder.onnx", "../escape.onnx"));
        assert!(m.unwrap_err().to_string().contains("plain relative path"));
    }

    #[test]
    fn a_prompt_decoder_needs_its_encoder_and_a_scores_output() {
        let (_d, m) = with_overlay(
            &SAM2_DECODER.replace("encoder = \"sam2_encoder\"", "encoder = \"u2netp\""),
        );
        assert!(
            m.unwrap_err().to_string().contains("features"),
            "u2netp has no features output"
        );
        let no_scores = SAM2_DECODER.replace(
            "  { name = \"iou_predictions\", kind = \"mask_scores\", dims = [1, 3] },\n",
            "",
        );
        assert_ne!(no_scores, SAM2_DECODER);
        let (_d, m) = with_overlay(&no_scores);
        assert!(m.unwrap_err().to_string().contains("outputs"));
    }

    #[test]
    fn escaping_model_path_is_rejected() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap();
        let broken = text.replace("file = \"u2netp.onnx\"", "file = \"../../etc/u2netp.onnx\"");
        let err = Manifest::parse(&broken, &dir).unwrap_err().to_string();
        assert!(err.contains("plain relative path"), "{err}");
        // a prompt decoder's file too
        let broken = text.replace(
            "file = \"full/sam2_hiera_tiny_decoder.onnx\"",
            "file = \"/tmp/decoder.onnx\"",
        );
        assert_ne!(broken, text);
        let err = Manifest::parse(&broken, &dir).unwrap_err().to_string();
        assert!(
            err.contains("sam2_decoder") && err.contains("plain relative path"),
            "{err}"
        );
    }
}
