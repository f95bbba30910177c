//! Golden tests on the real weights: U2Netp's mask against a ground-truth alpha, and
//! EfficientNet-Lite0's ImageNet answer for a known photo.

use lookalike_engine::models::{Manifest, ModelRegistry, RuntimeOptions};
use lookalike_engine::stages::decode::{DecodeOptions, decode};
use lookalike_engine::stages::route::softmax;
use lookalike_engine::stages::segment::{mask_iou, saliency};
use lookalike_tests::{fixture, models_dir};

fn registry() -> ModelRegistry {
    ModelRegistry::new(
        Manifest::load(&models_dir()).expect("manifest"),
        RuntimeOptions::default(),
        false,
    )
}

#[test]
fn u2netp_mask_matches_the_gift_box_alpha() {
    for id in ["u2netp", "u2netp_int8"] {
        gift_box_iou(id);
    }
}

fn gift_box_iou(id: &str) {
    let models = registry();
    let u2netp = models.get(id).expect("segmenter loads");
    let bytes = std::fs::read(fixture("gift_box.png")).unwrap();
    let decoded = decode(&bytes, &DecodeOptions::default()).unwrap();
    assert!(
        decoded.info.alpha_cutout,
        "the gift box ships with a ground-truth alpha"
    );
    let truth = image::GrayImage::from_fn(decoded.image.width(), decoded.image.height(), |x, y| {
        image::Luma([decoded.image.get_pixel(x, y)[3]])
    });
    // the model sees the box on the manifest's background colour, never its alpha
    let mask = saliency(&u2netp, &decoded.image).unwrap();
    assert_eq!(
        mask.dimensions(),
        truth.dimensions(),
        "mask comes back at input resolution"
    );
    let iou = mask_iou(&mask, &truth, 128);
    println!("{id} IoU vs gift box alpha: {iou:.3}");
    assert!(iou >= 0.9, "{id}: IoU {iou:.3} < 0.9");
}

/// The searches' INT8 segmenter must cut products out like the FP32 model it was made from.
#[test]
fn int8_u2netp_masks_agree_with_fp32_on_product_photos() {
    let models = registry();
    let (fp32, int8) = (
        models.get("u2netp").unwrap(),
        models.get("u2netp_int8").unwrap(),
    );
    let mut photos: Vec<_> = std::fs::read_dir(lookalike_tests::demo_sources().join("images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    photos.sort();
    let mut ious: Vec<f64> = photos
        .iter()
        .step_by(3)
        .map(|p| {
            let decoded = decode(&std::fs::read(p).unwrap(), &DecodeOptions::default()).unwrap();
            let a = saliency(&fp32, &decoded.image).unwrap();
            let b = saliency(&int8, &decoded.image).unwrap();
            f64::from(mask_iou(&b, &a, 128))
        })
        .collect();
    ious.sort_by(f64::total_cmp);
    let mean = ious.iter().sum::<f64>() / ious.len() as f64;
    let median = ious[ious.len() / 2];
    println!(
        "INT8 vs FP32 U2Netp mask IoU over {} photos: mean {mean:.3}, median {median:.3}, min {:.3}",
        ious.len(),
        ious[0]
    );
    assert!(ious.len() >= 10);
    assert!(mean >= 0.9 && median >= 0.95, "{ious:?}");
}

#[test]
fn efficientnet_lite0_sees_coffee_as_a_cup_or_espresso() {
    let models = registry();
    let net = models
        .get("efficientnet_lite0")
        .expect("EfficientNet-Lite0 loads");
    let bytes = std::fs::read(fixture("coffee.png")).unwrap();
    let decoded = decode(&bytes, &DecodeOptions::default()).unwrap();
    let out = net.run(&decoded.image).unwrap();
    let probs = softmax(&out["logits"].data);
    let top = (0..probs.len())
        .max_by(|a, b| probs[*a].total_cmp(&probs[*b]))
        .unwrap();
    let labels = std::fs::read_to_string(models_dir().join("imagenet_labels.txt")).unwrap();
    let label = labels.lines().nth(top).unwrap_or("?");
    println!("coffee.png -> {top} {label} ({:.2})", probs[top]);
    assert!(
        top == 967 || top == 968,
        "top class {top} ({label}) is neither espresso (967) nor cup (968)"
    );
    assert_eq!(out["embedding"].data.len(), 1280);
    assert_eq!(out["texture"].data.len(), 240);
    // same image, same numbers: the session is deterministic
    let again = net.run(&decoded.image).unwrap();
    assert_eq!(again["embedding"].data, out["embedding"].data);
}

#[test]
fn efficientnet_lite0_tells_a_cat_from_coffee() {
    let models = registry();
    let net = models.get("efficientnet_lite0").unwrap();
    let embed = |name: &str| {
        let decoded = decode(
            &std::fs::read(fixture(name)).unwrap(),
            &DecodeOptions::default(),
        )
        .unwrap();
        let mut e = net.run(&decoded.image).unwrap()["embedding"].data.clone();
        lookalike_engine::vector::l2_normalize(&mut e);
        e
    };
    let (coffee, cat, cat_small) = (embed("coffee.png"), embed("chelsea.png"), {
        // the same cat, downscaled and re-encoded
        let img = image::open(fixture("chelsea.png")).unwrap().resize(
            200,
            200,
            image::imageops::FilterType::Triangle,
        );
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        let decoded = decode(&bytes, &DecodeOptions::default()).unwrap();
        let mut e = net.run(&decoded.image).unwrap()["embedding"].data.clone();
        lookalike_engine::vector::l2_normalize(&mut e);
        e
    });
    let dot = lookalike_engine::vector::dot;
    assert!(
        dot(&cat, &cat_small) > dot(&cat, &coffee) + 0.2,
        "{} vs {}",
        dot(&cat, &cat_small),
        dot(&cat, &coffee)
    );
}
