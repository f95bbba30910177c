//! One feature extractor for the query and for every catalog item, so that both sides of a
//! cosine come from the same code: decode -> segment -> (on demand) the model outputs the profile
//! names: per-expert embeddings, the router's input, the texture descriptor, the colour signature.
//!
//! Model outputs are computed on first ask and each model runs at most once per image (the lite
//! profile's router, embedding and texture are one EfficientNet pass; the full profile's router
//! embedding doubles as the SigLIP2 expert's query embedding), so a search pays only for the
//! experts its route needs.

use std::collections::HashMap;
use std::sync::Arc;

use image::{GrayImage, RgbaImage};

use crate::error::{EngineError, Result};
use crate::models::manifest::OutputRef;
use crate::models::{LoadedModel, ModelOutputs, ModelRegistry, ProfileSpec};
use crate::stages::decode::{self, DecodeOptions, Decoded, ImageInfo};
use crate::stages::objects::Region;
use crate::stages::refine::{Refined, Refiner};
use crate::stages::segment::{
    self, CutoutUse, MaskSource, SegmentOptions, Segmentation, SegmentationInfo,
};
use crate::stages::{Clock, Stage, color, embed};

/// Bump when any stage makes different vectors from the same image and models (a decode, resize,
/// mask or descriptor change): index builds reuse stored vectors only under the same version.
pub const FEATURES_VERSION: u32 = 2;

/// Turns image bytes into [`Features`] for one profile. Searches use the profile's segmenter,
/// the index builder its best index-time segmenter; everything else is the same.
pub struct Extractor<'m> {
    models: &'m ModelRegistry,
    profile: &'m ProfileSpec,
    /// `None`: only images with their own alpha cut-out can be extracted.
    segmenter: Option<Arc<LoadedModel>>,
    /// Index time only: SAM 2, prompted by the segmenter's mask.
    refiner: Option<Refiner>,
    decode: DecodeOptions,
    segment: SegmentOptions,
}

impl<'m> Extractor<'m> {
    pub fn new(
        models: &'m ModelRegistry,
        profile: &'m ProfileSpec,
        segmenter: Option<Arc<LoadedModel>>,
        decode: DecodeOptions,
        segment: SegmentOptions,
    ) -> Self {
        Extractor {
            models,
            profile,
            segmenter,
            refiner: None,
            decode,
            segment,
        }
    }

    /// Refines every model-made mask with `refiner` (catalog builds).
    pub fn with_refiner(mut self, refiner: Option<Refiner>) -> Self {
        self.refiner = refiner;
        self
    }

    /// Decodes and segments `bytes`, charging the time to `decode` and `segment`.
    pub fn extract(&self, bytes: &[u8], clock: &mut Clock) -> Result<Features<'m>> {
        self.extract_region(bytes, None, clock)
    }

    /// [`Extractor::extract`] of one part of the photo: the upright working image is cropped to
    /// `region` before segmentation, so every later stage sees the crop alone.
    pub fn extract_region(
        &self,
        bytes: &[u8],
        region: Option<&Region>,
        clock: &mut Clock,
    ) -> Result<Features<'m>> {
        let decoded = self.decode_region(bytes, region, clock)?;
        if !decoded.info.alpha_cutout && self.segmenter.is_none() {
            return Err(EngineError::ModelMissing {
                model: self.profile.index_segmenters.join(" or "),
                path: self.models.manifest().dir.clone(),
            });
        }
        let seg = clock.time(Stage::Segment, || {
            let model = self
                .segmenter
                .as_deref()
                .filter(|_| !decoded.info.alpha_cutout);
            let seg = segment::segment(&decoded, model, &self.segment)?;
            self.refine(&decoded.image, seg)
        })?;
        Ok(self.features(decoded, seg))
    }

    /// Decodes `bytes` and crops the upright working image to `region` (the time is decode's).
    fn decode_region(
        &self,
        bytes: &[u8],
        region: Option<&Region>,
        clock: &mut Clock,
    ) -> Result<Decoded> {
        clock.time(Stage::Decode, || {
            let decoded = decode::decode(bytes, &self.decode)?;
            match region {
                Some(r) => crop(decoded, r),
                None => Ok(decoded),
            }
        })
    }

    /// SAM's mask in place of the saliency mask, when there is a refiner, the saliency model
    /// made the mask and SAM agrees with it; otherwise `seg` as it is.
    fn refine(&self, image: &RgbaImage, seg: Segmentation) -> Result<Segmentation> {
        let Some(refiner) = &self.refiner else {
            return Ok(seg);
        };
        if seg.info.source != MaskSource::Model {
            return Ok(seg);
        }
        match refiner.refine(image, &seg.mask, self.segment.threshold)? {
            Refined::Mask { mask, .. } => {
                let refined = segment::cut_out(
                    image,
                    mask,
                    MaskSource::Model,
                    Some(refiner.decoder.id.clone()),
                    &self.segment,
                );
                // an empty refined mask says less than the saliency mask it came from
                Ok(if refined.info.used == CutoutUse::Cutout {
                    refined
                } else {
                    seg
                })
            }
            Refined::Disagreed { .. } | Refined::NoPrompt => Ok(seg),
        }
    }

    fn features(&self, decoded: Decoded, seg: Segmentation) -> Features<'m> {
        Features {
            image: decoded.info,
            working: decoded.image,
            segmentation: seg.info,
            cutout: seg.cutout,
            mask: seg.mask,
            models: self.models,
            profile: self.profile,
            outputs: HashMap::new(),
            frame_outputs: HashMap::new(),
        }
    }

    /// Decodes `bytes` and skips segmentation: every model sees the whole frame (the plain
    /// baseline search, `SearchOptions::plain`), or the whole `region` of it.
    pub fn extract_whole(
        &self,
        bytes: &[u8],
        region: Option<&Region>,
        clock: &mut Clock,
    ) -> Result<Features<'m>> {
        let decoded = self.decode_region(bytes, region, clock)?;
        let seg = segment::whole_frame(&decoded.image, "plain search: the whole frame, no cut-out");
        Ok(self.features(decoded, seg))
    }
}

/// The decoded image cut down to `region` (the image facts stay the whole photo's).
fn crop(decoded: Decoded, region: &Region) -> Result<Decoded> {
    let (w, h) = decoded.image.dimensions();
    let [x, y, cw, ch] = region.pixels(w, h)?;
    let image = image::imageops::crop_imm(&decoded.image, x, y, cw, ch).to_image();
    Ok(Decoded { image, ..decoded })
}

/// Everything the pipeline knows about one image.
pub struct Features<'m> {
    pub image: ImageInfo,
    /// The upright working image, before segmentation (catalog thumbnails are made from it).
    pub working: RgbaImage,
    pub segmentation: SegmentationInfo,
    /// The product on a transparent background, cropped: what every model sees.
    pub cutout: RgbaImage,
    /// The soft mask over the whole working image.
    pub mask: GrayImage,
    models: &'m ModelRegistry,
    profile: &'m ProfileSpec,
    /// Every output of each model run so far, by model id.
    outputs: HashMap<String, ModelOutputs>,
    /// The same for the whole frame (queries only: see [`Features::frame_embedding`]).
    frame_outputs: HashMap<String, ModelOutputs>,
}

impl Features<'_> {
    /// A model output for the cut-out, running the model on first ask.
    pub fn output(&mut self, r: &OutputRef) -> Result<&[f32]> {
        if !self.outputs.contains_key(&r.model) {
            let outputs = self.models.get(&r.model)?.run(&self.cutout)?;
            self.outputs.insert(r.model.clone(), outputs);
        }
        self.outputs[&r.model]
            .get(&r.output)
            .map(|t| t.data.as_slice())
            .ok_or_else(|| EngineError::ModelMismatch {
                model: r.model.clone(),
                detail: format!("no output `{}`", r.output),
            })
    }

    /// The L2-normalised embedding in one expert's space.
    pub fn embedding(&mut self, expert: &OutputRef) -> Result<Vec<f32>> {
        Ok(embed::embedding(self.output(expert)?))
    }

    /// Whether the whole frame shows the model something the cut-out does not: a saliency
    /// model cut the product out (not the image's own alpha, not the whole-image fallback).
    pub fn has_frame_view(&self) -> bool {
        self.segmentation.used == CutoutUse::Cutout && self.segmentation.source == MaskSource::Model
    }

    /// The expert's embedding of the whole frame, the second view of a query whose cut-out may
    /// have kept too little of the product (`None` when there is no second view to see).
    pub fn frame_embedding(&mut self, expert: &OutputRef) -> Result<Option<Vec<f32>>> {
        if !self.has_frame_view() {
            return Ok(None);
        }
        if !self.frame_outputs.contains_key(&expert.model) {
            let outputs = self.models.get(&expert.model)?.run(&self.working)?;
            self.frame_outputs.insert(expert.model.clone(), outputs);
        }
        let raw = self.frame_outputs[&expert.model]
            .get(&expert.output)
            .ok_or_else(|| EngineError::ModelMismatch {
                model: expert.model.clone(),
                detail: format!("no output `{}`", expert.output),
            })?;
        Ok(Some(embed::embedding(&raw.data)))
    }

    /// What the router scores: ImageNet logits (class tables) or an image embedding (prototypes).
    pub fn router_input(&mut self) -> Result<&[f32]> {
        let r = self.profile.router.output_ref();
        self.output(&r)
    }

    /// The raw texture descriptor (the catalog centres it: `stages::texture::descriptor`).
    pub fn texture(&mut self) -> Result<&[f32]> {
        let r = self.profile.texture.clone();
        self.output(&r)
    }

    /// The HSV colour signature of the cut-out's visible pixels.
    pub fn color(&self) -> [f32; color::DIMS] {
        color::signature(&self.cutout)
    }
}
