//! Stage 1, decode: bytes -> RGBA at a bounded working resolution, EXIF orientation applied,
//! alpha kept. Refuses decompression bombs before allocating, and names what it cannot read.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbaImage};
use serde::Serialize;

use crate::error::{EngineError, Result};
use crate::models::manifest::Interpolation;
use crate::models::resample;

#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Refuse images with more pixels than this (checked from the header, before decoding).
    pub max_pixels: u64,
    /// Longest side of the working image every later stage sees (the network inputs are <= 320 px).
    pub working_max_side: u32,
    /// Smallest accepted side.
    pub min_side: u32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_pixels: 50_000_000,
            working_max_side: 1024,
            min_side: 16,
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
    if let Ok(size) = imagesize::blob_size(bytes) {
        check_pixels(
            size.width.min(u32::MAX as usize) as u32,
            size.height.min(u32::MAX as usize) as u32,
            opts,
        )?;
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(EngineError::CorruptImage {
            format: format_name,
            detail: "file is truncated (no end-of-image marker after the image data)".into(),
        });
    }
    let mut limits = Limits::default();
    // 16 bytes a pixel covers 16-bit RGBA; anything past that is a bomb.
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(16).max(1 << 20));
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, &format_name))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, opts)?;
    if width.min(height) < opts.min_side {
        return Err(EngineError::ImageTooSmall {
            width,
            height,
            min: opts.min_side,
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let has_alpha_channel = decoder.color_type().has_alpha();
    let img = DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(e, &format_name))?;
    // shrink first: rotating a 12 MP photo costs more than rotating its working-size copy
    let mut img = DynamicImage::ImageRgba8(shrink(img.into_rgba8(), opts.working_max_side));
    img.apply_orientation(orientation);
    let image = img.into_rgba8();
    let alpha_cutout = has_alpha_channel && is_cutout(&image);
    let info = ImageInfo {
        format: format_name,
        width: image.width(),
        height: image.height(),
        exif_orientation: orientation.to_exif(),
        alpha_cutout,
    };
    Ok(Decoded { image, info })
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
fn check_pixels(width: u32, height: u32, opts: &DecodeOptions) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > opts.max_pixels {
        return Err(EngineError::ImageTooLarge {
            width,
            height,
            pixels,
            limit: opts.max_pixels,
        });
    }
    Ok(())
}

/// Fits the image inside a `max_side` square, keeping its aspect ratio (never enlarges).
fn shrink(img: RgbaImage, max_side: u32) -> RgbaImage {
    let (w, h) = resample::fit(img.dimensions(), max_side);
    resample::rgba(&img, w, h, Interpolation::Bilinear)
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
