//! Load: 8 concurrent searchers, 200 searches in all, through the same `AppState` the app manages.
//! Every answer must equal the sequential one (no cross-talk between searches), nothing may
//! deadlock, and the peak memory is reported.

use std::sync::Arc;
use std::time::Instant;

use lookalike_app_lib::commands;
use lookalike_app_lib::state::{AppState, EnginePaths, EngineStatus};
use lookalike_tests::{build_catalog, demo_sources, fixture, models_dir, proc_status_kib};

const SEARCHERS: usize = 8;
const SEARCHES: usize = 200;

fn peak_rss_mib() -> f64 {
    proc_status_kib("VmHWM:") / 1024.0
}

#[test]
fn eight_concurrent_searchers_get_the_sequential_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = [
        "vendure-laptop",
        "vendure-tent",
        "vendure-road-bike",
        "saleor-orange-juice",
        "saleor-polo-shirt",
        "vendure-spiky-cactus",
    ];
    let catalog = build_catalog(tmp.path(), &ids);
    let state = Arc::new(AppState::default());
    assert!(matches!(
        state.load(&EnginePaths {
            models: models_dir(),
            catalog,
            dylib: None
        }),
        EngineStatus::Ready { .. }
    ));

    let mut photos: Vec<Vec<u8>> = [
        "vendure-laptop.jpg",
        "vendure-tent.jpg",
        "vendure-road-bike.jpg",
        "saleor-polo-shirt.png",
    ]
    .iter()
    .map(|f| std::fs::read(demo_sources().join("images").join(f)).unwrap())
    .collect();
    photos.extend(
        ["coffee.png", "chelsea.png", "gift_box.png", "rocket.jpg"]
            .iter()
            .map(|f| std::fs::read(fixture(f)).unwrap()),
    );
    let photos = Arc::new(photos);
    let options = commands::parse_options(None).unwrap();
    let answer = |bytes: &[u8]| -> Vec<(String, f32)> {
        commands::search_impl(&state, bytes, &options)
            .unwrap()
            .result
            .results
            .into_iter()
            .map(|h| (h.id, h.score))
            .collect()
    };
    let expected: Arc<Vec<Vec<(String, f32)>>> =
        Arc::new(photos.iter().map(|p| answer(p)).collect());

    let start = Instant::now();
    let workers: Vec<_> = (0..SEARCHERS)
        .map(|w| {
            let (state, photos, expected, options) = (
                state.clone(),
                photos.clone(),
                expected.clone(),
                options.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..SEARCHES / SEARCHERS {
                    let k = (w + i) % photos.len();
                    let got: Vec<(String, f32)> =
                        commands::search_impl(&state, &photos[k], &options)
                            .unwrap()
                            .result
                            .results
                            .into_iter()
                            .map(|h| (h.id, h.score))
                            .collect();
                    let want = &expected[k];
                    assert_eq!(
                        got.iter().map(|g| &g.0).collect::<Vec<_>>(),
                        want.iter().map(|w| &w.0).collect::<Vec<_>>(),
                        "photo {k}"
                    );
                    for (g, w) in got.iter().zip(want.iter()) {
                        assert!(
                            (g.1 - w.1).abs() < 1e-5,
                            "photo {k}: score {} vs {}",
                            g.1,
                            w.1
                        );
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a searcher panicked");
    }
    println!(
        "load: {SEARCHERS} searchers x {} = {SEARCHES} searches in {:.1} s, all equal to the sequential answers; peak RSS {:.0} MiB",
        SEARCHES / SEARCHERS,
        start.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}
