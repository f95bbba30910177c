//! Catalog health (`lookalike check`, the designer view): what a merchant can act on before a
//! shopper meets the catalog. Every product's own image, lightly perturbed, is searched through
//! the whole pipeline (does it find itself, where does the router send it, does its cut-out fall
//! back?), and the catalog's embeddings are compared pairwise for products listed twice.

use std::path::{Component, Path};

use image::{Rgb, RgbImage, RgbaImage};
use serde::Serialize;
use ts_rs::TS;

use super::schema::{CatalogFile, CatalogProduct};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::models::preprocess::composite;
use crate::result::{Hit, SearchOptions, SearchResult};
use crate::stages::color;
use crate::stages::decode::{self, DecodeOptions};
use crate::stages::route::RouteReason;
use crate::stages::segment::CutoutUse;
use crate::vector::dot;

/// Cosine at or above which two products of one embedding space are near-duplicates. On the demo
/// catalog the closest distinct products are colour variants of one render (black and blue
/// hoodie, 0.951) and one photo listed twice is 1.0 (decode and models are deterministic). A
/// resized or re-cropped copy can fall well below this (its cut-out differs), so this finds the
/// same image listed twice, not every re-upload.
pub const DUPLICATE_COSINE: f32 = 0.97;
/// Colour-signature similarity at or above which a near-duplicate pair's colours also agree (a
/// pair that differs only in colour is often two variants, not a duplicate).
pub const COLOR_AGREES: f32 = 0.9;
/// Self-recall cut-off reported beside recall@1 (the results page shows ten).
pub const RECALL_K: usize = 10;
/// The perturbation, a shopper's photo of the product: share cropped from each edge, brightness
/// factor, JPEG quality. Fixed, so two checks of one catalog agree.
const CROP: f32 = 0.06;
const BRIGHTNESS: f32 = 1.06;
const JPEG_QUALITY: u8 = 80;
/// What transparent pixels become: a photo has a background, so the query is segmented by the
/// model even where the catalog image carried its own alpha.
const BACKGROUND: [u8; 3] = [236, 233, 228];
/// How many of the router's most confused pairs the report lists.
const CONFUSED_LISTED: usize = 5;

#[derive(Debug, Clone, Serialize, TS)]
pub struct HealthReport {
    /// The catalog's name.
    pub catalog: String,
    pub products: usize,
    /// The folder the self-queries' images came from; null: the catalog's own thumbnails.
    pub images: Option<String>,
    pub self_retrieval: SelfRetrieval,
    pub duplicates: Duplicates,
    pub router: RouterConfusion,
    pub fallbacks: Fallbacks,
    /// Products that could not be checked (image missing or unreadable), with why.
    pub problems: Vec<Problem>,
}

/// A product named in the report.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProductRef {
    pub id: String,
    pub name: String,
    pub category: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SelfRetrieval {
    /// Products whose self-query ran: the denominator of the recalls.
    pub queried: usize,
    /// Results per search (the default search options').
    pub top_k: usize,
    pub recall_at_1: f32,
    pub recall_at_10: f32,
    /// Every queried product, in catalog order.
    pub ranks: Vec<SelfRank>,
    /// The products that did not come first (from `ranks`).
    pub not_first: Vec<SelfRank>,
    /// The products not in the top 10 (from `ranks`).
    pub not_in_top_10: Vec<SelfRank>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SelfRank {
    pub product: ProductRef,
    /// The product's own rank in its perturbed image's results; null: not in the top-k.
    pub rank: Option<usize>,
    /// What came first instead; null when the product itself did (or nothing was found).
    pub first: Option<ProductRef>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Duplicates {
    /// Cosine at or above which a pair is listed.
    pub threshold: f32,
    /// Colour similarity at or above which a pair's colours agree.
    pub color_threshold: f32,
    /// Highest cosine first.
    pub pairs: Vec<DuplicatePair>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DuplicatePair {
    pub a: ProductRef,
    pub b: ProductRef,
    /// The expert whose embedding space both products live in.
    pub expert: String,
    pub cosine: f32,
    /// Colour-signature similarity, 0..1.
    pub color: f32,
    pub color_agrees: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RouterConfusion {
    /// The catalog's categories in catalog order: the rows and the columns of `counts`.
    pub categories: Vec<String>,
    /// `counts[true][chosen]`: the product's category x the router's best-scored category.
    pub counts: Vec<Vec<usize>>,
    pub total: usize,
    /// Share of self-queries whose best-scored category was their own.
    pub accuracy: f32,
    /// Share whose own category was among those the router picked (top-2 and unsure routes pick
    /// more; every category is searched either way).
    pub searched_own: f32,
    /// Routes that searched two categories, and every category.
    pub top2: usize,
    pub unsure: usize,
    /// The largest off-diagonal cells, largest first.
    pub most_confused: Vec<Confusion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Confusion {
    pub truth: String,
    pub chosen: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Fallbacks {
    /// Products whose catalog cut-out fell back to the whole image at index time.
    pub catalog: Vec<ProductRef>,
    /// Self-queries whose cut-out fell back, with the segmenter's reason.
    pub queries: Vec<QueryFallback>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct QueryFallback {
    pub product: ProductRef,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Problem {
    pub product: ProductRef,
    pub detail: String,
}

/// What one self-query found, kept small (a `SearchResult` holds the cut-out's pixels).
#[derive(Debug, Clone)]
struct SelfQuery {
    row: usize,
    rank: Option<usize>,
    first: Option<ProductRef>,
    /// Index of the router's best-scored category, if the route named one the catalog has.
    chosen: Option<usize>,
    searched_own: bool,
    reason: RouteReason,
    fallback: Option<Option<String>>,
}

/// Checks the engine's catalog: `images`, the folder of the original images (looked up by each
/// product's `source_image`), else the catalog's thumbnails. `progress(done, total)` after each
/// product. Errs only when the check itself cannot run (a model fails); a product whose image is
/// missing or unreadable is a `Problem` in the report.
pub fn check(
    engine: &Engine,
    images: Option<&Path>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<HealthReport> {
    let file = &engine.catalog().file;
    // the report is about every product: read them all once
    let products = engine.catalog().all_products()?;
    let total = products.len();
    let (mut queries, mut problems) = (Vec::new(), Vec::new());
    for (row, product) in products.iter().enumerate() {
        match self_query(engine, images, product, row)? {
            Ok(q) => queries.push(q),
            Err(detail) => problems.push(Problem {
                product: ProductRef::of(product),
                detail,
            }),
        }
        progress(row + 1, total);
    }
    Ok(HealthReport {
        catalog: file.name.clone(),
        products: total,
        images: images.map(|p| p.display().to_string()),
        self_retrieval: self_retrieval(&products, &queries),
        duplicates: duplicates(engine, &products),
        router: router_confusion(file, &products, &queries),
        fallbacks: fallbacks(&products, &queries),
        problems,
    })
}

impl ProductRef {
    fn of(p: &CatalogProduct) -> Self {
        ProductRef {
            id: p.id.clone(),
            name: p.name.clone(),
            category: p.category.clone(),
        }
    }

    fn of_hit(h: &Hit) -> Self {
        ProductRef {
            id: h.id.clone(),
            name: h.name.clone(),
            category: h.category.clone(),
        }
    }
}

/// One product's perturbed image through `Engine::search`. The inner `Err` is the product's
/// problem (its image); the outer one an engine failure that would fail every product alike.
fn self_query(
    engine: &Engine,
    images: Option<&Path>,
    product: &CatalogProduct,
    row: usize,
) -> Result<Result<SelfQuery, String>> {
    let catalog = engine.catalog();
    let bytes = match read_image(catalog, images, product) {
        Ok(b) => b,
        Err(detail) => return Ok(Err(detail)),
    };
    let searched = perturb(&bytes).and_then(|q| engine.search(&q, &SearchOptions::default()));
    match searched {
        Ok(result) => Ok(Ok(summarise(catalog, product, row, &result))),
        Err(e) if is_image_error(&e) => Ok(Err(e.to_string())),
        Err(e) => Err(e),
    }
}

/// Errors that belong to one image rather than to the engine.
fn is_image_error(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::EmptyInput
            | EngineError::UnsupportedFormat(_)
            | EngineError::CorruptImage { .. }
            | EngineError::ImageTooLarge { .. }
            | EngineError::ImageTooSmall { .. }
            | EngineError::Io { .. }
    )
}

/// The product's image bytes: the original from `images`, else its thumbnail (whose path the
/// catalog checks stays inside the catalog).
fn read_image(
    catalog: &super::Catalog,
    images: Option<&Path>,
    product: &CatalogProduct,
) -> Result<Vec<u8>, String> {
    let path = match images {
        Some(dir) => {
            // catalog.json is input too: its names must not walk out of the images folder
            let rel = Path::new(&product.source_image);
            if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(format!(
                    "source image `{}` is not a path inside the images folder",
                    product.source_image
                ));
            }
            dir.join(rel)
        }
        None => catalog.thumbnail_path(product).map_err(|e| e.to_string())?,
    };
    let cannot = |why: String| format!("cannot read {}: {why}", path.display());
    // a pipe or a device in the folder would hang or flood the read
    match std::fs::metadata(&path) {
        Ok(meta) if !meta.is_file() => return Err(cannot("not a regular file".into())),
        Err(e) => return Err(cannot(e.to_string())),
        Ok(_) => {}
    }
    std::fs::read(&path).map_err(|e| cannot(e.to_string()))
}

/// A shopper's photo of a catalog image, as JPEG bytes: decoded as a search decodes (bounded,
/// upright), then `perturb_image`, then re-encoded at `JPEG_QUALITY`.
pub fn perturb(bytes: &[u8]) -> Result<Vec<u8>> {
    let decoded = decode::decode(bytes, &DecodeOptions::default())?;
    let photo = perturb_image(&decoded.image);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&photo)
        .map_err(|e| EngineError::Internal(format!("JPEG encoding of a perturbed image: {e}")))?;
    Ok(out)
}

/// The deterministic pixel part of `perturb`: background under transparency, `CROP` off every
/// edge, brightness times `BRIGHTNESS`.
pub fn perturb_image(img: &RgbaImage) -> RgbImage {
    let flat = composite(img, BACKGROUND);
    let (w, h) = flat.dimensions();
    let (dx, dy) = ((w as f32 * CROP) as u32, (h as f32 * CROP) as u32);
    let (cw, ch) = ((w - 2 * dx).max(1), (h - 2 * dy).max(1));
    let mut out = image::imageops::crop_imm(&flat, dx, dy, cw, ch).to_image();
    let brighten = |c: u8| (f32::from(c) * BRIGHTNESS).round().min(255.0) as u8;
    for p in out.pixels_mut() {
        *p = Rgb(p.0.map(brighten));
    }
    out
}

/// The few facts the report needs from one search.
fn summarise(
    catalog: &super::Catalog,
    product: &CatalogProduct,
    row: usize,
    r: &SearchResult,
) -> SelfQuery {
    let rank = r
        .results
        .iter()
        .find(|h| h.id == product.id)
        .map(|h| h.rank);
    let first = r.results.first().filter(|h| h.id != product.id);
    // the router's own route: the neighbours' vote would be won by the product itself
    let route = &r.router_route;
    let chosen = route.searched.first();
    SelfQuery {
        row,
        rank,
        first: first.map(ProductRef::of_hit),
        chosen: chosen.and_then(|name| catalog.category_index(name)),
        searched_own: route.searched.contains(&product.category),
        reason: route.reason,
        fallback: (r.segmentation.used == CutoutUse::Fallback)
            .then(|| r.segmentation.fallback_reason.clone()),
    }
}

// ---- self-retrieval --------------------------------------------------------------------------

fn self_retrieval(products: &[CatalogProduct], queries: &[SelfQuery]) -> SelfRetrieval {
    let ranks: Vec<SelfRank> = queries
        .iter()
        .map(|q| SelfRank {
            product: ProductRef::of(&products[q.row]),
            rank: q.rank,
            first: q.first.clone(),
        })
        .collect();
    let missed = |k: usize| -> Vec<SelfRank> {
        let missed = ranks.iter().filter(|r| r.rank.is_none_or(|x| x > k));
        missed.cloned().collect()
    };
    let found: Vec<Option<usize>> = ranks.iter().map(|r| r.rank).collect();
    SelfRetrieval {
        queried: ranks.len(),
        top_k: SearchOptions::default().top_k,
        recall_at_1: recall(&found, 1),
        recall_at_10: recall(&found, RECALL_K),
        not_first: missed(1),
        not_in_top_10: missed(RECALL_K),
        ranks,
    }
}

/// Share of ranks at most `k` (0 when there are none).
pub fn recall(ranks: &[Option<usize>], k: usize) -> f32 {
    let hits = ranks.iter().filter(|r| r.is_some_and(|x| x <= k)).count();
    hits as f32 / ranks.len().max(1) as f32
}

// ---- near-duplicates -------------------------------------------------------------------------

fn duplicates(engine: &Engine, products: &[CatalogProduct]) -> Duplicates {
    let catalog = engine.catalog();
    let (experts, spaces) = row_spaces(&catalog.file);
    let emb = &catalog.embeddings;
    let found = near_duplicates(emb.data(), emb.dims, &spaces, DUPLICATE_COSINE);
    let pairs = found
        .into_iter()
        .map(|(a, b, cosine)| {
            let color = color::similarity(catalog.colors.row(a), catalog.colors.row(b));
            DuplicatePair {
                a: ProductRef::of(&products[a]),
                b: ProductRef::of(&products[b]),
                expert: experts[spaces[a]].clone(),
                cosine,
                color,
                color_agrees: color >= COLOR_AGREES,
            }
        })
        .collect();
    Duplicates {
        threshold: DUPLICATE_COSINE,
        color_threshold: COLOR_AGREES,
        pairs,
    }
}

/// The distinct experts in catalog order, and each row's index into them: embeddings of
/// different experts are different spaces, and their cosines mean nothing.
fn row_spaces(file: &CatalogFile) -> (Vec<String>, Vec<usize>) {
    let mut experts: Vec<String> = Vec::new();
    let mut spaces = vec![0; file.rows];
    for c in &file.categories {
        let space = match experts.iter().position(|e| *e == c.def.expert) {
            Some(i) => i,
            None => {
                experts.push(c.def.expert.clone());
                experts.len() - 1
            }
        };
        let rows = c.rows[0].min(spaces.len())..c.rows[1].min(spaces.len());
        spaces[rows].iter_mut().for_each(|s| *s = space);
    }
    (experts, spaces)
}

/// Pairs `(a, b, cosine)` with `a < b`, both in one space and cosine >= `threshold`, highest
/// first. Every pair is compared: quadratic, which a catalog of a few thousand products affords.
pub fn near_duplicates(
    data: &[f32],
    dims: usize,
    spaces: &[usize],
    threshold: f32,
) -> Vec<(usize, usize, f32)> {
    let rows: Vec<&[f32]> = data.chunks_exact(dims.max(1)).collect();
    let norms: Vec<f32> = rows.iter().map(|r| dot(r, r).sqrt()).collect();
    let mut pairs = Vec::new();
    for a in 0..rows.len().min(spaces.len()) {
        for b in a + 1..rows.len().min(spaces.len()) {
            let denom = norms[a] * norms[b];
            if spaces[a] != spaces[b] || denom <= f32::EPSILON {
                continue;
            }
            // clamped: rounding can put an exact copy a hair above 1
            let cosine = (dot(rows[a], rows[b]) / denom).clamp(-1.0, 1.0);
            if cosine >= threshold {
                pairs.push((a, b, cosine));
            }
        }
    }
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    pairs
}

// ---- router confusion ------------------------------------------------------------------------

fn router_confusion(
    file: &CatalogFile,
    products: &[CatalogProduct],
    queries: &[SelfQuery],
) -> RouterConfusion {
    let names: Vec<String> = file.categories.iter().map(|c| c.def.name.clone()).collect();
    let truth = |q: &SelfQuery| names.iter().position(|n| *n == products[q.row].category);
    let routes: Vec<(usize, usize)> = queries
        .iter()
        .filter_map(|q| Some((truth(q)?, q.chosen?)))
        .collect();
    let counts = confusion(names.len(), &routes);
    let total = queries.len();
    let correct: usize = (0..names.len()).map(|i| counts[i][i]).sum();
    let share = |n: usize| n as f32 / total.max(1) as f32;
    let reasons = |r: RouteReason| queries.iter().filter(|q| q.reason == r).count();
    let most_confused = most_confused(&counts, CONFUSED_LISTED)
        .into_iter()
        .map(|(t, c, count)| Confusion {
            truth: names[t].clone(),
            chosen: names[c].clone(),
            count,
        })
        .collect();
    RouterConfusion {
        accuracy: share(correct),
        searched_own: share(queries.iter().filter(|q| q.searched_own).count()),
        top2: reasons(RouteReason::Top2),
        unsure: reasons(RouteReason::Unsure),
        categories: names,
        counts,
        total,
        most_confused,
    }
}

/// `counts[truth][chosen]` over `(truth, chosen)` pairs; pairs outside `0..n` are dropped.
pub fn confusion(n: usize, routes: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut counts = vec![vec![0; n]; n];
    for &(t, c) in routes.iter().filter(|(t, c)| *t < n && *c < n) {
        counts[t][c] += 1;
    }
    counts
}

/// The `n` largest off-diagonal cells `(truth, chosen, count)`, largest first, ties in matrix
/// order.
pub fn most_confused(counts: &[Vec<usize>], n: usize) -> Vec<(usize, usize, usize)> {
    let mut cells: Vec<(usize, usize, usize)> = counts
        .iter()
        .enumerate()
        .flat_map(|(t, row)| row.iter().enumerate().map(move |(c, k)| (t, c, *k)))
        .filter(|&(t, c, k)| t != c && k > 0)
        .collect();
    cells.sort_by(|x, y| y.2.cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    cells.truncate(n);
    cells
}

// ---- cut-out fallbacks -----------------------------------------------------------------------

fn fallbacks(products: &[CatalogProduct], queries: &[SelfQuery]) -> Fallbacks {
    // the label the index builder writes (`SegmentationInfo::label`)
    let fell_back = CutoutUse::Fallback.to_string();
    let catalog = products.iter().filter(|p| p.segmentation == fell_back);
    let queries = queries.iter().filter_map(|q| {
        let reason = q.fallback.clone()?;
        Some(QueryFallback {
            product: ProductRef::of(&products[q.row]),
            reason,
        })
    });
    Fallbacks {
        catalog: catalog.map(ProductRef::of).collect(),
        queries: queries.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn confusion_counts_each_route_once_and_drops_unknown_categories() {
        let counts = confusion(3, &[(0, 0), (0, 1), (1, 1), (2, 0), (2, 0), (5, 0), (0, 9)]);
        assert_eq!(counts, vec![vec![1, 1, 0], vec![0, 1, 0], vec![2, 0, 0]]);
        let total: usize = counts.iter().flatten().sum();
        assert_eq!(total, 5);
    }

    #[test]
    fn most_confused_skips_the_diagonal_and_sorts_by_count() {
        let counts = vec![vec![9, 1, 0], vec![0, 7, 3], vec![1, 0, 8]];
        assert_eq!(
            most_confused(&counts, 2),
            vec![(1, 2, 3), (0, 1, 1)],
            "largest first, ties in matrix order"
        );
        assert!(most_confused(&[vec![4]], 5).is_empty());
    }

    #[test]
    fn near_duplicates_compare_only_within_a_space() {
        let data = [
            1.0, 0.0, 0.0, // 0
            0.99, 0.1, 0.0, // 1: close to 0
            0.0, 1.0, 0.0, // 2: far from everything
            2.0, 0.0, 0.0, // 3: 0 scaled (cosine 1), but another space
            0.0, 0.0, 0.0, // 4: a zero row is nobody's duplicate
        ];
        let pairs = near_duplicates(&data, 3, &[0, 0, 0, 1, 0], 0.97);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        let (a, b, cos) = pairs[0];
        assert_eq!((a, b), (0, 1));
        assert!((cos - 0.99 / (0.99f32 * 0.99 + 0.01).sqrt()).abs() < 1e-5);
        let same_space = near_duplicates(&data, 3, &[0, 0, 0, 0, 0], 0.97);
        assert_eq!(
            (same_space[0].0, same_space[0].1),
            (0, 3),
            "exact copy first"
        );
        assert!((same_space[0].2 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn recall_counts_ranks_within_k() {
        let ranks = [Some(1), Some(2), None, Some(11)];
        assert_eq!(recall(&ranks, 1), 0.25);
        assert_eq!(recall(&ranks, 10), 0.5);
        assert_eq!(recall(&[], 10), 0.0);
    }

    fn test_image() -> RgbaImage {
        RgbaImage::from_fn(100, 80, |x, y| {
            let a = if (20..80).contains(&x) { 255 } else { 0 };
            Rgba([(x * 2) as u8, (y * 3) as u8, 100, a])
        })
    }

    #[test]
    fn perturbation_is_deterministic_and_changes_the_pixels() {
        let img = test_image();
        let (a, b) = (perturb_image(&img), perturb_image(&img));
        assert_eq!(a, b);
        assert_eq!(a.dimensions(), (88, 72), "6% off each edge");
        // (50, 40) is (44, 36) after the crop: brightened, not copied
        let src = img.get_pixel(50, 40);
        let got = a.get_pixel(44, 36);
        assert_eq!(got.0, [106, 127, 106]);
        assert_ne!(got.0, [src[0], src[1], src[2]]);
        // transparency became the background (brightened too, and clipped)
        assert_eq!(a.get_pixel(0, 0).0, [250, 247, 242]);
    }

    #[test]
    fn perturbed_bytes_are_a_deterministic_jpeg() {
        let mut png = Vec::new();
        image::DynamicImage::ImageRgba8(test_image())
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let (a, b) = (perturb(&png).unwrap(), perturb(&png).unwrap());
        assert_eq!(a, b);
        let decoded = image::load_from_memory(&a).unwrap();
        assert_eq!(image::guess_format(&a).unwrap(), image::ImageFormat::Jpeg);
        assert_eq!((decoded.width(), decoded.height()), (88, 72));
        assert!(perturb(b"not an image").is_err());
    }
}
