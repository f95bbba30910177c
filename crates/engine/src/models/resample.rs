//! Image resizing for every stage (working-size shrink, model inputs, mask upsampling), on
//! `fast_image_resize`: SIMD convolution (AVX2/SSE4.1 on x86-64, NEON on arm64), 5-20x faster
//! than `image::imageops::resize` and alpha-correct (RGBA is resized premultiplied, so
//! transparent pixels do not bleed their colour into the product's edge).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{GrayImage, ImageBuffer, Pixel, RgbImage, RgbaImage};

use super::manifest::Interpolation;

fn algorithm(i: Interpolation) -> ResizeAlg {
    match i {
        Interpolation::Nearest => ResizeAlg::Nearest,
        Interpolation::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
        Interpolation::Bicubic => ResizeAlg::Convolution(FilterType::CatmullRom),
        Interpolation::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
    }
}

fn filter(i: Interpolation) -> image::imageops::FilterType {
    use image::imageops::FilterType as F;
    match i {
        Interpolation::Nearest => F::Nearest,
        Interpolation::Bilinear => F::Triangle,
        Interpolation::Bicubic => F::CatmullRom,
        Interpolation::Lanczos3 => F::Lanczos3,
    }
}

fn resize<P: Pixel<Subpixel = u8> + 'static>(
    img: &ImageBuffer<P, Vec<u8>>,
    width: u32,
    height: u32,
    pixel_type: PixelType,
    interpolation: Interpolation,
) -> ImageBuffer<P, Vec<u8>> {
    let (w, h) = (width.max(1), height.max(1));
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let resized = ImageRef::new(img.width(), img.height(), img.as_raw(), pixel_type)
        .ok()
        .and_then(|src| {
            let mut dst = Image::new(w, h, pixel_type);
            let opts = ResizeOptions::new().resize_alg(algorithm(interpolation));
            Resizer::new().resize(&src, &mut dst, &opts).ok()?;
            ImageBuffer::from_raw(w, h, dst.into_vec())
        });
    // The buffers are sized by `image` itself, so the fast path cannot fail on them; should it
    // ever, the slower `image` resize gives the same picture rather than an error.
    resized.unwrap_or_else(|| image::imageops::resize(img, w, h, filter(interpolation)))
}

/// The size that fits `(width, height)` inside a `max_side` square, aspect kept, never enlarged.
pub fn fit((width, height): (u32, u32), max_side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max_side {
        return (width, height);
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let side = |s: u32| ((f64::from(s) * scale).round() as u32).clamp(1, max_side);
    (side(width), side(height))
}

pub fn rgba(img: &RgbaImage, width: u32, height: u32, i: Interpolation) -> RgbaImage {
    resize(img, width, height, PixelType::U8x4, i)
}

pub fn rgb(img: &RgbImage, width: u32, height: u32, i: Interpolation) -> RgbImage {
    resize(img, width, height, PixelType::U8x3, i)
}

pub fn gray(img: &GrayImage, width: u32, height: u32, i: Interpolation) -> GrayImage {
    resize(img, width, height, PixelType::U8, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb, Rgba};

    #[test]
    fn fit_keeps_the_aspect_and_never_enlarges() {
        assert_eq!(fit((1600, 1200), 1024), (1024, 768));
        assert_eq!(fit((1200, 1600), 1024), (768, 1024));
        assert_eq!(fit((300, 200), 1024), (300, 200));
        assert_eq!(fit((100_000, 10), 1000), (1000, 1));
    }

    #[test]
    fn flat_images_stay_flat_at_any_size() {
        let img = RgbImage::from_pixel(640, 480, Rgb([10, 200, 90]));
        for i in [
            Interpolation::Nearest,
            Interpolation::Bilinear,
            Interpolation::Bicubic,
            Interpolation::Lanczos3,
        ] {
            let small = rgb(&img, 320, 320, i);
            assert_eq!(small.dimensions(), (320, 320));
            assert!(small.pixels().all(|p| *p == Rgb([10, 200, 90])), "{i:?}");
        }
        let up = gray(
            &GrayImage::from_pixel(3, 2, Luma([7])),
            30,
            20,
            Interpolation::Bilinear,
        );
        assert!(up.pixels().all(|p| p[0] == 7));
    }

    #[test]
    fn a_half_step_edge_is_halfway_after_downscaling() {
        // left half black, right half white: the shrunk image keeps the edge in the middle
        let img = GrayImage::from_fn(400, 10, |x, _| Luma([if x < 200 { 0 } else { 255 }]));
        let small = gray(&img, 40, 1, Interpolation::Bilinear);
        assert!(small.get_pixel(5, 0)[0] < 5 && small.get_pixel(35, 0)[0] > 250);
        assert!(small.get_pixel(19, 0)[0] < small.get_pixel(20, 0)[0]);
    }

    #[test]
    fn transparent_pixels_do_not_bleed_into_the_product() {
        // opaque red product next to transparent *green* pixels: no green may appear
        let img = RgbaImage::from_fn(64, 64, |x, _| {
            if x < 32 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 255, 0, 0])
            }
        });
        let small = rgba(&img, 16, 16, Interpolation::Lanczos3);
        for p in small.pixels().filter(|p| p[3] > 0) {
            assert!(p[1] < 8, "green bled into {p:?}");
        }
    }
}
