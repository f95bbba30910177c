//! Stage 1, decode: bytes -> RGBA at a bounded working resolution, EXIF orientation applied,
//! alpha kept. Refuses decompression bombs before allocating, and names what it cannot read.
//! Large JPEGs (phone photos) are decoded at the smallest DCT scale that still covers the working
//! size, so a 48 MP photo never exists at full size in memory.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbaImage};
use serde::Serialize;

use crate::error::{EngineError, Result};
use crate::models::manifest::Interpolation;
use crate::models::resample;

#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// The most pixels a decoder may allocate. Checked from the header, before decoding: full-size
    /// decodes allocate every pixel; a JPEG decoded at 1/2 scale or less (baseline: decoded in
    /// strips, at the output size) may have up to 4x as many in its header.
    pub max_pixels: u64,
    /// Longest side of the working image every later stage sees (the network inputs are <= 320 px).
    pub working_max_side: u32,
    /// Smallest accepted side.
    pub min_side: u32,
    /// Decode large JPEGs at a reduced DCT scale (off: always at full size, then shrink; for
    /// measuring the difference).
    pub scaled_jpeg: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_pixels: 50_000_000,
            working_max_side: 1024,
            min_side: 16,
            scaled_jpeg: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ImageInfo {
    pub format: String,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation value that was applied (1 = none).
    pub exif_orientation: u8,
    /// The image carries a real transparent cut-out (used instead of the segmenter).
    pub alpha_cutout: bool,
}

#[derive(Debug, Clone)]
pub struct Decoded {
    /// Upright, at most `working_max_side` on its longest side.
    pub image: RgbaImage,
    pub info: ImageInfo,
}

/// The formats the engine decodes, whatever else the `image` crate may have been built with.
pub const DECODED: [ImageFormat; 6] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Gif,
    ImageFormat::Tiff,
    ImageFormat::Bmp,
];
const SUPPORTED: &str = "supported: JPEG, PNG, WebP, GIF, TIFF, BMP";

pub fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Decoded> {
    // The decoders are third-party code fed hostile bytes: should one still panic on a file the
    // checks below do not catch (fuzzing found one in png 0.18.1), the user gets an error, not a
    // crashed app. (A fuzz target still sees the panic: libFuzzer's hook aborts on every panic.)
    guarded(bytes, || decode_checked(bytes, opts))
}

fn guarded(bytes: &[u8], decode: impl FnOnce() -> Result<Decoded>) -> Result<Decoded> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|_| {
        let format = image::guess_format(bytes).map_or_else(|_| "image".into(), format_name);
        Err(EngineError::CorruptImage {
            format,
            detail: "the decoder failed on this file: it is damaged or uses a feature the \
                         decoder does not handle"
                .into(),
        })
    })
}

fn decode_checked(bytes: &[u8], opts: &DecodeOptions) -> Result<Decoded> {
    if bytes.is_empty() {
        return Err(EngineError::EmptyInput);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| EngineError::io("reading image bytes", e))?;
    let Some(format) = reader.format() else {
        return Err(EngineError::UnsupportedFormat(sniff_unsupported(bytes)));
    };
    if !DECODED.contains(&format) {
        // recognised, but not one we decode (AVIF, ICO, QOI, ...): say what it is and what to do
        let what = if format == ImageFormat::Avif {
            sniff_unsupported(bytes)
        } else {
            format!(
                "{} images are not supported ({SUPPORTED})",
                format_name(format)
            )
        };
        return Err(EngineError::UnsupportedFormat(what));
    }
    let format_name = format_name(format);
    // Header-only size check first: a bomb is refused even when its data is cut short.
    let header_limit = if format == ImageFormat::Jpeg {
        opts.max_pixels.saturating_mul(SCALED_JPEG_FACTOR)
    } else {
        opts.max_pixels
    };
    if let Ok(size) = imagesize::blob_size(bytes) {
        check_pixels(
            size.width.min(u32::MAX as usize) as u32,
            size.height.min(u32::MAX as usize) as u32,
            header_limit,
        )?;
    }
    if format == ImageFormat::Png
        && let Some(detail) = png_palette_problem(bytes)
    {
        return Err(EngineError::CorruptImage {
            format: format_name,
            detail,
        });
    }
    if format == ImageFormat::Jpeg {
        if !jpeg_is_complete(bytes) {
            return Err(EngineError::CorruptImage {
                format: format_name,
                detail: "file is truncated (no end-of-image marker after the image data)".into(),
            });
        }
        if opts.scaled_jpeg
            && let Some(d) = jpeg_scaled(bytes, opts)?
        {
            return Ok(d);
        }
    }
    let mut limits = Limits::default();
    // 16 bytes a pixel covers 16-bit RGBA; anything past that is a bomb.
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(16).max(1 << 20));
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, &format_name))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, opts.max_pixels)?;
    if width.min(height) < opts.min_side {
        return Err(EngineError::ImageTooSmall {
            width,
            height,
            min: opts.min_side,
        });
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let has_alpha_channel = decoder.color_type().has_alpha();
    let img = DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(e, &format_name))?;
    Ok(finish(
        img,
        orientation,
        has_alpha_channel,
        format_name,
        opts,
    ))
}

/// What every decoder's output goes through: shrunk to the working size, then turned upright
/// (rotating a 12 MP photo costs more than rotating its working-size copy).
fn finish(
    img: DynamicImage,
    orientation: Orientation,
    has_alpha_channel: bool,
    format: String,
    opts: &DecodeOptions,
) -> Decoded {
    let mut img = DynamicImage::ImageRgba8(working_rgba(img, opts.working_max_side));
    img.apply_orientation(orientation);
    let image = img.into_rgba8();
    let alpha_cutout = has_alpha_channel && is_cutout(&image);
    let info = ImageInfo {
        format,
        width: image.width(),
        height: image.height(),
        exif_orientation: orientation.to_exif(),
        alpha_cutout,
    };
    Decoded { image, info }
}

/// How many more header pixels a JPEG decoded at 1/2 scale or less may have than `max_pixels`
/// (its output has at most a quarter of them).
const SCALED_JPEG_FACTOR: u64 = 4;

/// A JPEG whose longest side is at least twice the working size, decoded at the smallest DCT
/// scale (1/2, 1/4, 1/8) whose output still covers the working size; `None` when the file is not
/// one (small, CMYK, 16-bit, lossless), or when this decoder cannot read it: the full-size path
/// then decodes it, or says why it cannot, in the same words as for every other JPEG.
fn jpeg_scaled(bytes: &[u8], opts: &DecodeOptions) -> Result<Option<Decoded>> {
    use jpeg_decoder::{CodingProcess, Decoder, PixelFormat};
    let mut decoder = Decoder::new(bytes);
    if decoder.read_info().is_err() {
        return Ok(None);
    }
    let Some(info) = decoder.info() else {
        return Ok(None);
    };
    let gray = match info.pixel_format {
        PixelFormat::L8 => true,
        PixelFormat::RGB24 => false,
        PixelFormat::L16 | PixelFormat::CMYK32 => return Ok(None),
    };
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (want_w, want_h) = resample::fit((width, height), opts.working_max_side);
    // requested size must fit u16: it is at most the working size, itself below the JPEG maximum
    let (Ok(want_w), Ok(want_h)) = (u16::try_from(want_w), u16::try_from(want_h)) else {
        return Ok(None);
    };
    let Ok((out_w, out_h)) = decoder.scale(want_w, want_h) else {
        return Ok(None);
    };
    let (out_w, out_h) = (u32::from(out_w), u32::from(out_h));
    if (out_w, out_h) == (width, height) {
        return Ok(None);
    }
    // progressive files keep every DCT coefficient of the full image until the last scan
    if info.coding_process != CodingProcess::DctSequential {
        check_pixels(width, height, opts.max_pixels)?;
    }
    check_pixels(out_w, out_h, opts.max_pixels)?;
    if out_w.min(out_h) < opts.min_side {
        return Ok(None);
    }
    let channels: u64 = if gray { 1 } else { 3 };
    let budget = u64::from(out_w) * u64::from(out_h) * channels;
    decoder.set_max_decoding_buffer_size(usize::try_from(budget).unwrap_or(usize::MAX));
    let Ok(pixels) = decoder.decode() else {
        return Ok(None);
    };
    let img = if gray {
        image::GrayImage::from_raw(out_w, out_h, pixels).map(DynamicImage::ImageLuma8)
    } else {
        image::RgbImage::from_raw(out_w, out_h, pixels).map(DynamicImage::ImageRgb8)
    };
    let Some(img) = img else {
        return Ok(None);
    };
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    Ok(Some(finish(
        img,
        orientation,
        false,
        format_name(ImageFormat::Jpeg),
        opts,
    )))
}

/// A palette (PLTE chunk) that is not 1-256 whole RGB entries. The png crate (0.18.1) panics
/// expanding one whose length is not a multiple of 3 (found by the `decode` fuzz target); the PNG
/// specification calls such a file an error. Walks the chunks up to the image data.
fn png_palette_problem(bytes: &[u8]) -> Option<String> {
    let mut at = 8; // after the signature
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"PLTE" if len == 0 || !len.is_multiple_of(3) || len > 768 => {
                return Some(format!(
                    "the file is damaged: its palette (PLTE chunk) is {len} bytes, not 1-256 RGB \
                     colours of 3 bytes each"
                ));
            }
            b"IDAT" | b"IEND" => return None,
            _ => {}
        }
        at = at.checked_add(12)?.checked_add(len)?;
    }
    None
}

/// JPEG decoders fill a truncated scan with grey instead of failing; a complete file has an EOI
/// marker (FF D9) after its last start-of-scan (FF DA). Entropy-coded data cannot contain either
/// (0xFF bytes are stuffed), so an EXIF thumbnail's markers, which come earlier, do not fool this.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let last_eoi = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_sos, last_eoi), (Some(s), Some(e)) if e > s)
}

/// Refuses images with more pixels than the limit (from the header or the decoder's dimensions).
fn check_pixels(width: u32, height: u32, limit: u64) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limit {
        return Err(EngineError::ImageTooLarge {
            width,
            height,
            pixels,
            limit,
        });
    }
    Ok(())
}

/// Fits the image inside a `max_side` square, keeping its aspect ratio (never enlarges), as
/// RGBA. Opaque RGB and grey images are shrunk before the conversion: a quarter fewer bytes to
/// filter than RGBA (alpha is resized premultiplied), and no full-size RGBA copy.
fn working_rgba(img: DynamicImage, max_side: u32) -> RgbaImage {
    let (w, h) = resample::fit((img.width(), img.height()), max_side);
    if (w, h) == (img.width(), img.height()) {
        return img.into_rgba8();
    }
    match img {
        DynamicImage::ImageRgb8(rgb) => {
            DynamicImage::ImageRgb8(resample::rgb(&rgb, w, h, Interpolation::Bilinear)).into_rgba8()
        }
        DynamicImage::ImageLuma8(g) => {
            DynamicImage::ImageLuma8(resample::gray(&g, w, h, Interpolation::Bilinear)).into_rgba8()
        }
        other => resample::rgba(&other.into_rgba8(), w, h, Interpolation::Bilinear),
    }
}

/// A real cut-out has both a clearly transparent and a clearly opaque part
/// (an RGBA file that is opaque everywhere is just a photo).
fn is_cutout(img: &RgbaImage) -> bool {
    let total = (img.width() as usize * img.height() as usize).max(1);
    let (mut clear, mut solid) = (0usize, 0usize);
    for p in img.pixels() {
        match p[3] {
            0..=15 => clear += 1,
            240..=255 => solid += 1,
            _ => {}
        }
    }
    clear * 50 >= total && solid * 50 >= total
}

fn format_name(f: ImageFormat) -> String {
    f.extensions_str()
        .first()
        .map_or_else(|| format!("{f:?}"), |e| e.to_uppercase())
        .replace("JPG", "JPEG")
}

fn map_image_error(e: ImageError, format: &str) -> EngineError {
    match e {
        ImageError::Limits(l) => EngineError::CorruptImage {
            format: format.into(),
            detail: format!("refused by decoder limits (likely a decompression bomb): {l}"),
        },
        ImageError::Unsupported(u) => EngineError::UnsupportedFormat(format!("{format}: {u}")),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            EngineError::CorruptImage {
                format: format.into(),
                detail: "file is truncated".into(),
            }
        }
        other => EngineError::CorruptImage {
            format: format.into(),
            detail: corrupt_detail(&other.to_string()),
        },
    }
}

/// The decoders' wording for the two common kinds of damage, said in words a person can use.
fn corrupt_detail(text: &str) -> String {
    if text.contains("CRC error") {
        "the file is damaged: a checksum (CRC) does not match its data".into()
    } else if text.contains("deflate") {
        "the file is damaged: its compressed image data cannot be unpacked".into()
    } else {
        text.into()
    }
}

/// Names formats we recognise but do not decode, so the message says what the file is.
fn sniff_unsupported(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(64)];
    let brand = if head.len() >= 12 && &head[4..8] == b"ftyp" {
        Some(&head[8..12])
    } else {
        None
    };
    let text_start = String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
        .trim_start()
        .to_ascii_lowercase();
    match brand {
        Some(b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1") => {
            "HEIC/HEIF (convert the photo to JPEG; most phones offer 'most compatible' capture)"
                .into()
        }
        Some(b"avif" | b"avis") => "AVIF (convert to JPEG, PNG or WebP)".into(),
        Some(_) => "ISO media file (video?), not an image".into(),
        None if text_start.starts_with("<svg")
            || (text_start.starts_with("<?xml") && text_start.contains("<svg")) =>
        {
            "SVG vector drawing (export it as PNG)".into()
        }
        None if head.starts_with(b"%PDF") => "PDF document, not an image".into(),
        None if !head.is_empty()
            && bytes
                .iter()
                .take(512)
                .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) =>
        {
            "text file, not an image".into()
        }
        None => format!("not a recognised image ({SUPPORTED})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgba};

    fn png(img: &RgbaImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                img,
                img.width(),
                img.height(),
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        out
    }

    #[test]
    fn decodes_png_and_detects_cutout() {
        let mut img = RgbaImage::from_pixel(40, 40, Rgba([0, 0, 0, 0]));
        for y in 10..30 {
            for x in 10..30 {
                img.put_pixel(x, y, Rgba([200, 10, 10, 255]));
            }
        }
        let d = decode(&png(&img), &DecodeOptions::default()).unwrap();
        assert_eq!(d.info.format, "PNG");
        assert!(d.info.alpha_cutout);
        let opaque = RgbaImage::from_pixel(40, 40, Rgba([1, 2, 3, 255]));
        assert!(
            !decode(&png(&opaque), &DecodeOptions::default())
                .unwrap()
                .info
                .alpha_cutout
        );
    }

    #[test]
    fn large_images_are_shrunk_to_the_working_size() {
        let img = RgbaImage::from_pixel(3000, 1500, Rgba([9, 9, 9, 255]));
        let d = decode(&png(&img), &DecodeOptions::default()).unwrap();
        assert_eq!((d.image.width(), d.image.height()), (1024, 512));
    }

    #[test]
    fn pixel_limit_is_checked_from_the_header() {
        let img = RgbaImage::from_pixel(100, 100, Rgba([9, 9, 9, 255]));
        let opts = DecodeOptions {
            max_pixels: 5_000,
            ..Default::default()
        };
        let err = decode(&png(&img), &opts).unwrap_err();
        assert!(
            matches!(err, EngineError::ImageTooLarge { pixels: 10_000, .. }),
            "{err}"
        );
    }

    #[test]
    fn non_images_are_named() {
        let err = |b: &[u8]| {
            decode(b, &DecodeOptions::default())
                .unwrap_err()
                .to_string()
        };
        assert!(err(b"").contains("empty"));
        assert!(err(b"hello, this is a note\n").contains("text file"));
        assert!(err(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>").contains("SVG"));
        assert!(err(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").contains("HEIC"));
        assert!(err(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1").contains("AVIF"));
        // recognised by the image crate but not decoded here: named, with what to do instead
        let avif = err(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miafMA1B\0\0\0\0");
        assert!(avif.contains("AVIF (convert to JPEG"), "{avif}");
        let ico = err(b"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0\x20\0\0\0\0\0\x16\0\0\0");
        assert!(ico.contains("ICO images are not supported"), "{ico}");
    }

    #[test]
    fn truncated_png_is_a_clear_error() {
        let img = RgbaImage::from_fn(64, 64, |x, y| Rgba([x as u8 * 4, y as u8 * 4, 7, 255]));
        let bytes = png(&img);
        let err = decode(&bytes[..bytes.len() / 2], &DecodeOptions::default()).unwrap_err();
        assert!(matches!(err, EngineError::CorruptImage { .. }), "{err}");
    }

    #[test]
    fn truncated_jpeg_is_detected() {
        let img =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 7]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode_image(&img)
            .unwrap();
        assert!(jpeg_is_complete(&jpeg));
        assert!(!jpeg_is_complete(&jpeg[..jpeg.len() - 2]));
        let err = decode(&jpeg[..jpeg.len() * 2 / 3], &DecodeOptions::default()).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    /// A JPEG of a smooth scene with texture (so the DCT scale matters), optional EXIF orientation.
    fn jpeg(width: u32, height: u32, orientation: Option<u8>) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
            let stripes = if (x / 7 + y / 11) % 2 == 0 { 30.0 } else { 0.0 };
            image::Rgb([
                (fx * 200.0 + stripes) as u8,
                (fy * 180.0 + 40.0) as u8,
                ((1.0 - fx) * 150.0 + stripes) as u8,
            ])
        });
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        if let Some(o) = orientation {
            // little-endian TIFF with one IFD entry: Orientation (0x0112), SHORT, 1 value
            let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
            exif.extend_from_slice(&[o, 0, 0, 0, 0, 0, 0, 0]);
            enc.set_exif_metadata(exif).unwrap();
        }
        enc.encode_image(&img).unwrap();
        out
    }

    fn mean_abs_diff(a: &RgbaImage, b: &RgbaImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let sum: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        sum as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn large_jpegs_are_decoded_scaled_and_match_the_full_decode() {
        let full = DecodeOptions {
            scaled_jpeg: false,
            ..Default::default()
        };
        let scaled = DecodeOptions::default();
        // 2600x1950: decoded at 1/2 (1300x975), then shrunk to 1024 like the full decode
        let bytes = jpeg(2600, 1950, Some(6));
        assert!(
            jpeg_scaled(&bytes, &scaled).unwrap().is_some(),
            "took the scaled path"
        );
        let (a, b) = (
            decode(&bytes, &scaled).unwrap(),
            decode(&bytes, &full).unwrap(),
        );
        assert_eq!(
            (a.image.width(), a.image.height()),
            (768, 1024),
            "orientation 6 applied"
        );
        assert_eq!(a.info.exif_orientation, 6);
        assert_eq!(a.info.format, "JPEG");
        let diff = mean_abs_diff(&a.image, &b.image);
        assert!(
            diff < 3.0,
            "scaled vs full decode differ by {diff:.2} levels on average"
        );
        // at the working size or up to twice it the full-size path decodes it (no scale fits)
        let small = jpeg(1600, 1200, None);
        assert!(jpeg_scaled(&small, &scaled).unwrap().is_none());
        assert_eq!(
            decode(&small, &scaled).unwrap().image.as_raw(),
            decode(&small, &full).unwrap().image.as_raw()
        );
    }

    #[test]
    fn opaque_images_shrunk_before_the_rgba_conversion_match_the_rgba_shrink() {
        let rgb = image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        });
        let want = resample::rgba(
            &DynamicImage::ImageRgb8(rgb.clone()).into_rgba8(),
            1024,
            768,
            Interpolation::Bilinear,
        );
        let got = working_rgba(DynamicImage::ImageRgb8(rgb), 1024);
        let diff = mean_abs_diff(&got, &want);
        let worst = got
            .as_raw()
            .iter()
            .zip(want.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(worst <= Some(1), "mean {diff}, worst {worst:?}");
    }

    #[test]
    fn scaled_jpegs_may_have_more_header_pixels_than_the_limit_up_to_4x() {
        let opts = DecodeOptions {
            max_pixels: 1_000_000,
            working_max_side: 256,
            ..Default::default()
        };
        // 1800x1200 = 2.16 MP: over the limit at full size; decoded at 1/4 (450x300, the smallest
        // scale that covers 256 px), well under it
        let d = decode(&jpeg(1800, 1200, None), &opts).unwrap();
        assert_eq!((d.image.width(), d.image.height()), (256, 171));
        let off = DecodeOptions {
            scaled_jpeg: false,
            ..opts.clone()
        };
        let err = decode(&jpeg(1800, 1200, None), &off).unwrap_err();
        assert!(
            matches!(
                err,
                EngineError::ImageTooLarge {
                    pixels: 2_160_000,
                    limit: 1_000_000,
                    ..
                }
            ),
            "{err}"
        );
        // past 4x the limit a JPEG is refused from its header
        let err = decode(&jpeg(2500, 1700, None), &opts).unwrap_err();
        assert!(
            matches!(
                err,
                EngineError::ImageTooLarge {
                    pixels: 4_250_000,
                    limit: 4_000_000,
                    ..
                }
            ),
            "{err}"
        );
        // a PNG gets no such allowance: it is decoded at full size
        let png_bytes = png(&RgbaImage::from_pixel(1800, 1200, Rgba([9, 9, 9, 255])));
        assert!(matches!(
            decode(&png_bytes, &opts),
            Err(EngineError::ImageTooLarge { .. })
        ));
    }

    /// `decode` fuzz target, crash-4de0214a72c2 (fuzz/regressions/decode/): a 32x32 palette PNG
    /// whose PLTE chunk is 17 bytes made png 0.18.1 panic (slice index out of range).
    const PNG_17_BYTE_PALETTE: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x04, 0x03, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x50, 0x4c, 0x54, 0x45, 0x00, 0xff, 0x00, 0x40,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x20, 0xe5, 0x77, 0x41, 0x2d,
        0x87, 0x96, 0x77, 0x41, 0x2d, 0x87, 0x96, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0xe5, 0xcf,
        0xb1, 0x11, 0x00, 0x00, 0x08, 0xc2, 0x40, 0x3d, 0x19, 0xc0, 0xfd, 0x37, 0xb5, 0xb3, 0x06,
        0x46, 0x20, 0xe5, 0x77, 0x41, 0x87, 0x96,
    ];

    #[test]
    fn a_palette_of_partial_colours_is_a_clear_error() {
        let err = decode(PNG_17_BYTE_PALETTE, &DecodeOptions::default()).unwrap_err();
        assert!(
            matches!(&err, EngineError::CorruptImage { format, detail }
                if format == "PNG" && detail.contains("PLTE chunk) is 17 bytes")),
            "{err}"
        );
        // the chunk walk: whole palettes pass, partial ones are named wherever they sit
        let chunk = |kind: &[u8], len: usize| {
            let mut c = (len as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend(std::iter::repeat_n(7u8, len + 4)); // data, then a CRC (not checked here)
            c
        };
        let file = |plte: usize| {
            let mut f = b"\x89PNG\r\n\x1a\n".to_vec();
            for (kind, len) in [
                (&b"IHDR"[..], 13),
                (b"tEXt", 20),
                (b"PLTE", plte),
                (b"IDAT", 9),
            ] {
                f.extend(chunk(kind, len));
            }
            f
        };
        assert!(png_palette_problem(&file(6)).is_none());
        assert!(png_palette_problem(&file(768)).is_none());
        for bad in [0, 7, 771] {
            assert!(png_palette_problem(&file(bad)).is_some(), "{bad}");
        }
        assert!(
            png_palette_problem(&png(&RgbaImage::from_pixel(4, 4, Rgba([1, 2, 3, 255])))).is_none()
        );
    }

    #[test]
    fn a_panicking_decoder_becomes_an_error() {
        let err = guarded(PNG_17_BYTE_PALETTE, || panic!("a decoder bug")).unwrap_err();
        assert!(
            matches!(&err, EngineError::CorruptImage { format, detail }
                if format == "PNG" && detail.contains("decoder failed")),
            "{err}"
        );
    }

    #[test]
    fn tiny_images_are_refused() {
        let img = RgbaImage::from_pixel(1, 1, Rgba([9, 9, 9, 255]));
        assert!(matches!(
            decode(&png(&img), &DecodeOptions::default()),
            Err(EngineError::ImageTooSmall {
                width: 1,
                height: 1,
                ..
            })
        ));
    }
}
