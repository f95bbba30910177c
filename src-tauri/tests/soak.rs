//! Soak: one app process, many searches (issue 16, item 2). Two threads search through the same
//! `AppState` the app manages, over the bench photos (the demo's every 6th Vendure photo, as
//! `scripts/env.sh` `bench_photos` picks them) and the hostile-file corpus (`tests/bad-inputs/`),
//! mixed. Every answer must equal the sequential one (the same ids and scores, or the same error
//! code and message), and every `EVERY` searches the process's resident memory, open file
//! descriptors and threads are sampled from `/proc/self`.
//!
//! - `cargo test -p lookalike-app --test soak`: the short soak (`SHORT` searches), part of
//!   `cargo xtask test`: no fd or thread growth after the first sample, and resident memory in the
//!   last third within `SHORT_RSS_TOLERANCE` of the middle third.
//! - `bash scripts/soak.sh` (`cargo xtask soak`): the long one, `LOOKALIKE_SOAK_SEARCHES` (5,000)
//!   searches, ignored by a plain `cargo test`; its samples go to `bench/results/soak.json`. It
//!   also requires the rule: the mean resident memory of the last 1,000 searches within 5%
//!   of the 1,000 before them.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use lookalike_app_lib::commands;
use lookalike_app_lib::state::{AppState, EnginePaths, EngineStatus};
use lookalike_tests::{bench_photos, models_dir, proc_status_kib, repo};

const THREADS: usize = 2;
const SHORT: usize = 300;
const SHORT_EVERY: usize = 25;
const SHORT_RSS_TOLERANCE: f64 = 0.10;
const LONG_EVERY: usize = 250;
const LONG_WINDOW: usize = 1000;
const LONG_RSS_TOLERANCE: f64 = 0.05;

/// What one search answered: the top-10 (id, score), or the error's code and message.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Hits(Vec<(String, f32)>),
    Error(String),
}

impl Answer {
    fn same_as(&self, want: &Answer) -> bool {
        match (self, want) {
            (Answer::Hits(a), Answer::Hits(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.0 == y.0 && (x.1 - y.1).abs() < 1e-5)
            }
            (a, b) => a == b,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    searches: usize,
    seconds: f64,
    rss_mib: f64,
    fds: usize,
    threads: usize,
}

fn sample(searches: usize, start: Instant) -> Sample {
    Sample {
        searches,
        seconds: start.elapsed().as_secs_f64(),
        rss_mib: proc_status_kib("VmRSS:") / 1024.0,
        fds: std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .count(),
        threads: proc_status_kib("Threads:") as usize,
    }
}

/// The bench photos (`bench_photos` in scripts/env.sh: every 6th Vendure JPEG, sorted) and every
/// file of the hostile corpus, interleaved so that good and bad inputs alternate.
fn inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let photos = bench_photos();
    let corpus_dir = repo().join("tests/bad-inputs");
    let not_inputs = ["SHA256SUMS", "expected.toml", "make_corpus.py", "order.txt"];
    let mut corpus: Vec<PathBuf> = std::fs::read_dir(&corpus_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        // files only: `cargo xtask test` byte-compiles make_corpus.py into __pycache__/ here
        .filter(|p| p.is_file())
        .filter(|p| !not_inputs.contains(&p.file_name().unwrap().to_string_lossy().as_ref()))
        .collect();
    corpus.sort();
    assert!(photos.len() >= 5, "only {} bench photos", photos.len());
    assert!(corpus.len() >= 30, "only {} corpus files", corpus.len());
    let mut mixed = Vec::new();
    let n = photos.len().max(corpus.len());
    for i in 0..n {
        if i < photos.len() {
            mixed.push(photos[i].clone());
        }
        if i < corpus.len() {
            mixed.push(corpus[i].clone());
        }
    }
    mixed
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

struct Soak {
    samples: Vec<Sample>,
    inputs: usize,
    errors_per_round: usize,
    seconds: f64,
}

fn soak(total: usize, every: usize) -> Soak {
    let state = AppState::default();
    let status = state.load(&EnginePaths {
        models: models_dir(),
        catalog: repo().join("catalog/demo"),
        dylib: None,
    });
    assert!(
        matches!(status, EngineStatus::Ready { .. }),
        "engine: {status:?}"
    );
    let options = commands::parse_options(None).unwrap();
    let answer = |state: &AppState, bytes: &[u8]| -> Answer {
        match commands::search_impl(state, bytes, &options) {
            Ok(r) => Answer::Hits(
                r.result
                    .results
                    .into_iter()
                    .map(|h| (h.id, h.score))
                    .collect(),
            ),
            Err(e) => Answer::Error(format!("{:?}: {}", e.code, e.message)),
        }
    };
    let inputs = inputs();
    // the sequential answers, which also warm every session and allocator path once
    let expected: Vec<Answer> = inputs.iter().map(|(_, b)| answer(&state, b)).collect();
    let errors_per_round = expected
        .iter()
        .filter(|a| matches!(a, Answer::Error(_)))
        .count();
    assert!(
        errors_per_round > 0 && errors_per_round < inputs.len(),
        "the mix must hold good and bad inputs"
    );

    let start = Instant::now();
    let done = AtomicUsize::new(0);
    let samples = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                loop {
                    let n = done.fetch_add(1, Ordering::SeqCst);
                    if n >= total {
                        break;
                    }
                    let k = n % inputs.len();
                    let got = answer(&state, &inputs[k].1);
                    assert!(
                        got.same_as(&expected[k]),
                        "search {n} ({}): {got:?}, sequentially {:?}",
                        inputs[k].0.display(),
                        expected[k]
                    );
                    if (n + 1).is_multiple_of(every) {
                        samples.lock().unwrap().push(sample(n + 1, start));
                    }
                }
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut samples = samples.into_inner().unwrap();
    samples.sort_by_key(|s| s.searches);
    Soak {
        samples,
        inputs: inputs.len(),
        errors_per_round,
        seconds,
    }
}

fn mean_rss(samples: &[Sample], from: usize, to: usize) -> f64 {
    let window: Vec<f64> = samples
        .iter()
        .filter(|s| s.searches > from && s.searches <= to)
        .map(|s| s.rss_mib)
        .collect();
    assert!(!window.is_empty(), "no samples in searches {from}..{to}");
    window.iter().sum::<f64>() / window.len() as f64
}

/// No descriptor or thread more than at the first sample (taken while both searchers run, after the
/// sequential pass ran every input once, so every session and thread pool exists by then): any
/// growth is a leak.
fn assert_no_growth(samples: &[Sample]) {
    let first = samples[0];
    for s in samples {
        assert!(
            s.fds <= first.fds,
            "open fds grew from {} to {} by search {}",
            first.fds,
            s.fds,
            s.searches
        );
        assert!(
            s.threads <= first.threads,
            "threads grew from {} to {} by search {}",
            first.threads,
            s.threads,
            s.searches
        );
    }
}

fn report(soak: &Soak) -> String {
    let last = soak.samples.last().unwrap();
    format!(
        "soak: {} searches ({} inputs a round, {} of them refused) on {THREADS} threads in {:.0} s, \
         every answer equal to the sequential one; RSS {:.0} -> {:.0} MiB, fds {} -> {}, threads {} -> {}",
        last.searches,
        soak.inputs,
        soak.errors_per_round,
        soak.seconds,
        soak.samples[0].rss_mib,
        last.rss_mib,
        soak.samples[0].fds,
        last.fds,
        soak.samples[0].threads,
        last.threads
    )
}

#[test]
fn a_short_soak_leaks_nothing_and_answers_the_same() {
    let soak = soak(SHORT, SHORT_EVERY);
    println!("{}", report(&soak));
    assert_no_growth(&soak.samples);
    let (middle, last) = (
        mean_rss(&soak.samples, SHORT / 3, 2 * SHORT / 3),
        mean_rss(&soak.samples, 2 * SHORT / 3, SHORT),
    );
    assert!(
        last <= middle * (1.0 + SHORT_RSS_TOLERANCE),
        "resident memory grew: {middle:.1} MiB in the middle third, {last:.1} MiB in the last"
    );
}

/// `bash scripts/soak.sh`: the long soak, with its samples written to bench/results/soak.json.
#[test]
#[ignore = "minutes of CPU: bash scripts/soak.sh"]
fn the_long_soak() {
    let total: usize = std::env::var("LOOKALIKE_SOAK_SEARCHES")
        .ok()
        .map(|v| v.parse().expect("LOOKALIKE_SOAK_SEARCHES: a number"))
        .unwrap_or(5000);
    assert!(
        total >= 2 * LONG_WINDOW,
        "at least {} searches",
        2 * LONG_WINDOW
    );
    let soak = soak(total, LONG_EVERY);
    println!("{}", report(&soak));
    let before = mean_rss(&soak.samples, total - 2 * LONG_WINDOW, total - LONG_WINDOW);
    let last = mean_rss(&soak.samples, total - LONG_WINDOW, total);
    let growth = last / before - 1.0;
    let rows: Vec<String> = soak
        .samples
        .iter()
        .map(|s| {
            format!(
                "  {{\"searches\": {}, \"seconds\": {:.1}, \"rss_mib\": {:.1}, \"fds\": {}, \"threads\": {}}}",
                s.searches, s.seconds, s.rss_mib, s.fds, s.threads
            )
        })
        .collect();
    let json = format!(
        "{{\"searches\": {total}, \"threads\": {THREADS}, \"inputs_per_round\": {}, \"refused_per_round\": {}, \
         \"seconds\": {:.1}, \"rss_mean_mib_before_last_window\": {before:.1}, \"rss_mean_mib_last_window\": {last:.1}, \
         \"rss_growth\": {growth:.4}, \"window\": {LONG_WINDOW}, \"about\": \"bash scripts/soak.sh: one AppState, \
         {THREADS} threads, the bench photos and tests/bad-inputs mixed; samples of /proc/self every {LONG_EVERY} searches\", \
         \"samples\": [\n{}\n]}}\n",
        soak.inputs,
        soak.errors_per_round,
        soak.seconds,
        rows.join(",\n")
    );
    let out = repo().join("bench/results/soak.json");
    std::fs::write(&out, json).unwrap();
    println!("written: {}", out.display());
    assert_no_growth(&soak.samples);
    assert!(
        growth.abs() <= LONG_RSS_TOLERANCE,
        "resident memory of the last {LONG_WINDOW} searches {last:.1} MiB vs {before:.1} MiB before: {:+.1}%",
        100.0 * growth
    );
}
