//! The index-time refine stage (SAM 2 prompted by the saliency mask) on the generated SAM 2
//! graphs of models/generated/ (same I/O as models/export/export_sam2.py's export), loaded
//! through a manifest overlay, on a real demo photo and its real U2Netp saliency mask.
//! The test decoder answers three candidates: the dark pixels, the prompt's box, and the
//! complement of the dark pixels, whose own score is the highest (see make_sam2_test_graphs.py).

use std::path::Path;
use std::sync::Arc;

use image::{GrayImage, Luma, RgbaImage};
use lookalike_engine::models::{LoadedModel, Manifest, ModelRegistry, RuntimeOptions};
use lookalike_engine::stages::decode::{self, DecodeOptions};
use lookalike_engine::stages::refine::{Refined, Refiner};
use lookalike_engine::stages::segment::{mask_iou, saliency};
use lookalike_tests::{demo_sources, models_dir};

/// A models folder: the committed manifest with its overlays pointing at the SAM 2 test
/// graphs' manifest snippet, the committed models linked beside it.
fn models_with_sam(dir: &Path) -> ModelRegistry {
    let models = models_dir();
    let manifest = std::fs::read_to_string(models.join("manifest.toml")).unwrap();
    let (text, n) = (
        manifest.replacen(
            "overlays = [\"full/seed.manifest.toml\", \"full/sam2.manifest.toml\"]",
            "overlays = [\"sam2.manifest.toml\"]",
            1,
        ),
        manifest.matches("overlays = [").count(),
    );
    assert!(
        n == 1 && text != manifest,
        "the manifest lists its overlays"
    );
    std::fs::write(dir.join("manifest.toml"), text).unwrap();
    // the snippet's paths are relative to models/: as an overlay at the folder's root they are
    // relative to the same place
    std::fs::copy(
        models.join("generated/sam2_manifest_snippet.toml"),
        dir.join("sam2.manifest.toml"),
    )
    .unwrap();
    for link in ["u2netp.onnx", "runtime", "generated"] {
        std::os::unix::fs::symlink(models.join(link), dir.join(link)).unwrap();
    }
    let manifest = Manifest::load(dir).expect("the overlay merges");
    assert_eq!(manifest.merged.len(), 1);
    ModelRegistry::new(manifest, RuntimeOptions::default(), true)
}

fn sam(models: &ModelRegistry) -> (Arc<LoadedModel>, Arc<LoadedModel>) {
    (
        models.get("sam2_encoder").expect("encoder loads"),
        models.get("sam2_decoder").expect("decoder loads"),
    )
}

fn photo(models: &ModelRegistry) -> (RgbaImage, GrayImage) {
    let bytes = std::fs::read(demo_sources().join("images/vendure-laptop.jpg")).unwrap();
    let image = decode::decode(&bytes, &DecodeOptions::default())
        .unwrap()
        .image;
    let mask = saliency(&models.get("u2netp").unwrap(), &image).unwrap();
    (image, mask)
}

fn invert(mask: &GrayImage) -> GrayImage {
    GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        Luma([255 - mask.get_pixel(x, y)[0]])
    })
}

#[test]
fn sam_refines_a_photo_with_the_mask_that_agrees_not_the_one_it_scores_best() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_with_sam(tmp.path());
    let (encoder, decoder) = sam(&models);
    let refiner = Refiner::new(encoder, decoder, 0.5).unwrap();
    let (image, saliency) = photo(&models);
    match refiner.refine(&image, &saliency, 0.5).unwrap() {
        Refined::Mask { mask, agreement } => {
            assert_eq!(mask.dimensions(), image.dimensions());
            assert!(agreement >= 0.5, "agreement {agreement}");
            let iou = mask_iou(&mask, &saliency, 128);
            assert!(iou >= 0.5, "refined mask vs saliency IoU {iou}");
            let background = mask_iou(&mask, &invert(&saliency), 128);
            assert!(
                background < 0.3,
                "the decoder's best-scored candidate is the background; it must not win: IoU {background}"
            );
        }
        other => panic!("expected a refined mask, got {other:?}"),
    }
    // the same answer, demanded at an agreement no candidate reaches, leaves the saliency mask
    let (encoder, decoder) = sam(&models);
    let strict = Refiner::new(encoder, decoder, 0.999).unwrap();
    assert!(matches!(
        strict.refine(&image, &saliency, 0.5).unwrap(),
        Refined::Disagreed { agreement } if agreement < 0.999
    ));
}

#[test]
fn a_thin_saliency_mask_that_no_candidate_matches_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_with_sam(tmp.path());
    let (encoder, decoder) = sam(&models);
    let refiner = Refiner::new(encoder, decoder, 0.5).unwrap();
    // a plain white image (no dark pixels) and a diagonal stripe: its box is the whole image
    let image = RgbaImage::from_pixel(400, 400, image::Rgba([255, 255, 255, 255]));
    let stripe = GrayImage::from_fn(400, 400, |x, y| {
        Luma([if x.abs_diff(y) < 4 { 255 } else { 0 }])
    });
    match refiner.refine(&image, &stripe, 0.5).unwrap() {
        Refined::Disagreed { agreement } => assert!(agreement < 0.1, "{agreement}"),
        other => panic!("expected the saliency mask to stay, got {other:?}"),
    }
    assert!(matches!(
        refiner
            .refine(&image, &GrayImage::new(400, 400), 0.5)
            .unwrap(),
        Refined::NoPrompt
    ));
}

#[test]
fn a_decoder_paired_with_the_wrong_encoder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_with_sam(tmp.path());
    let (_, decoder) = sam(&models);
    let u2netp = models.get("u2netp").unwrap();
    let err = Refiner::new(u2netp, decoder, 0.5).err().expect("refused");
    assert!(err.to_string().contains("sam2_encoder"), "{err}");
}
