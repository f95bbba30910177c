//! Rerank signal, colour: a 26-number HSV signature of the product's foreground pixels
//! (18 hue + 4 saturation + 4 value bins) and a similarity between two signatures.
//!
//! Hue is meaningless for greys, so each pixel's hue vote is weighted by its chroma (s * v) and the
//! hue bins are normalised by the pixel count: the hue block sums to the mean chroma, and
//! `1 - sum` is an implicit "achromatic" bin. Two grey products are then as alike in hue as two
//! red ones. Hue votes are split linearly between the two nearest bins (no edge effects at 20 deg).

use image::RgbaImage;

pub const HUE_BINS: usize = 18;
pub const SAT_BINS: usize = 4;
pub const VAL_BINS: usize = 4;
pub const DIMS: usize = HUE_BINS + SAT_BINS + VAL_BINS;
/// Weight of each block in the similarity (hue names the colour; s and v refine it).
const BLOCK_WEIGHTS: [f32; 3] = [0.5, 0.25, 0.25];
/// Pixels with alpha below this are background.
const ALPHA_CUT: u8 = 128;

/// `(h in [0, 360), s in [0, 1], v in [0, 1])`
pub fn rgb_to_hsv(r: u8, g: u8, b: u8) -> (f32, f32, f32) {
    let (r, g, b) = (
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    );
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    let h = if delta <= f32::EPSILON {
        0.0
    } else if max == r {
        60.0 * ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / delta + 2.0)
    } else {
        60.0 * ((r - g) / delta + 4.0)
    };
    let s = if max <= f32::EPSILON {
        0.0
    } else {
        delta / max
    };
    (h.rem_euclid(360.0), s, max)
}

/// The signature of the opaque pixels of `img`; all zeros if none is opaque.
pub fn signature(img: &RgbaImage) -> [f32; DIMS] {
    let mut sig = [0f32; DIMS];
    let mut count = 0u32;
    let bin = |x: f32, n: usize| ((x * n as f32) as usize).min(n - 1);
    for p in img.pixels().filter(|p| p[3] >= ALPHA_CUT) {
        count += 1;
        let (h, s, v) = rgb_to_hsv(p[0], p[1], p[2]);
        let chroma = s * v;
        // bin centres at 10, 30, ... 350 degrees; split the vote between the two nearest
        let pos = h / (360.0 / HUE_BINS as f32) - 0.5;
        let lo = pos.floor();
        let frac = pos - lo;
        let lo = (lo as i32).rem_euclid(HUE_BINS as i32) as usize;
        let hi = (lo + 1) % HUE_BINS;
        sig[lo] += chroma * (1.0 - frac);
        sig[hi] += chroma * frac;
        sig[HUE_BINS + bin(s, SAT_BINS)] += 1.0;
        sig[HUE_BINS + SAT_BINS + bin(v, VAL_BINS)] += 1.0;
    }
    if count > 0 {
        sig.iter_mut().for_each(|x| *x /= count as f32);
    }
    sig
}

/// Similarity in [0, 1]: weighted histogram intersection of the three blocks (1 = same colours).
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), DIMS);
    debug_assert_eq!(b.len(), DIMS);
    let inter = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p.min(*q)).sum::<f32>();
    let (ha, hb) = (&a[..HUE_BINS], &b[..HUE_BINS]);
    let achromatic = (1.0 - ha.iter().sum::<f32>())
        .max(0.0)
        .min((1.0 - hb.iter().sum::<f32>()).max(0.0));
    let hue = inter(ha, hb) + achromatic;
    let s = HUE_BINS + SAT_BINS;
    let sat = inter(&a[HUE_BINS..s], &b[HUE_BINS..s]);
    let val = inter(&a[s..], &b[s..]);
    (BLOCK_WEIGHTS[0] * hue + BLOCK_WEIGHTS[1] * sat + BLOCK_WEIGHTS[2] * val).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn solid(rgb: [u8; 3]) -> RgbaImage {
        RgbaImage::from_pixel(8, 8, Rgba([rgb[0], rgb[1], rgb[2], 255]))
    }

    #[test]
    fn hsv_of_primaries() {
        assert_eq!(rgb_to_hsv(255, 0, 0), (0.0, 1.0, 1.0));
        assert_eq!(rgb_to_hsv(0, 255, 0), (120.0, 1.0, 1.0));
        assert_eq!(rgb_to_hsv(0, 0, 255), (240.0, 1.0, 1.0));
        let (_, s, v) = rgb_to_hsv(128, 128, 128);
        assert_eq!(s, 0.0);
        assert!((v - 128.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn pure_colours_land_in_their_hue_bins() {
        // green, 120 deg = 6.0 bin widths: centre between bins 5 (110) and 6 (130), split evenly
        let g = signature(&solid([0, 255, 0]));
        assert!(
            (g[5] - 0.5).abs() < 1e-5 && (g[6] - 0.5).abs() < 1e-5,
            "{g:?}"
        );
        // 130 deg sits exactly on bin 6's centre
        let c = signature(&solid([0, 255, 43])); // hue ~130
        let top = (0..HUE_BINS)
            .max_by(|a, b| c[*a].total_cmp(&c[*b]))
            .unwrap();
        assert_eq!(top, 6);
        // saturation 1 -> last sat bin; value 1 -> last value bin
        assert_eq!(g[HUE_BINS + SAT_BINS - 1], 1.0);
        assert_eq!(g[DIMS - 1], 1.0);
        // red wraps around: 0 deg is split between bins 17 (350) and 0 (10)
        let r = signature(&solid([255, 0, 0]));
        assert!((r[17] - 0.5).abs() < 1e-5 && (r[0] - 0.5).abs() < 1e-5);
    }

    #[test]
    fn greys_have_no_hue_mass_and_match_each_other() {
        let grey = signature(&solid([128, 128, 128]));
        assert_eq!(grey[..HUE_BINS].iter().sum::<f32>(), 0.0);
        let grey2 = signature(&solid([140, 140, 140]));
        assert!(
            similarity(&grey, &grey2) > 0.99,
            "same value bin, both achromatic"
        );
    }

    #[test]
    fn similarity_orders_colours_sensibly() {
        let red = signature(&solid([220, 20, 20]));
        let dark_red = signature(&solid([150, 10, 10]));
        let blue = signature(&solid([20, 20, 220]));
        let white = signature(&solid([250, 250, 250]));
        assert!((similarity(&red, &red) - 1.0).abs() < 1e-5);
        assert!(similarity(&red, &dark_red) > similarity(&red, &blue));
        assert!(similarity(&red, &blue) < 0.65, "only s and v agree");
        assert!(similarity(&red, &white) < 0.4, "only v agrees");
        assert_eq!(similarity(&red, &blue), similarity(&blue, &red));
    }

    #[test]
    fn transparent_pixels_are_ignored() {
        let mut img = solid([0, 0, 255]);
        for x in 0..4 {
            for y in 0..8 {
                img.put_pixel(x, y, Rgba([255, 0, 0, 0]));
            }
        }
        assert_eq!(signature(&img), signature(&solid([0, 0, 255])));
        assert_eq!(
            signature(&RgbaImage::from_pixel(2, 2, Rgba([9, 9, 9, 0]))),
            [0.0; DIMS]
        );
    }
}
