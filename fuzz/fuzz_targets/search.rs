//! `search` (slow, ~5 execs/s): arbitrary bytes -> `Engine::search` on a real engine.
//!
//! The engine is opened once per process: the lite profile's models from `<root>/models`, the
//! catalog from `$LOOKALIKE_FUZZ_CATALOG` (default `<root>/catalog/demo`, built by
//! scripts/setup.sh), ONNX Runtime from `$ORT_DYLIB_PATH` (default
//! `models/runtime/libonnxruntime.so`). Search options (category override, weights, top-k) come
//! from the input's last bytes. Run it for a short time only: every input that decodes costs two
//! model passes.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use common::{Knobs, within};
use libfuzzer_sys::fuzz_target;
use lookalike_engine::{BlendWeights, Engine, EngineConfig, SearchOptions};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let root = common::repo_root();
        let catalog = std::env::var_os("LOOKALIKE_FUZZ_CATALOG")
            .map_or_else(|| root.join("catalog/demo"), Into::into);
        let mut config = EngineConfig::new(root.join("models"), catalog);
        config.runtime.intra_threads = 1;
        Engine::open(config).unwrap_or_else(|e| {
            panic!("fuzz harness: cannot open the engine (run scripts/setup.sh first): {e}")
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let mut k = Knobs::new(data);
    let names = engine.catalog().category_names();
    let mut opts = SearchOptions {
        include_candidates: true,
        ..SearchOptions::default()
    };
    let knob = k.byte();
    if knob & 1 == 1 {
        let i = usize::from(knob >> 1);
        opts.category = Some(
            names
                .get(i % (names.len() + 1))
                .cloned()
                .unwrap_or("no-such".into()),
        );
    }
    if knob & 2 == 2 {
        opts.weights = Some(BlendWeights {
            semantic: k.unit(),
            texture: k.unit(),
            color: k.unit(),
        });
    }
    if knob & 4 == 4 {
        opts.top_k = usize::from(k.byte() % 12);
        opts.candidates = usize::from(k.byte() % 60);
    }
    let Ok(r) = engine.search(data, &opts) else {
        return;
    };
    // each of the query's two views brings its own top candidates
    assert!(r.results.len() <= opts.top_k && r.candidates.len() <= 2 * opts.candidates);
    // a chosen category is the only one searched
    let reachable = match &opts.category {
        Some(name) => (engine.catalog().file.categories.iter())
            .filter(|c| &c.def.name == name)
            .map(|c| c.rows[1] - c.rows[0])
            .sum(),
        None => engine.catalog().len(),
    };
    assert!(
        r.results.len() == opts.top_k.min(reachable),
        "{} results",
        r.results.len()
    );
    assert_eq!(
        r.verdict,
        lookalike_engine::SearchResult::judge(&r.results, engine.match_rule())
    );
    for (i, hit) in r.results.iter().enumerate() {
        assert_eq!(hit.rank, i + 1);
        assert!(hit.score.is_finite() && hit.semantic.is_finite() && hit.texture.is_finite());
        assert!(within(hit.color, 0.0, 1.0), "colour score {}", hit.color);
    }
    for c in &r.categories {
        assert!(c.score.is_finite(), "category {} score {}", c.name, c.score);
    }
    assert!(r.timings.total_ms.is_finite() && r.timings.total_ms >= 0.0);
    let (w, h) = r.mask.dimensions();
    assert_eq!((w, h), (r.image.width, r.image.height));
});
