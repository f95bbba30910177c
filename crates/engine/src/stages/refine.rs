//! Stage 2b, refine (catalog images only, never on the phone): the seed cuts catalog images out
//! with SAM 2, which needs a prompt. Nobody is there to click at index time, so the saliency
//! mask prompts it: a box around the salient pixels and one point deep inside each large salient
//! region. SAM answers several candidate masks; the one that agrees best with the saliency mask
//! (IoU) is kept when it agrees enough, else the saliency mask stays. SAM's own quality score
//! only breaks ties: with a box prompt it can prefer a part, or the whole background.

use std::collections::VecDeque;
use std::sync::Arc;

use image::{GrayImage, Luma, RgbaImage};

use super::segment::{iou, threshold_u8};
use crate::error::{EngineError, Result};
use crate::models::LoadedModel;
use crate::models::manifest::{Interpolation, OutputKind, PromptSpec, ResizeMode};
use crate::models::resample;

/// Bump when the prompting or the choice of mask changes: index builds reuse refined masks only
/// under the same version.
pub const REFINE_VERSION: u32 = 1;

/// Point labels of SAM's prompt encoder.
const FOREGROUND: f32 = 1.0;
const BOX_TOP_LEFT: f32 = 2.0;
const BOX_BOTTOM_RIGHT: f32 = 3.0;

/// Regions are found on a grid this size (long side): fine enough for a point inside a
/// product, cheap at any image size.
const GRID: u32 = 128;
/// At most this many regions get a point, largest first...
const MAX_POINTS: usize = 3;
/// ...and a region needs this share of the largest one's area.
const MIN_REGION_SHARE: f32 = 0.2;

/// SAM 2's encoder and decoder, loaded, with the agreement the refined mask needs.
pub struct Refiner {
    pub encoder: Arc<LoadedModel>,
    pub decoder: Arc<LoadedModel>,
    /// Smallest IoU with the saliency mask at which SAM's mask replaces it.
    pub min_agreement: f32,
}

/// What the refine stage did with one image.
#[derive(Debug, Clone)]
pub enum Refined {
    /// SAM's mask replaces the saliency mask (same size as the image, 0..255).
    Mask { mask: GrayImage, agreement: f32 },
    /// Every candidate disagreed with the saliency mask: it stays.
    Disagreed { agreement: f32 },
    /// The saliency mask had nothing to prompt with.
    NoPrompt,
}

/// Point prompts in image pixels: (x, y) and SAM's label for each.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub points: Vec<[f32; 2]>,
    pub labels: Vec<f32>,
}

impl Refiner {
    /// Checks that the decoder has a prompt table naming `encoder`, and that the encoder
    /// stretches its input (the prompt coordinates are mapped by a plain scale).
    pub fn new(
        encoder: Arc<LoadedModel>,
        decoder: Arc<LoadedModel>,
        min_agreement: f32,
    ) -> Result<Self> {
        let mismatch = |model: &str, detail: &str| EngineError::ModelMismatch {
            model: model.into(),
            detail: detail.into(),
        };
        let prompt = prompt_spec(&decoder)?;
        if prompt.encoder != encoder.id {
            return Err(mismatch(
                &decoder.id,
                &format!(
                    "is prompted from `{}`, not `{}`",
                    prompt.encoder, encoder.id
                ),
            ));
        }
        if encoder.spec.image_input(&encoder.id)?.resize != ResizeMode::Stretch {
            return Err(mismatch(
                &encoder.id,
                "a prompted segmenter's encoder must stretch its input (resize = \"stretch\")",
            ));
        }
        Ok(Refiner {
            encoder,
            decoder,
            min_agreement,
        })
    }

    /// Prompts SAM from `saliency` (0..255, the image's size; foreground from `threshold`).
    pub fn refine(
        &self,
        image: &RgbaImage,
        saliency: &GrayImage,
        threshold: f32,
    ) -> Result<Refined> {
        let cut = threshold_u8(threshold);
        let Some(prompt) = prompt_from_saliency(saliency, cut) else {
            return Ok(Refined::NoPrompt);
        };
        let input = self.encoder.spec.image_input(&self.encoder.id)?;
        let (sx, sy) = (
            input.width as f32 / image.width().max(1) as f32,
            input.height as f32 / image.height().max(1) as f32,
        );
        let coords: Vec<f32> = prompt
            .points
            .iter()
            .flat_map(|[x, y]| [x * sx, y * sy])
            .collect();

        let features = self.encoder.run(image)?;
        let spec = prompt_spec(&self.decoder)?;
        let masks_spec = output_of(&self.decoder, OutputKind::MaskLogits)?;
        let scores_spec = output_of(&self.decoder, OutputKind::MaskScores)?;
        let (k, mh, mw) = (
            masks_spec.dims[1],
            masks_spec.dims[2] as u32,
            masks_spec.dims[3] as u32,
        );
        let no_mask = vec![0.0f32; (mh * mw) as usize];
        let n = prompt.labels.len();
        let mut inputs: Vec<(&str, Vec<usize>, &[f32])> = self
            .encoder
            .spec
            .outputs
            .iter()
            .filter(|o| o.kind == OutputKind::Features)
            .filter_map(|o| {
                features
                    .get(&o.name)
                    .map(|t| (o.name.as_str(), t.dims.clone(), t.data.as_slice()))
            })
            .collect();
        inputs.push((spec.points.as_str(), vec![1, n, 2], &coords));
        inputs.push((spec.labels.as_str(), vec![1, n], &prompt.labels));
        inputs.push((
            spec.mask_input.as_str(),
            vec![1, 1, mh as usize, mw as usize],
            &no_mask,
        ));
        inputs.push((spec.has_mask_input.as_str(), vec![1], &[0.0]));
        let out = self.decoder.run_named(&inputs)?;
        let (masks, scores) = (&out[&masks_spec.name].data, &out[&scores_spec.name].data);

        let target = resample::gray(saliency, mw, mh, Interpolation::Bilinear);
        let plane = (mh * mw) as usize;
        let (best, agreement) = (0..k)
            .map(|i| {
                (
                    i,
                    logits_iou(&masks[i * plane..(i + 1) * plane], &target, cut),
                )
            })
            .max_by(|(i, a), (j, b)| a.total_cmp(b).then(scores[*i].total_cmp(&scores[*j])))
            .unwrap_or((0, 0.0));
        if agreement < self.min_agreement {
            return Ok(Refined::Disagreed { agreement });
        }
        let small = GrayImage::from_fn(mw, mh, |x, y| {
            let logit = masks[best * plane + (y * mw + x) as usize];
            Luma([(255.0 / (1.0 + (-logit).exp())).round() as u8])
        });
        Ok(Refined::Mask {
            mask: resample::gray(
                &small,
                image.width(),
                image.height(),
                Interpolation::Bilinear,
            ),
            agreement,
        })
    }
}

fn prompt_spec(decoder: &LoadedModel) -> Result<&PromptSpec> {
    decoder
        .spec
        .prompt
        .as_ref()
        .ok_or_else(|| EngineError::ModelMismatch {
            model: decoder.id.clone(),
            detail: "has no `prompt` table: it is not a promptable mask decoder".into(),
        })
}

fn output_of(
    model: &LoadedModel,
    kind: OutputKind,
) -> Result<&crate::models::manifest::OutputSpec> {
    model
        .spec
        .outputs
        .iter()
        .find(|o| o.kind == kind)
        .ok_or_else(|| EngineError::ModelMismatch {
            model: model.id.clone(),
            detail: format!("no {kind:?} output"),
        })
}

/// IoU of a logit plane (> 0: foreground) with a 0..255 mask at `cut`; two empty masks say
/// nothing, so they do not agree.
fn logits_iou(logits: &[f32], mask: &GrayImage, cut: u8) -> f32 {
    iou(logits
        .iter()
        .zip(mask.pixels())
        .map(|(l, p)| (*l > 0.0, p[0] >= cut)))
    .unwrap_or(0.0)
}

/// The box around every salient pixel, and a point deep inside each of the (up to three)
/// largest salient regions: the pixel farthest from the region's edge, so a ring or a thin
/// handle does not put the point on the background. `None` for an empty mask.
pub fn prompt_from_saliency(mask: &GrayImage, cut: u8) -> Option<Prompt> {
    let (w, h) = mask.dimensions();
    let scale = (GRID as f32 / w.max(h).max(1) as f32).min(1.0);
    let (gw, gh) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    let grid = resample::gray(mask, gw, gh, Interpolation::Bilinear);
    let fg: Vec<bool> = grid.pixels().map(|p| p[0] >= cut).collect();
    let regions = regions(&fg, gw as usize, gh as usize);
    let largest = regions.first()?.len();
    let depth = inner_distance(&fg, gw as usize, gh as usize);
    let (to_x, to_y) = (w as f32 / gw as f32, h as f32 / gh as f32);

    let mut points = Vec::new();
    let mut labels = Vec::new();
    for region in regions
        .iter()
        .take(MAX_POINTS)
        .filter(|r| r.len() as f32 >= MIN_REGION_SHARE * largest as f32)
    {
        let deepest = region
            .iter()
            .copied()
            .max_by_key(|i| depth[*i])
            .unwrap_or(region[0]);
        let (gx, gy) = (deepest % gw as usize, deepest / gw as usize);
        points.push([(gx as f32 + 0.5) * to_x, (gy as f32 + 0.5) * to_y]);
        labels.push(FOREGROUND);
    }
    let [x, y, bw, bh] = super::segment::tight_box(mask, cut)?;
    points.push([x as f32, y as f32]);
    labels.push(BOX_TOP_LEFT);
    points.push([(x + bw) as f32, (y + bh) as f32]);
    labels.push(BOX_BOTTOM_RIGHT);
    Some(Prompt { points, labels })
}

/// 4-connected regions of `fg` (cell indices), largest first.
fn regions(fg: &[bool], w: usize, h: usize) -> Vec<Vec<usize>> {
    let mut seen = vec![false; fg.len()];
    let mut out = Vec::new();
    for start in 0..fg.len() {
        if !fg[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut region = Vec::new();
        let mut queue = VecDeque::from([start]);
        while let Some(i) = queue.pop_front() {
            region.push(i);
            let (x, y) = (i % w, i / w);
            let next = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in next.into_iter().flatten() {
                if fg[j] && !seen[j] {
                    seen[j] = true;
                    queue.push_back(j);
                }
            }
        }
        out.push(region);
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.len()));
    out
}

/// City-block distance of each foreground cell to the nearest background cell or image edge
/// (two-pass chamfer).
fn inner_distance(fg: &[bool], w: usize, h: usize) -> Vec<u32> {
    let mut d: Vec<u32> = fg
        .iter()
        .map(|f| if *f { u32::MAX / 2 } else { 0 })
        .collect();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if d[i] == 0 {
                continue;
            }
            let up = if y > 0 { d[i - w] } else { 0 };
            let left = if x > 0 { d[i - 1] } else { 0 };
            d[i] = d[i].min(up + 1).min(left + 1);
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            if d[i] == 0 {
                continue;
            }
            let down = if y + 1 < h { d[i + w] } else { 0 };
            let right = if x + 1 < w { d[i + 1] } else { 0 };
            d[i] = d[i].min(down + 1).min(right + 1);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::segment::test_masks::mask_with;

    #[test]
    fn one_region_gives_its_centre_and_its_box() {
        let mask = mask_with(256, 128, &[[64, 32, 64, 64]]);
        let p = prompt_from_saliency(&mask, 128).expect("a prompt");
        assert_eq!(p.labels, vec![FOREGROUND, BOX_TOP_LEFT, BOX_BOTTOM_RIGHT]);
        let [x, y] = p.points[0];
        assert!(
            (x - 96.0).abs() <= 3.0 && (y - 64.0).abs() <= 3.0,
            "{x},{y}"
        );
        assert_eq!(p.points[1], [64.0, 32.0]);
        assert_eq!(p.points[2], [128.0, 96.0]);
    }

    #[test]
    fn small_specks_get_no_point_but_stay_in_the_box() {
        // a big region, a second one of 25% of its area, and a speck of 1%
        let mask = mask_with(
            200,
            100,
            &[[10, 10, 40, 40], [100, 10, 20, 20], [180, 80, 4, 4]],
        );
        let p = prompt_from_saliency(&mask, 128).unwrap();
        let fg = p.labels.iter().filter(|l| **l == FOREGROUND).count();
        assert_eq!(fg, 2, "{p:?}");
        assert!(p.points[0][0] < 50.0, "largest region first: {p:?}");
        assert_eq!(p.points[fg + 1], [184.0, 84.0], "the box holds the speck");
    }

    #[test]
    fn a_ring_gets_its_point_on_the_ring_not_in_the_hole() {
        let mut mask = mask_with(100, 100, &[[10, 10, 80, 80]]);
        for (x, y, p) in mask.enumerate_pixels_mut() {
            if (25..75).contains(&x) && (25..75).contains(&y) {
                p[0] = 0;
            }
        }
        let p = prompt_from_saliency(&mask, 128).unwrap();
        let [x, y] = p.points[0];
        assert_eq!(
            mask.get_pixel(x as u32, y as u32)[0],
            255,
            "point at {x},{y}"
        );
    }

    #[test]
    fn empty_mask_has_no_prompt() {
        assert_eq!(prompt_from_saliency(&GrayImage::new(50, 50), 128), None);
    }

    #[test]
    fn iou_of_logits_against_a_mask() {
        let mask = mask_with(4, 1, &[[0, 0, 2, 1]]);
        assert_eq!(logits_iou(&[1.0, 1.0, -1.0, -1.0], &mask, 128), 1.0);
        assert!((logits_iou(&[1.0, 1.0, 1.0, 1.0], &mask, 128) - 0.5).abs() < 1e-6);
        assert_eq!(logits_iou(&[-1.0; 4], &mask, 128), 0.0);
    }
}
