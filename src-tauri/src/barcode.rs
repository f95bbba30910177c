//! Desktop barcode reading: an EAN/UPC code in a picked photo, decoded with `rxing` (a Rust port of
//! ZXing). Phones use the barcode-scanner plugin's live camera scan instead.

use lookalike_engine::stages::decode::{DecodeOptions, decode as decode_image};
use serde::Serialize;

use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
#[ts(rename = "DecodedBarcode")]
pub struct Barcode {
    pub text: String,
    pub format: String,
}

/// `Ok(None)` when the photo holds no readable barcode.
pub fn decode(bytes: &[u8]) -> Result<Option<Barcode>, ApiError> {
    let image = decode_image(
        bytes,
        &DecodeOptions {
            working_max_side: 2048,
            ..Default::default()
        },
    )?
    .image;
    let luma = image::DynamicImage::ImageRgba8(image).into_luma8();
    let (w, h) = luma.dimensions();
    match rxing::helpers::detect_in_luma(luma.into_raw(), w, h, None) {
        Ok(found) => Ok(Some(Barcode {
            text: found.getText().to_string(),
            format: found.getBarcodeFormat().to_string(),
        })),
        Err(_) => Ok(None),
    }
}
