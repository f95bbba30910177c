//! Turns an RGBA image into a model's input tensor, driven only by the manifest's `InputSpec`
//! (composite -> resize -> scale -> mean/std -> NCHW). No model has code of its own here.

use image::imageops;
use image::{Rgb, RgbImage, RgbaImage};

use super::manifest::{InputSpec, ResizeMode, Scale};
use super::resample;

/// Composites transparent pixels onto `background` (the removed background becomes a plain colour).
pub fn composite(img: &RgbaImage, background: [u8; 3]) -> RgbImage {
    let mut out = RgbImage::new(img.width(), img.height());
    for (dst, src) in out.pixels_mut().zip(img.pixels()) {
        let a = u32::from(src[3]);
        let blend =
            |c: u8, bg: u8| ((u32::from(c) * a + u32::from(bg) * (255 - a) + 127) / 255) as u8;
        *dst = Rgb([
            blend(src[0], background[0]),
            blend(src[1], background[1]),
            blend(src[2], background[2]),
        ]);
    }
    out
}

/// Geometric part of the preprocessing: the exact pixels the model will see.
pub fn resize_for(img: &RgbImage, spec: &InputSpec) -> RgbImage {
    let (w, h) = (spec.width, spec.height);
    let f = spec.interpolation;
    match spec.resize {
        ResizeMode::Stretch => resample::rgb(img, w, h, f),
        ResizeMode::ShorterSideThenCenterCrop => {
            let shorter = spec.resize_shorter.unwrap_or(w.max(h)).max(w.max(h));
            let scale = shorter as f32 / img.width().min(img.height()).max(1) as f32;
            let nw = ((img.width() as f32 * scale).round() as u32).max(w);
            let nh = ((img.height() as f32 * scale).round() as u32).max(h);
            let resized = resample::rgb(img, nw, nh, f);
            imageops::crop_imm(&resized, (nw - w) / 2, (nh - h) / 2, w, h).to_image()
        }
        ResizeMode::Letterbox => {
            let scale =
                (w as f32 / img.width().max(1) as f32).min(h as f32 / img.height().max(1) as f32);
            let nw = ((img.width() as f32 * scale).round() as u32).clamp(1, w);
            let nh = ((img.height() as f32 * scale).round() as u32).clamp(1, h);
            let resized = resample::rgb(img, nw, nh, f);
            let mut canvas = RgbImage::from_pixel(w, h, Rgb(spec.background));
            imageops::replace(
                &mut canvas,
                &resized,
                i64::from((w - nw) / 2),
                i64::from((h - nh) / 2),
            );
            canvas
        }
    }
}

/// The full preprocessing: a `[1, 3, height, width]` f32 tensor, row-major.
pub fn to_tensor(img: &RgbaImage, spec: &InputSpec) -> Vec<f32> {
    let rgb = resize_for(&composite(img, spec.background), spec);
    let divisor = match spec.scale {
        Scale::Unit => 255.0,
        Scale::ImageMax => f32::from(rgb.as_raw().iter().copied().max().unwrap_or(0).max(1)),
    };
    let plane = (spec.width * spec.height) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in rgb.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (f32::from(px[c]) / divisor - spec.mean[c]) / spec.std[c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::manifest::Interpolation;
    use image::Rgba;

    fn spec(resize: ResizeMode, scale: Scale) -> InputSpec {
        InputSpec {
            name: "x".into(),
            width: 4,
            height: 2,
            resize,
            resize_shorter: Some(4),
            interpolation: Interpolation::Nearest,
            scale,
            mean: [0.5, 0.5, 0.5],
            std: [0.5, 0.25, 0.5],
            background: [255, 255, 255],
        }
    }

    #[test]
    fn transparent_pixels_take_the_background() {
        let mut img = RgbaImage::from_pixel(2, 1, Rgba([10, 20, 30, 255]));
        img.put_pixel(1, 0, Rgba([10, 20, 30, 0]));
        let out = composite(&img, [255, 0, 7]);
        assert_eq!(out.get_pixel(0, 0), &Rgb([10, 20, 30]));
        assert_eq!(out.get_pixel(1, 0), &Rgb([255, 0, 7]));
    }

    #[test]
    fn tensor_is_nchw_and_normalised() {
        let img = RgbaImage::from_pixel(8, 4, Rgba([255, 0, 255, 255]));
        let t = to_tensor(&img, &spec(ResizeMode::Stretch, Scale::Unit));
        assert_eq!(t.len(), 3 * 4 * 2);
        assert!(
            t[..8].iter().all(|v| (*v - 1.0).abs() < 1e-6),
            "R plane: (1-0.5)/0.5"
        );
        assert!(
            t[8..16].iter().all(|v| (*v + 2.0).abs() < 1e-6),
            "G plane: (0-0.5)/0.25"
        );
    }

    #[test]
    fn image_max_scaling_divides_by_the_brightest_value() {
        let img = RgbaImage::from_pixel(4, 2, Rgba([100, 50, 0, 255]));
        let t = to_tensor(&img, &spec(ResizeMode::Stretch, Scale::ImageMax));
        assert!((t[0] - 1.0).abs() < 1e-6); // 100/100 -> (1-0.5)/0.5
        assert!((t[8] - 0.0).abs() < 1e-6); // 50/100 -> (0.5-0.5)/0.25
    }

    #[test]
    fn center_crop_and_letterbox_keep_aspect() {
        // left half red, right half blue, 8x2
        let mut img = RgbImage::from_pixel(8, 2, Rgb([255, 0, 0]));
        for x in 4..8 {
            for y in 0..2 {
                img.put_pixel(x, y, Rgb([0, 0, 255]));
            }
        }
        let crop = resize_for(
            &img,
            &spec(ResizeMode::ShorterSideThenCenterCrop, Scale::Unit),
        );
        assert_eq!(crop.dimensions(), (4, 2));
        let mut letter_spec = spec(ResizeMode::Letterbox, Scale::Unit);
        letter_spec.width = 8;
        letter_spec.height = 8;
        let boxed = resize_for(&img, &letter_spec);
        assert_eq!(boxed.dimensions(), (8, 8));
        assert_eq!(
            boxed.get_pixel(0, 0),
            &Rgb([255, 255, 255]),
            "padding is background"
        );
        assert_eq!(boxed.get_pixel(0, 4), &Rgb([255, 0, 0]));
        assert_eq!(boxed.get_pixel(7, 4), &Rgb([0, 0, 255]));
    }
}
