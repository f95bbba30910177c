//! Stage 2, segment: a saliency mask (0..1) at the working resolution, thresholded into a
//! transparent cut-out, tightly cropped around the product. An image that already carries an alpha
//! cut-out uses it; an (almost) empty mask falls back to the whole image and says so.

use image::{GrayImage, Luma, RgbaImage};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::decode::Decoded;
use crate::error::{EngineError, Result};
use crate::models::LoadedModel;
use crate::models::manifest::{Interpolation, OutputKind};
use crate::models::resample;

#[derive(Debug, Clone)]
pub struct SegmentOptions {
    /// Mask value (0..1) from which a pixel is foreground.
    pub threshold: f32,
    /// Below this share of foreground pixels the mask is treated as empty.
    pub min_foreground: f32,
    /// Extra border around the tight box, as a share of the box's size.
    pub margin: f32,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            threshold: 0.5,
            min_foreground: 0.01,
            margin: 0.02,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MaskSource {
    /// The image's own alpha channel.
    Alpha,
    /// A saliency model.
    Model,
}

/// What the rest of the pipeline got from the segment stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CutoutUse {
    /// The product was cut out of its background.
    Cutout,
    /// The mask was (nearly) empty: the whole image is searched.
    Fallback,
}

impl std::fmt::Display for CutoutUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CutoutUse::Cutout => "cutout",
            CutoutUse::Fallback => "fallback",
        })
    }
}

/// What the segment stage did, for the result and the designer view.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SegmentationInfo {
    pub source: MaskSource,
    /// The model that made the mask (`None` for alpha).
    pub model: Option<String>,
    pub used: CutoutUse,
    pub fallback_reason: Option<String>,
    /// Share of the image above the threshold.
    pub foreground: f32,
    /// Crop box in working-image pixels: [x, y, width, height].
    pub bbox: [u32; 4],
}

impl SegmentationInfo {
    /// How a catalog product was cut out, as `catalog.json` records it: "alpha", the model's id,
    /// or "fallback".
    pub fn label(&self) -> String {
        match (self.used, self.source, &self.model) {
            (CutoutUse::Fallback, ..) => "fallback".into(),
            (_, MaskSource::Alpha, _) => "alpha".into(),
            (_, MaskSource::Model, model) => model.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Segmentation {
    /// Soft mask, 0..255, same size as the working image.
    pub mask: GrayImage,
    /// The cropped product: RGBA with background pixels transparent.
    pub cutout: RgbaImage,
    pub info: SegmentationInfo,
}

/// Runs a saliency model and returns its mask resized to the image's size.
pub fn saliency(model: &LoadedModel, image: &RgbaImage) -> Result<GrayImage> {
    let out_spec = model
        .spec
        .outputs
        .iter()
        .find(|o| o.kind == OutputKind::Saliency)
        .ok_or_else(|| EngineError::ModelMismatch {
            model: model.id.clone(),
            detail: "no saliency output".into(),
        })?;
    let outputs = model.run(image)?;
    let map = &outputs[&out_spec.name];
    let (h, w) = (
        map.dims[map.dims.len() - 2] as u32,
        map.dims[map.dims.len() - 1] as u32,
    );
    let small = GrayImage::from_fn(w, h, |x, y| {
        let v = map.data[(y * w + x) as usize].clamp(0.0, 1.0);
        Luma([(v * 255.0).round() as u8])
    });
    Ok(resample::gray(
        &small,
        image.width(),
        image.height(),
        Interpolation::Bilinear,
    ))
}

pub fn segment(
    decoded: &Decoded,
    model: Option<&LoadedModel>,
    opts: &SegmentOptions,
) -> Result<Segmentation> {
    let image = &decoded.image;
    let (mask, source, model_id) = if decoded.info.alpha_cutout {
        let alpha = GrayImage::from_fn(image.width(), image.height(), |x, y| {
            Luma([image.get_pixel(x, y)[3]])
        });
        (alpha, MaskSource::Alpha, None)
    } else {
        let model = model.ok_or_else(|| {
            EngineError::Internal(
                "an image without alpha reached segment() with no segmenter".into(),
            )
        })?;
        (
            saliency(model, image)?,
            MaskSource::Model,
            Some(model.id.clone()),
        )
    };
    Ok(cut_out(image, mask, source, model_id, opts))
}

/// Thresholds `mask`, finds the tight box and builds the cut-out (or the whole-image fallback).
pub fn cut_out(
    image: &RgbaImage,
    mask: GrayImage,
    source: MaskSource,
    model: Option<String>,
    opts: &SegmentOptions,
) -> Segmentation {
    let cut = threshold_u8(opts.threshold);
    let fg = foreground_share(&mask, cut);
    let bbox = tight_box(&mask, cut);
    let (w, h) = image.dimensions();
    match bbox {
        Some(b) if fg >= opts.min_foreground => {
            let [x, y, bw, bh] = expand(b, opts.margin, w, h);
            let cutout = RgbaImage::from_fn(bw, bh, |cx, cy| {
                let mut p = *image.get_pixel(x + cx, y + cy);
                if mask.get_pixel(x + cx, y + cy)[0] < cut {
                    p[3] = 0;
                }
                p
            });
            Segmentation {
                mask,
                cutout,
                info: SegmentationInfo {
                    source,
                    model,
                    used: CutoutUse::Cutout,
                    fallback_reason: None,
                    foreground: fg,
                    bbox: [x, y, bw, bh],
                },
            }
        }
        _ => {
            let reason = format!(
                "mask covers {:.1}% of the image (minimum {:.1}%): searching the whole image",
                fg * 100.0,
                opts.min_foreground * 100.0
            );
            Segmentation {
                cutout: opaque(image),
                mask,
                info: SegmentationInfo {
                    source,
                    model,
                    used: CutoutUse::Fallback,
                    fallback_reason: Some(reason),
                    foreground: fg,
                    bbox: [0, 0, w, h],
                },
            }
        }
    }
}

/// No segmentation at all: the whole image as a viewer sees it (transparent pixels get the
/// model's background colour, as everywhere), with a full mask: the plain baseline.
pub fn whole_frame(image: &RgbaImage, reason: &str) -> Segmentation {
    let (w, h) = image.dimensions();
    Segmentation {
        cutout: image.clone(),
        mask: GrayImage::from_pixel(w, h, Luma([255])),
        info: SegmentationInfo {
            source: MaskSource::Model,
            model: None,
            used: CutoutUse::Fallback,
            fallback_reason: Some(reason.to_string()),
            foreground: 1.0,
            bbox: [0, 0, w, h],
        },
    }
}

fn opaque(image: &RgbaImage) -> RgbaImage {
    let mut out = image.clone();
    out.pixels_mut().for_each(|p| p[3] = 255);
    out
}

/// The soft mask value (0..255) from which a pixel counts as foreground.
pub fn threshold_u8(threshold: f32) -> u8 {
    (threshold.clamp(0.0, 1.0) * 255.0).round().max(1.0) as u8
}

pub fn foreground_share(mask: &GrayImage, cut: u8) -> f32 {
    let total = (mask.width() as usize * mask.height() as usize).max(1);
    mask.pixels().filter(|p| p[0] >= cut).count() as f32 / total as f32
}

/// Smallest [x, y, w, h] holding every foreground pixel.
pub fn tight_box(mask: &GrayImage, cut: u8) -> Option<[u32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in mask.enumerate_pixels() {
        if p[0] >= cut {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    (x0 != u32::MAX).then(|| [x0, y0, x1 - x0 + 1, y1 - y0 + 1])
}

fn expand([x, y, w, h]: [u32; 4], margin: f32, max_w: u32, max_h: u32) -> [u32; 4] {
    let mx = (w as f32 * margin).round() as u32;
    let my = (h as f32 * margin).round() as u32;
    let nx = x.saturating_sub(mx);
    let ny = y.saturating_sub(my);
    let nx1 = (x + w + mx).min(max_w);
    let ny1 = (y + h + my).min(max_h);
    [nx, ny, nx1 - nx, ny1 - ny]
}

/// Intersection over union of two masks at `cut` (two empty masks agree: 1).
pub fn mask_iou(a: &GrayImage, b: &GrayImage, cut: u8) -> f32 {
    iou(a
        .pixels()
        .zip(b.pixels())
        .map(|(pa, pb)| (pa[0] >= cut, pb[0] >= cut)))
    .unwrap_or(1.0)
}

/// Intersection over union of paired foreground flags; `None` when neither side has any.
pub fn iou(pairs: impl Iterator<Item = (bool, bool)>) -> Option<f32> {
    let (mut inter, mut union) = (0u64, 0u64);
    for (a, b) in pairs {
        inter += u64::from(a && b);
        union += u64::from(a || b);
    }
    (union > 0).then(|| inter as f32 / union as f32)
}

/// Masks for the mask stages' tests (segment, objects, refine).
#[cfg(test)]
pub(crate) mod test_masks {
    use image::{GrayImage, Luma};

    /// A `w` x `h` mask, 255 inside any of `boxes` (`[x, y, w, h]`), 0 elsewhere.
    pub fn mask_with(w: u32, h: u32, boxes: &[[u32; 4]]) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let inside = boxes
                .iter()
                .any(|&[bx, by, bw, bh]| x >= bx && x < bx + bw && y >= by && y < by + bh);
            Luma([if inside { 255 } else { 0 }])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn square_mask(size: u32, from: u32, to: u32, value: u8) -> GrayImage {
        GrayImage::from_fn(size, size, |x, y| {
            Luma([if (from..to).contains(&x) && (from..to).contains(&y) {
                value
            } else {
                0
            }])
        })
    }

    #[test]
    fn threshold_decides_foreground() {
        let soft = square_mask(10, 2, 6, 120);
        assert_eq!(
            foreground_share(&soft, threshold_u8(0.5)),
            0.0,
            "120/255 is below 0.5"
        );
        assert_eq!(
            foreground_share(&soft, threshold_u8(0.4)),
            0.16,
            "16 of 100 pixels"
        );
        assert_eq!(tight_box(&soft, threshold_u8(0.4)), Some([2, 2, 4, 4]));
        assert_eq!(tight_box(&soft, threshold_u8(0.5)), None);
    }

    #[test]
    fn cutout_is_cropped_and_transparent_outside_the_mask() {
        let img = RgbaImage::from_pixel(100, 100, Rgba([50, 60, 70, 255]));
        let mask = GrayImage::from_fn(100, 100, |x, y| {
            Luma([
                if (20..60).contains(&x) && (30..50).contains(&y) && x != 40 {
                    255
                } else {
                    0
                },
            ])
        });
        let seg = cut_out(
            &img,
            mask,
            MaskSource::Model,
            Some("m".into()),
            &SegmentOptions {
                margin: 0.0,
                ..Default::default()
            },
        );
        assert_eq!(seg.info.used, CutoutUse::Cutout);
        assert_eq!(seg.info.bbox, [20, 30, 40, 20]);
        assert_eq!(seg.cutout.dimensions(), (40, 20));
        assert_eq!(seg.cutout.get_pixel(0, 0)[3], 255);
        assert_eq!(
            seg.cutout.get_pixel(20, 5)[3],
            0,
            "the x=40 column is background"
        );
    }

    #[test]
    fn empty_mask_falls_back_to_the_whole_image() {
        let img = RgbaImage::from_pixel(50, 40, Rgba([1, 2, 3, 255]));
        let nearly_empty = square_mask(50, 0, 2, 255); // 4 pixels of 2000 = 0.2%
        let seg = cut_out(
            &img,
            nearly_empty,
            MaskSource::Model,
            None,
            &SegmentOptions::default(),
        );
        assert_eq!(seg.info.used, CutoutUse::Fallback);
        assert!(
            seg.info
                .fallback_reason
                .as_deref()
                .unwrap()
                .contains("0.2%")
        );
        assert_eq!(seg.cutout.dimensions(), (50, 40));
        assert_eq!(seg.info.bbox, [0, 0, 50, 40]);
    }

    #[test]
    fn margin_stays_inside_the_image() {
        assert_eq!(expand([0, 0, 10, 10], 0.5, 12, 12), [0, 0, 12, 12]);
        assert_eq!(expand([10, 10, 10, 10], 0.1, 100, 100), [9, 9, 12, 12]);
    }

    #[test]
    fn iou_of_overlapping_squares() {
        let a = square_mask(10, 0, 4, 255);
        let b = square_mask(10, 2, 6, 255);
        // 4 shared of 16+16-4 = 28
        assert!((mask_iou(&a, &b, 128) - 4.0 / 28.0).abs() < 1e-6);
        assert_eq!(mask_iou(&a, &a, 128), 1.0);
    }
}
