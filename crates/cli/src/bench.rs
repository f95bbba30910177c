//! `lookalike bench`: per-stage latency (min / p50 / p95) of real searches, plus the cold start
//! (engine load, its warm-up search, the first search after them) and peak memory. One untimed
//! search per image comes before the timed runs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lookalike_engine::{SearchOptions, Stage, Timings};
use serde_json::json;

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long)]
    catalog: PathBuf,
    #[arg(long)]
    profile: Option<String>,
    /// Timed runs per image (after one warm-up run each).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    allow_random_weights: bool,
    /// Decode every JPEG at full size, then shrink (the baseline of the scaled JPEG decode).
    #[arg(long)]
    full_decode: bool,
    /// Skip the engine's warm-up search after opening (what the first search costs without it).
    #[arg(long)]
    no_warm_up: bool,
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

/// One row per pipeline stage, then the whole search.
fn rows() -> impl Iterator<Item = (&'static str, Option<Stage>)> {
    let stages = Stage::ALL.into_iter().map(|s| (s.name(), Some(s)));
    stages.chain([("total", None)])
}

fn ms(t: &Timings, stage: Option<Stage>) -> f64 {
    stage.map_or(t.total_ms, |s| t.ms(s))
}

/// A search's times keyed by stage name, plus `total` (the shape `bench/race.py` pools).
fn keyed(t: &Timings) -> serde_json::Value {
    rows()
        .map(|(n, s)| (n.to_string(), json!(ms(t, s))))
        .collect()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.saturating_sub(1).min(sorted.len() - 1)]
}

/// Peak resident memory of this process (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn run(models: PathBuf, args: BenchArgs) -> Result<ExitCode> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let load = Instant::now();
    let mut config = super::engine_config(
        models,
        args.catalog.clone(),
        args.profile.clone(),
        args.allow_random_weights,
    );
    config.decode.scaled_jpeg = !args.full_decode;
    let engine = super::open_engine_with(config)?;
    let load_ms = load.elapsed().as_secs_f64() * 1000.0;
    let warm = Instant::now();
    if !args.no_warm_up {
        engine.warm_up().context("warming the engine up")?;
    }
    let warm_up_ms = (!args.no_warm_up).then(|| warm.elapsed().as_secs_f64() * 1000.0);
    let inputs: Vec<(PathBuf, Vec<u8>)> = args
        .images
        .iter()
        .map(|p| {
            std::fs::read(p)
                .with_context(|| format!("reading {}", p.display()))
                .map(|b| (p.clone(), b))
        })
        .collect::<Result<_>>()?;
    let opts = SearchOptions::default();
    let mut samples: Vec<Timings> = Vec::new();
    // one untimed search per image (the first of them is the cold start's "first search")
    let mut first_search_ms = None;
    for (path, bytes) in &inputs {
        let r = engine
            .search(bytes, &opts)
            .with_context(|| format!("searching {}", path.display()))?;
        first_search_ms.get_or_insert(r.timings.total_ms);
    }
    for _ in 0..args.runs {
        for (_, bytes) in &inputs {
            samples.push(engine.search(bytes, &opts)?.timings);
        }
    }
    let rows: Vec<(&str, f64, f64, f64)> = rows()
        .map(|(name, stage)| {
            let mut v: Vec<f64> = samples.iter().map(|t| ms(t, stage)).collect();
            v.sort_by(f64::total_cmp);
            (name, v[0], percentile(&v, 50.0), percentile(&v, 95.0))
        })
        .collect();
    let rss = peak_rss_mib();
    if args.json {
        let stages: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(n, min, p50, p95)| (n.to_string(), json!({"min": min, "p50": p50, "p95": p95})))
            .collect();
        let report = json!({
            "profile": engine.profile_name(),
            "catalog_size": engine.catalog().len(),
            "images": inputs.len(),
            "runs": args.runs,
            "samples": samples.len(),
            "load_ms": load_ms,
            "warm_up_ms": warm_up_ms,
            "first_search_ms": first_search_ms,
            "peak_rss_mib": rss,
            "scaled_jpeg_decode": !args.full_decode,
            "stages_ms": stages,
            // every timed search's stage times, in run order (for pooling across processes)
            "samples_ms": samples.iter().map(keyed).collect::<Vec<_>>(),
        });
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!(
            "profile {} | catalog {} products | {} images x {} runs = {} searches | load {:.0} ms | warm-up {} | first search {:.0} ms | peak RSS {}",
            engine.profile_name(),
            engine.catalog().len(),
            inputs.len(),
            args.runs,
            samples.len(),
            load_ms,
            warm_up_ms.map_or("skipped".into(), |w| format!("{w:.0} ms")),
            first_search_ms.unwrap_or(f64::NAN),
            rss.map_or("n/a".into(), |r| format!("{r:.0} MiB"))
        );
        out!(
            "{:<10} {:>9} {:>9} {:>9}",
            "stage",
            "min ms",
            "p50 ms",
            "p95 ms"
        );
        for (n, min, p50, p95) in rows {
            out!("{n:<10} {min:>9.2} {p50:>9.2} {p95:>9.2}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
