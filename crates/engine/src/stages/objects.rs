//! Part of segment: the separate objects in a photo (connected regions of the saliency mask, big
//! enough, largest first), so the shopper can pick one, and the `Region` a search is limited to.
//! Regions are in normalised coordinates of the upright photo (0..1, origin top left), so the UI
//! can draw them over the photo at any size and send one back.

use image::GrayImage;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{EngineError, Result};

/// A rectangle of the upright photo, in shares of its width and height.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// One object the segmenter found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
pub struct DetectedObject {
    /// Its bounding box.
    pub region: Region,
    /// Its share of the photo's pixels (0..1).
    pub area: f32,
}

/// The fewest pixels a region may have on a side, in the working image (a smaller crop gives the
/// models nothing to see).
pub const MIN_REGION_PX: u32 = 32;
/// Objects below this share of the photo are specks, not something to tap.
pub const MIN_OBJECT_AREA: f32 = 0.01;
/// At most this many objects, largest first.
pub const MAX_OBJECTS: usize = 6;
/// The mask is labelled on a grid of about this many cells on its long side.
const GRID: u32 = 128;
/// Rounding slack when a region ends at the photo's edge (0.1 + 0.9 is not exactly 1 in f32).
const EDGE_SLACK: f32 = 1e-4;

impl Region {
    pub const WHOLE: Region = Region {
        x: 0.0,
        y: 0.0,
        w: 1.0,
        h: 1.0,
    };

    /// Refuses a region that is not a rectangle inside the photo.
    pub fn validate(&self) -> Result<()> {
        let Region { x, y, w, h } = *self;
        let bad = |why: &str| {
            Err(EngineError::InvalidOptions(format!(
                "region x={x} y={y} w={w} h={h}: {why} (x, y, w, h are shares of the photo's width and height, 0..1)"
            )))
        };
        if ![x, y, w, h].iter().all(|v| v.is_finite()) {
            return bad("every number must be finite");
        }
        if w <= 0.0 || h <= 0.0 {
            return bad("width and height must be above 0");
        }
        if x < 0.0 || y < 0.0 || x + w > 1.0 + EDGE_SLACK || y + h > 1.0 + EDGE_SLACK {
            return bad("it reaches outside the photo");
        }
        Ok(())
    }

    /// Parses "x,y,w,h" (the CLI's `--region`), validated.
    pub fn parse(s: &str) -> Result<Self> {
        let shape = "four numbers x,y,w,h like 0.1,0.2,0.5,0.6";
        let [x, y, w, h] = super::parse_numbers(s, "region", shape)?;
        let r = Region { x, y, w, h };
        r.validate()?;
        Ok(r)
    }

    /// The region as `[x, y, w, h]` pixels of a `width` x `height` image (outward rounding),
    /// refused when it is under [`MIN_REGION_PX`] on a side there.
    pub fn pixels(&self, width: u32, height: u32) -> Result<[u32; 4]> {
        self.validate()?;
        let span = |start: f32, len: f32, size: u32| {
            let s = size as f32;
            let a = ((start * s).floor() as u32).min(size);
            let b = (((start + len) * s).ceil() as u32).clamp(a, size);
            (a, b - a)
        };
        let (px, pw) = span(self.x, self.w, width);
        let (py, ph) = span(self.y, self.h, height);
        if pw < MIN_REGION_PX.min(width) || ph < MIN_REGION_PX.min(height) {
            return Err(EngineError::InvalidOptions(format!(
                "region x={} y={} w={} h={} is {pw}x{ph} px of this {width}x{height} px photo; pick at least {MIN_REGION_PX}x{MIN_REGION_PX} px",
                self.x, self.y, self.w, self.h
            )));
        }
        Ok([px, py, pw, ph])
    }

    /// `inner`, given in shares of this region, in shares of the whole photo.
    pub fn map_from(&self, inner: Region) -> Region {
        Region {
            x: self.x + inner.x * self.w,
            y: self.y + inner.y * self.h,
            w: inner.w * self.w,
            h: inner.h * self.h,
        }
    }
}

/// The mask's connected foreground regions (8-connected, at `cut` and above), each at least
/// `MIN_OBJECT_AREA` of the image, largest first, at most [`MAX_OBJECTS`]. The mask is read on a
/// coarse grid (a cell is foreground when a quarter of its pixels are), so a hairline gap does not
/// split an object and the cost stays small at any size.
pub fn objects(mask: &GrayImage, cut: u8) -> Vec<DetectedObject> {
    let (w, h) = mask.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let cell = w.max(h).div_ceil(GRID).max(1);
    let (gw, gh) = (w.div_ceil(cell), h.div_ceil(cell));
    let mut fg_px = vec![0u32; (gw * gh) as usize];
    for (x, y, p) in mask.enumerate_pixels() {
        if p[0] >= cut {
            fg_px[((y / cell) * gw + x / cell) as usize] += 1;
        }
    }
    let cell_px = |gx: u32, gy: u32| (cell.min(w - gx * cell)) * (cell.min(h - gy * cell));
    let on: Vec<bool> = (0..gw * gh)
        .map(|i| fg_px[i as usize] * 4 >= cell_px(i % gw, i / gw).max(1))
        .collect();
    let mut label = vec![0u32; on.len()];
    let mut found = Vec::new();
    let mut stack = Vec::new();
    for start in 0..on.len() {
        if !on[start] || label[start] != 0 {
            continue;
        }
        let id = found.len() as u32 + 1;
        label[start] = id;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        let mut pixels = 0u64;
        while let Some(i) = stack.pop() {
            let (gx, gy) = (i as u32 % gw, i as u32 / gw);
            (x0, y0, x1, y1) = (x0.min(gx), y0.min(gy), x1.max(gx), y1.max(gy));
            pixels += u64::from(fg_px[i]);
            for (dx, dy) in NEIGHBOURS {
                let (nx, ny) = (gx as i64 + dx, gy as i64 + dy);
                if nx < 0 || ny < 0 || nx >= i64::from(gw) || ny >= i64::from(gh) {
                    continue;
                }
                let n = (ny as u32 * gw + nx as u32) as usize;
                if on[n] && label[n] == 0 {
                    label[n] = id;
                    stack.push(n);
                }
            }
        }
        let area = pixels as f32 / (u64::from(w) * u64::from(h)) as f32;
        let (px0, py0) = (x0 * cell, y0 * cell);
        let (px1, py1) = (((x1 + 1) * cell).min(w), ((y1 + 1) * cell).min(h));
        // an object is offered only if it can be searched: a region under MIN_REGION_PX a side
        // is refused (a thin label on a small thumbnail)
        if px1 - px0 < MIN_REGION_PX.min(w) || py1 - py0 < MIN_REGION_PX.min(h) {
            continue;
        }
        found.push(DetectedObject {
            region: Region {
                x: px0 as f32 / w as f32,
                y: py0 as f32 / h as f32,
                w: (px1 - px0) as f32 / w as f32,
                h: (py1 - py0) as f32 / h as f32,
            },
            area,
        });
    }
    found.retain(|o| o.area >= MIN_OBJECT_AREA);
    found.sort_by(|a, b| b.area.total_cmp(&a.area));
    found.truncate(MAX_OBJECTS);
    found
}

const NEIGHBOURS: [(i64, i64); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::segment::test_masks::mask_with;
    use image::Luma;

    #[test]
    fn objects_too_thin_to_search_are_not_offered() {
        // 256x256: a 60x20 label (1.8% of the photo, above MIN_OBJECT_AREA) and a 40x40 box
        let m = mask_with(256, 256, &[[100, 12, 60, 20], [20, 100, 40, 40]]);
        let found = objects(&m, 128);
        assert_eq!(found.len(), 1, "{found:?}");
        let r = found[0].region;
        assert!(
            r.pixels(256, 256).is_ok(),
            "what is offered can be searched"
        );
        assert!((r.x - 20.0 / 256.0).abs() < 0.02, "{r:?}");
    }

    #[test]
    fn two_blobs_are_two_objects_largest_first_and_specks_are_dropped() {
        // 400x300: a 100x100 square, a 160x120 one, and a 5x5 speck
        let m = mask_with(
            400,
            300,
            &[[20, 20, 100, 100], [200, 150, 160, 120], [380, 5, 5, 5]],
        );
        let objs = objects(&m, 128);
        assert_eq!(objs.len(), 2, "{objs:?}");
        let big = objs[0].region;
        assert!(
            (big.x - 0.5).abs() < 0.02 && (big.y - 0.5).abs() < 0.02,
            "{big:?}"
        );
        assert!(
            (big.w - 0.4).abs() < 0.03 && (big.h - 0.4).abs() < 0.03,
            "{big:?}"
        );
        assert!((objs[0].area - 160.0 * 120.0 / 120_000.0).abs() < 0.01);
        let small = objs[1].region;
        assert!(
            (small.x - 0.05).abs() < 0.02 && (small.w - 0.25).abs() < 0.03,
            "{small:?}"
        );
        for o in &objs {
            o.region.validate().unwrap();
        }
    }

    #[test]
    fn diagonal_touch_joins_and_empty_masks_have_none() {
        let m = mask_with(256, 256, &[[0, 0, 64, 64], [64, 64, 64, 64]]);
        assert_eq!(objects(&m, 128).len(), 1);
        assert!(objects(&GrayImage::new(50, 40), 128).is_empty());
        assert!(objects(&GrayImage::new(0, 0), 128).is_empty());
        // the whole frame is one object covering it
        let full = objects(&GrayImage::from_pixel(33, 17, Luma([255])), 128);
        assert_eq!(full.len(), 1);
        assert_eq!(full[0].region, Region::WHOLE);
    }

    #[test]
    fn regions_are_validated_with_the_reason() {
        let msg = |r: Region| r.validate().unwrap_err().to_string();
        let r = |x, y, w, h| Region { x, y, w, h };
        assert!(msg(r(f32::NAN, 0.0, 0.5, 0.5)).contains("finite"));
        assert!(msg(r(0.0, 0.0, f32::INFINITY, 0.5)).contains("finite"));
        assert!(msg(r(0.2, 0.2, 0.0, 0.5)).contains("above 0"));
        assert!(msg(r(0.2, 0.2, 0.5, -0.1)).contains("above 0"));
        assert!(msg(r(-0.1, 0.0, 0.5, 0.5)).contains("outside"));
        assert!(msg(r(0.6, 0.0, 0.5, 0.5)).contains("outside"));
        assert!(msg(r(0.0, 0.9, 0.5, 0.2)).contains("outside"));
        r(0.1, 0.1, 0.9, 0.9).validate().unwrap();
        Region::WHOLE.validate().unwrap();
    }

    #[test]
    fn regions_parse_and_map_to_pixels() {
        let r = Region::parse(" 0.25, 0.5,0.5 ,0.5").unwrap();
        assert_eq!(r.pixels(1000, 800).unwrap(), [250, 400, 500, 400]);
        assert!(
            Region::parse("0.1,0.2,0.3")
                .unwrap_err()
                .to_string()
                .contains("four numbers")
        );
        assert!(
            Region::parse("a,b,c,d")
                .unwrap_err()
                .to_string()
                .contains("four numbers")
        );
        assert!(
            Region::parse("0.5,0.5,0.6,0.1")
                .unwrap_err()
                .to_string()
                .contains("outside")
        );
        // too small for the models once in pixels
        let tiny = Region {
            x: 0.5,
            y: 0.5,
            w: 0.01,
            h: 0.2,
        };
        let e = tiny.pixels(1000, 800).unwrap_err().to_string();
        assert!(
            e.contains("10x160 px") && e.contains("at least 32x32"),
            "{e}"
        );
        // inside a region, the whole is the region itself
        let outer = Region {
            x: 0.2,
            y: 0.1,
            w: 0.5,
            h: 0.4,
        };
        assert_eq!(outer.map_from(Region::WHOLE), outer);
        let mapped = outer.map_from(Region {
            x: 0.5,
            y: 0.5,
            w: 0.5,
            h: 0.5,
        });
        assert_eq!(
            mapped,
            Region {
                x: 0.45,
                y: 0.3,
                w: 0.25,
                h: 0.2
            }
        );
    }
}
