//! `pipeline`: arbitrary bytes -> everything of `Engine::search` that does not need ONNX Runtime.
//!
//! decode -> segment (`segment::segment` for images with their own alpha cut-out, and
//! `segment::cut_out` with a synthetic mask derived from the input) -> colour signature ->
//! the manifest's u2netp and efficientnet_lite0 preprocessing (`models::preprocess::to_tensor`,
//! InputSpecs parsed from `models/manifest.toml`) -> route / embed / retrieve / texture / rerank on
//! numbers derived from those tensors and from the raw input (NaN and infinities included).
//! The model passes themselves are replaced by derived numbers: loading ORT in a libFuzzer process
//! costs seconds and a pass ~100 ms, so the `search` target covers them at a few execs/s instead.
//! Knobs (mask shape, segment options, router settings, blend weights) come from the input's last
//! bytes.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use common::{Knobs, within};
use image::{GrayImage, Luma};
use libfuzzer_sys::fuzz_target;
use lookalike_engine::BlendWeights;
use lookalike_engine::models::Manifest;
use lookalike_engine::models::manifest::InputSpec;
use lookalike_engine::models::preprocess::to_tensor;
use lookalike_engine::stages::decode::{DecodeOptions, decode};
use lookalike_engine::stages::rerank::{self, Scored};
use lookalike_engine::stages::route::{self, ClassTable, RouterConfig};
use lookalike_engine::stages::segment::{self, MaskSource, SegmentOptions};
use lookalike_engine::stages::{color, embed, retrieve, texture};

struct Specs {
    segmenter: InputSpec,
    embedder: InputSpec,
    classes: usize,
    embedding: usize,
    texture: usize,
}

fn specs() -> &'static Specs {
    static SPECS: OnceLock<Specs> = OnceLock::new();
    SPECS.get_or_init(|| {
        let dir = common::repo_root().join("models");
        let m = Manifest::load(&dir)
            .unwrap_or_else(|e| panic!("fuzz harness: cannot load {}: {e}", dir.display()));
        let model = |id: &str| m.model(id).unwrap_or_else(|e| panic!("fuzz harness: {e}"));
        let image_input = |id: &str| {
            model(id)
                .image_input(id)
                .unwrap_or_else(|e| panic!("fuzz harness: {e}"))
                .clone()
        };
        let out_len = |id: &str, name: &str| {
            model(id)
                .outputs
                .iter()
                .find(|o| o.name == name)
                .unwrap_or_else(|| panic!("fuzz harness: {id} has no output {name}"))
                .len()
        };
        Specs {
            segmenter: image_input("u2netp"),
            embedder: image_input("efficientnet_lite0"),
            classes: out_len("efficientnet_lite0", "logits"),
            embedding: out_len("efficientnet_lite0", "embedding"),
            texture: out_len("efficientnet_lite0", "texture"),
        }
    })
}

/// `n` numbers standing in for a model output: tensor values (finite, like a real pass), with
/// raw f32s from the input mixed in when `hostile` (NaN, infinities).
fn derived(tensor: &[f32], n: usize, salt: usize, raw: &[u8], hostile: bool) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n)
        .map(|i| tensor[(i * 7919 + salt) % tensor.len()] * (1.0 + (i % 13) as f32))
        .collect();
    if hostile {
        for (i, c) in raw.chunks_exact(4).take(n).enumerate().step_by(3) {
            v[i] = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    v
}

fn check_tensor(t: &[f32], spec: &InputSpec) {
    assert_eq!(t.len(), 3 * spec.width as usize * spec.height as usize);
    assert!(
        t.iter().all(|v| v.is_finite()),
        "non-finite value in the {} tensor",
        spec.name
    );
}

fn mask_for(img: &image::RgbaImage, k: &mut Knobs) -> GrayImage {
    let (w, h) = img.dimensions();
    match k.byte() % 7 {
        0 => GrayImage::from_fn(w, h, |x, y| {
            let p = img.get_pixel(x, y);
            Luma([((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) / 3) as u8])
        }),
        1 => {
            let (x0, y0) = (k.u32() % w, k.u32() % h);
            let (x1, y1) = (x0 + k.u32() % (w - x0), y0 + k.u32() % (h - y0));
            let v = k.byte();
            GrayImage::from_fn(w, h, |x, y| {
                Luma([if (x0..=x1).contains(&x) && (y0..=y1).contains(&y) {
                    v
                } else {
                    0
                }])
            })
        }
        2 => GrayImage::new(w, h),
        3 => GrayImage::from_pixel(w, h, Luma([255])),
        4 => {
            let mut m = GrayImage::new(w, h);
            let (x, y) = match k.byte() % 4 {
                0 => (0, 0),
                1 => (w - 1, h - 1),
                2 => (w - 1, 0),
                _ => (0, h - 1),
            };
            m.put_pixel(x, y, Luma([255]));
            m
        }
        5 => GrayImage::from_fn(w, h, |x, y| Luma([img.get_pixel(x, y)[3]])),
        _ => GrayImage::from_fn(w, h, |x, _| {
            Luma([(u64::from(x) * 255 / u64::from(w)) as u8])
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let specs = specs();
    let Ok(decoded) = decode(data, &DecodeOptions::default()) else {
        return;
    };
    let mut k = Knobs::new(data);
    let image = &decoded.image;
    let (w, h) = image.dimensions();
    let opts = SegmentOptions {
        threshold: k.unit(),
        min_foreground: k.unit() * 0.2,
        margin: k.unit() * 0.5,
    };

    // segment: the alpha path runs without a model; without alpha it must ask for one
    match segment::segment(&decoded, None, &opts) {
        Ok(_) => assert!(
            decoded.info.alpha_cutout,
            "segmented without a model or an alpha cut-out"
        ),
        Err(e) => assert!(!decoded.info.alpha_cutout, "alpha cut-out refused: {e}"),
    }
    let mask = mask_for(image, &mut k);
    let seg = segment::cut_out(image, mask, MaskSource::Model, Some("fuzz".into()), &opts);
    let [bx, by, bw, bh] = seg.info.bbox;
    assert!(bw >= 1 && bh >= 1, "empty crop {:?}", seg.info.bbox);
    assert!(
        bx + bw <= w && by + bh <= h,
        "crop {:?} outside {w}x{h}",
        seg.info.bbox
    );
    assert_eq!(seg.cutout.dimensions(), (bw, bh));
    assert_eq!(seg.mask.dimensions(), (w, h));
    assert!(
        within(seg.info.foreground, 0.0, 1.0),
        "{}",
        seg.info.foreground
    );

    // colour
    let sig = color::signature(&seg.cutout);
    assert!(sig.iter().all(|v| within(*v, 0.0, 1.0)), "{sig:?}");
    let whole = color::signature(image);
    assert!(within(color::similarity(&sig, &whole), 0.0, 1.0));
    assert!(within(color::similarity(&sig, &sig), 0.5, 1.0));

    // preprocessing as the two models of the lite profile see it
    let seg_tensor = to_tensor(image, &specs.segmenter);
    check_tensor(&seg_tensor, &specs.segmenter);
    let emb_tensor = to_tensor(&seg.cutout, &specs.embedder);
    check_tensor(&emb_tensor, &specs.embedder);

    // route: a class table over made-up categories, fed logits derived from the tensor
    let hostile = k.byte() & 1 == 1;
    let logits = derived(&emb_tensor, specs.classes, 1, data, hostile);
    let n_cat = 1 + usize::from(k.byte() % 9);
    let curated: Vec<Vec<u32>> = (0..n_cat)
        .map(|_| {
            (0..k.byte() % 6)
                .map(|_| k.u32() % (specs.classes as u32 + 8))
                .collect()
        })
        .collect();
    let learned: Vec<Vec<(u32, f32)>> = (0..n_cat)
        .map(|_| {
            (0..k.byte() % 4)
                .map(|_| (k.u32() % (specs.classes as u32 + 8), k.any_f32()))
                .collect()
        })
        .collect();
    let curated_refs: Vec<&[u32]> = curated.iter().map(Vec::as_slice).collect();
    let learned_refs: Vec<&[(u32, f32)]> = learned.iter().map(Vec::as_slice).collect();
    let table = ClassTable::new(specs.classes, &curated_refs, &learned_refs);
    let (shares, mass) = table.scores(&logits);
    assert_eq!(shares.len(), n_cat);
    let names: Vec<String> = (0..n_cat).map(|i| format!("cat{i}")).collect();
    let cfg = RouterConfig {
        second_threshold: k.unit(),
        min_confidence: k.unit() * 0.2,
        temperature: 1.0 + k.unit() * 200.0,
    };
    let r = route::decide(&names, &shares, mass, &cfg);
    assert_eq!(r.scores.len(), n_cat);
    assert!(!r.selected.is_empty() && r.selected.len() <= n_cat);
    assert!(r.selected.iter().all(|i| *i < n_cat));
    assert_eq!(r.searched.len(), r.selected.len());
    let pick = usize::from(k.byte()) % n_cat;
    let r = route::overridden(r, &names, pick);
    assert_eq!(r.selected, vec![pick]);
    let top = route::top_classes(&logits, 5, 0.01);
    assert!(top.len() <= 5 && top.iter().all(|(c, _)| (*c as usize) < specs.classes));

    // embed + prototype router
    let emb = embed::embedding(&derived(&emb_tensor, specs.embedding, 2, data, hostile));
    assert_eq!(emb.len(), specs.embedding);
    let protos: Vec<Vec<f32>> = (0..n_cat)
        .map(|c| embed::embedding(&derived(&seg_tensor, specs.embedding, 3 + c, data, false)))
        .collect();
    let proto_refs: Vec<&[f32]> = protos.iter().map(Vec::as_slice).collect();
    assert_eq!(
        route::prototype_scores(&emb, &proto_refs, cfg.temperature).len(),
        n_cat
    );
    if !hostile {
        let norm = lookalike_engine::vector::dot(&emb, &emb);
        assert!(
            norm == 0.0 || (norm - 1.0).abs() < 1e-3,
            "embedding norm^2 {norm}"
        );
    }

    // retrieve: a small catalog of derived rows, categories tiling it
    let rows = 1 + usize::from(k.byte() % 64);
    let mut matrix = Vec::with_capacity(rows * specs.embedding);
    for r in 0..rows {
        matrix.extend(embed::embedding(&derived(
            &seg_tensor,
            specs.embedding,
            11 + r,
            data,
            false,
        )));
    }
    let split = usize::from(k.byte()) % (rows + 1);
    let candidates = 1 + usize::from(k.byte() % 60);
    let found = retrieve::scan_top_k(
        &matrix,
        specs.embedding,
        &[0..split, split..rows],
        &emb,
        candidates,
    );
    assert_eq!(found.count, rows);
    let short = found.top;
    assert_eq!(short.len(), rows.min(candidates));
    assert!(short.windows(2).all(|p| p[0].1.total_cmp(&p[1].1).is_ge()));

    // texture + colour per candidate, then rerank
    let tex_raw = derived(&emb_tensor, specs.texture, 5, data, hostile);
    let center = if k.byte() & 1 == 1 {
        texture::center(&[
            derived(&seg_tensor, specs.texture, 6, data, false),
            tex_raw.clone(),
        ])
    } else {
        Vec::new()
    };
    let tq = texture::descriptor(&tex_raw, &center);
    assert_eq!(tq.len(), specs.texture);
    let weights = BlendWeights {
        semantic: k.unit(),
        texture: k.unit(),
        color: k.unit(),
    };
    if weights.validate().is_err() {
        assert_eq!(weights.semantic + weights.texture + weights.color, 0.0);
        return;
    }
    let text = String::from_utf8_lossy(&data[..data.len().min(24)]);
    let _ = BlendWeights::parse(&text);
    let cands: Vec<Scored> = short
        .iter()
        .map(|&(row, semantic)| {
            let texture = texture::similarity(&tq, &tq);
            let frame = k.unit() * 2.0 - 1.0;
            Scored {
                prior: k.unit(),
                ..Scored::new(
                    row,
                    semantic,
                    frame,
                    texture,
                    color::similarity(&sig, &whole),
                )
            }
        })
        .collect();
    let top_k = 1 + usize::from(k.byte() % 10);
    let scoring = rerank::Scoring {
        blend: weights,
        frame: k.unit(),
        route_prior: k.unit(),
    };
    assert!(scoring.validate().is_ok());
    let ranked = rerank::rank(&cands, &scoring, top_k);
    assert_eq!(ranked.len(), top_k.min(short.len()));
    assert!(
        ranked
            .windows(2)
            .all(|p| p[0].score.total_cmp(&p[1].score).is_ge())
    );
});
