//! Phone-sized photos (12 and 48 MP JPEGs made from the bench photos) on the real lite pipeline:
//! the scaled JPEG decode must find what the full-size decode finds.

use lookalike_engine::stages::decode::DecodeOptions;
use lookalike_engine::{Engine, EngineConfig, SearchOptions};
use lookalike_tests::{bench_photos, models_dir, phone_photo, repo};

fn engine(scaled_jpeg: bool) -> Engine {
    let mut config = EngineConfig::new(models_dir(), repo().join("catalog/demo"));
    config.decode = DecodeOptions {
        scaled_jpeg,
        ..DecodeOptions::default()
    };
    Engine::open(config).expect("demo catalog opens: run `bash scripts/setup.sh core`")
}

fn top10(engine: &Engine, bytes: &[u8]) -> Vec<(String, f32)> {
    let r = engine
        .search(bytes, &SearchOptions::default())
        .expect("phone photo searches");
    r.results.iter().map(|h| (h.id.clone(), h.score)).collect()
}

#[test]
fn scaled_decode_finds_the_same_top10_as_the_full_decode() {
    let (scaled, full) = (engine(true), engine(false));
    let photos = bench_photos();
    // three 12 MP photos (one held upright: EXIF orientation 6) and one 48 MP
    let cases = [
        (0, 4000, 3000, None),
        (1, 4000, 3000, Some(6)),
        (2, 4000, 3000, None),
        (3, 8000, 6000, None),
    ];
    let mut report = Vec::new();
    for (i, w, h, orientation) in cases {
        let original = std::fs::read(&photos[i]).expect("bench photo");
        let bytes = phone_photo(&original, w, h, orientation);
        let (a, b) = (top10(&scaled, &bytes), top10(&full, &bytes));
        let ids = |v: &[(String, f32)]| v.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
        let mut sa = ids(&a);
        let mut sb = ids(&b);
        assert_eq!(
            sa[0],
            sb[0],
            "{}: the first result differs",
            photos[i].display()
        );
        sa.sort();
        sb.sort();
        assert_eq!(sa, sb, "{}: the top 10 differ", photos[i].display());
        let worst = a
            .iter()
            .map(|(id, s)| (s - b.iter().find(|(j, _)| j == id).map_or(0.0, |(_, t)| *t)).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 0.02,
            "{}: a score moved by {worst}",
            photos[i].display()
        );
        report.push(format!(
            "{} {w}x{h}: same order {}, largest score difference {worst:.4}",
            photos[i].file_name().unwrap_or_default().to_string_lossy(),
            ids(&a) == ids(&b)
        ));
    }
    println!("{}", report.join("\n"));
}
