//! Rerank signal, colour: a 26-number HSV signature of the product's foreground pixels
//! (18 hue + 4 saturation + 4 value bins) and a similarity between two signatures.
//!
//! Hue is meaningless for greys, so each pixel's hue vote is weighted by its chroma (s * v) and the
//! hue bins are normalised by the pixel count: the hue block sums to the mean chroma, and
//! `1 - sum` is an implicit "achromatic" bin. Two grey products are then as alike in hue as two
//! red ones. Hue votes are split linearly between the two nearest bins (no edge effects at 20 deg).

use image::RgbaImage;
use serde::Serialize;
use ts_rs::TS;

use crate::error::{EngineError, Result};

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

/// A colour the shopper can ask for ("like this, in another colour"): a name and its sRGB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Swatch {
    pub name: String,
    /// `#rrggbb`
    pub hex: String,
}

/// The swatch row, in the order the UI shows it and `Hit::swatches` lists similarities.
pub const PALETTE: [(&str, [u8; 3]); 12] = [
    ("black", [24, 24, 24]),
    ("grey", [128, 128, 128]),
    ("white", [245, 245, 242]),
    ("beige", [222, 200, 160]),
    ("brown", [120, 74, 40]),
    ("red", [200, 30, 35]),
    ("orange", [235, 120, 25]),
    ("yellow", [240, 205, 40]),
    ("green", [45, 140, 60]),
    ("blue", [35, 80, 190]),
    ("purple", [120, 50, 150]),
    ("pink", [235, 130, 170]),
];

/// [`PALETTE`] as the UI receives it.
pub fn palette() -> Vec<Swatch> {
    PALETTE
        .iter()
        .map(|(name, rgb)| Swatch {
            name: (*name).into(),
            hex: hex(*rgb),
        })
        .collect()
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The colour a search asks for, in place of the query's own colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColorTarget {
    pub rgb: [u8; 3],
    /// Its index in [`PALETTE`] when it is a palette colour (the UI re-ranks with those).
    pub swatch: Option<usize>,
}

impl ColorTarget {
    /// A palette name (`red`, `navy` is not one) or `#rrggbb`.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        if let Some(i) = PALETTE
            .iter()
            .position(|(n, _)| *n == t || (t == "gray" && *n == "grey"))
        {
            return Ok(ColorTarget {
                rgb: PALETTE[i].1,
                swatch: Some(i),
            });
        }
        let bad = || {
            let names: Vec<&str> = PALETTE.iter().map(|(n, _)| *n).collect();
            EngineError::InvalidOptions(format!(
                "colour `{s}`: give one of {} or #rrggbb",
                names.join(", ")
            ))
        };
        let digits = t
            .strip_prefix('#')
            .filter(|d| d.len() == 6)
            .ok_or_else(bad)?;
        let byte = |i: usize| u8::from_str_radix(digits.get(i..i + 2).unwrap_or("x"), 16);
        let rgb = [byte(0), byte(2), byte(4)];
        match rgb {
            [Ok(r), Ok(g), Ok(b)] => Ok(ColorTarget {
                rgb: [r, g, b],
                swatch: PALETTE.iter().position(|(_, c)| *c == [r, g, b]),
            }),
            _ => Err(bad()),
        }
    }

    pub fn hex(&self) -> String {
        hex(self.rgb)
    }

    /// The signature a product of exactly this colour would have.
    pub fn signature(&self) -> [f32; DIMS] {
        swatch_signature(self.rgb)
    }
}

/// The signature of a solid patch of `rgb`.
pub fn swatch_signature([r, g, b]: [u8; 3]) -> [f32; DIMS] {
    signature(&RgbaImage::from_pixel(1, 1, image::Rgba([r, g, b, 255])))
}

/// How much a product with signature `sig` is of the asked colour `target` (a swatch's
/// signature), in [0, 1]. Not [`similarity`]: that one compares two products' whole colour
/// distributions and gives two colours of equal chroma an equal hue score (its implicit
/// achromatic bin), so a red shirt is as near blue as red. Here the hue block asks for the
/// target's own hue (for a grey target: for no hue), and saturation and value count their
/// neighbouring bins half, so dark red is still red and black is not white.
pub fn target_similarity(target: &[f32], sig: &[f32]) -> f32 {
    debug_assert_eq!(target.len(), DIMS);
    debug_assert_eq!(sig.len(), DIMS);
    let (th, sh) = (&target[..HUE_BINS], &sig[..HUE_BINS]);
    let t_chroma: f32 = th.iter().sum();
    let s_chroma: f32 = sh.iter().sum::<f32>().clamp(0.0, 1.0);
    // a target of little chroma is a grey: the product's achromatic share answers it
    let hue = if t_chroma < GREY_TARGET {
        1.0 - s_chroma
    } else {
        // each hue bin weighed by how near it is to the target's hue: the target's own bins by
        // their share of it (the larger one weighs 1), a bin either side half its neighbour's
        let near = |i: usize| {
            let (l, r) = ((i + HUE_BINS - 1) % HUE_BINS, (i + 1) % HUE_BINS);
            th[i].max(0.5 * th[l].max(th[r]))
        };
        let peak = (0..HUE_BINS).map(near).fold(0.0f32, f32::max);
        // the share of the product's hue mass there, discounted when the product has little
        // colour at all (dark and pale shades of the hue keep most of theirs)
        let mass: f32 = (0..HUE_BINS).map(|i| sh[i] * near(i) / peak).sum();
        let share = if s_chroma > f32::EPSILON {
            (mass / s_chroma).min(1.0)
        } else {
            0.0
        };
        share * (s_chroma / (0.5 * t_chroma)).min(1.0)
    };
    let soft = |t: &[f32], x: &[f32]| {
        let n = t.len();
        (0..n)
            .map(|i| {
                let l = if i > 0 { t[i - 1] } else { 0.0 };
                let r = if i + 1 < n { t[i + 1] } else { 0.0 };
                x[i].min(t[i].max(0.5 * l.max(r)))
            })
            .sum::<f32>()
    };
    let s = HUE_BINS + SAT_BINS;
    let sat = soft(&target[HUE_BINS..s], &sig[HUE_BINS..s]);
    let val = soft(&target[s..], &sig[s..]);
    // hue decides whether it is the colour at all, saturation and value how close a shade; for
    // a grey target value is most of what there is (black, grey and white differ in nothing else)
    let shade = match t_chroma < GREY_TARGET {
        true => 0.25 + 0.25 * sat + 0.5 * val,
        false => 0.5 + 0.25 * sat + 0.25 * val,
    };
    (hue * shade).clamp(0.0, 1.0)
}

/// Below this chroma a target colour is a grey (black, grey, white: chroma 0 here; beige 0.24).
const GREY_TARGET: f32 = 0.15;

/// The signature of each [`PALETTE`] colour, made once (every hit of every search reads them).
static PALETTE_SIGNATURES: std::sync::LazyLock<Vec<[f32; DIMS]>> = std::sync::LazyLock::new(|| {
    PALETTE
        .iter()
        .map(|(_, rgb)| swatch_signature(*rgb))
        .collect()
});

/// A stored signature's [`target_similarity`] to each [`PALETTE`] colour, in palette order.
pub fn palette_similarities(sig: &[f32]) -> Vec<f32> {
    PALETTE_SIGNATURES
        .iter()
        .map(|t| target_similarity(t, sig))
        .collect()
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
    fn colour_targets_parse_names_and_hex_and_refuse_the_rest() {
        let red = ColorTarget::parse(" Red ").unwrap();
        assert_eq!(red.swatch, Some(5));
        assert_eq!(PALETTE[5].0, "red");
        assert_eq!(
            ColorTarget::parse("gray").unwrap(),
            ColorTarget::parse("grey").unwrap()
        );
        let custom = ColorTarget::parse("#1a2B3c").unwrap();
        assert_eq!((custom.rgb, custom.swatch), ([0x1a, 0x2b, 0x3c], None));
        assert_eq!(
            ColorTarget::parse("#c81e23").unwrap().swatch,
            Some(5),
            "red's own hex"
        );
        for bad in ["navy", "#12345", "#1234567", "#gg0000", "", "#", "#é12345"] {
            let e = ColorTarget::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("#rrggbb") && e.contains("black, grey"),
                "{bad}: {e}"
            );
        }
        assert_eq!(palette().len(), PALETTE.len());
        assert_eq!(palette()[0].hex, "#181818");
    }

    #[test]
    fn each_swatch_is_most_like_itself() {
        for (i, (name, rgb)) in PALETTE.iter().enumerate() {
            let sims = palette_similarities(&swatch_signature(*rgb));
            let best = (0..sims.len())
                .max_by(|a, b| sims[*a].total_cmp(&sims[*b]))
                .unwrap();
            assert_eq!(best, i, "{name}: {sims:?}");
        }
        // a red product is nearer red than blue, a black one nearer black than white
        let near = |rgb: [u8; 3]| palette_similarities(&signature(&solid(rgb)));
        let s = near([180, 40, 50]);
        assert!(s[5] > s[9] + 0.5 && s[5] > 0.6, "red shirt: {s:?}");
        let s = near([30, 28, 26]);
        assert!(s[0] > s[2] + 0.15 && s[0] > s[5] + 0.5, "black bag: {s:?}");
        let s = near([110, 20, 25]);
        assert!(s[5] > s[4] && s[5] > s[10], "dark red is still red: {s:?}");
        // half red, half white: halfway to each
        let mut two = solid([200, 30, 35]);
        for x in 0..4 {
            for y in 0..8 {
                two.put_pixel(x, y, Rgba([245, 245, 242, 255]));
            }
        }
        let s = palette_similarities(&signature(&two));
        assert!(
            s[5] > 0.3 && s[2] > 0.3 && s[9] < 0.1,
            "red and white: {s:?}"
        );
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
