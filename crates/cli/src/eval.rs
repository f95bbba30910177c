//! `lookalike eval`: retrieval quality on a labelled query set. Every query runs the real
//! pipeline once; its top-50 shortlist (with each stage's score) is then re-ranked under each
//! blend (ablations, `--weights`, a tuned blend) exactly as the search ranks, so the rows compare
//! blends on identical shortlists. Reports recall@1/5/10 and MRR, overall and per category.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use lookalike_engine::{BlendWeights, SearchOptions};
use serde::Serialize;
use serde_json::json;

#[derive(Args)]
pub struct EvalArgs {
    #[arg(long)]
    catalog: PathBuf,
    /// CSV with a header: `image,product[,split]`; image paths are relative to the CSV's folder.
    #[arg(long)]
    queries: PathBuf,
    #[arg(long)]
    profile: Option<String>,
    /// Which queries to report on (`split` column). With `--tune`, weights are fitted on `tune`
    /// and reported on this split (default then: `test`).
    #[arg(long, value_enum)]
    split: Option<Split>,
    /// The blend to evaluate, "semantic,texture,color" (default: the catalog's).
    #[arg(long, value_parser = super::parse_weights)]
    weights: Option<BlendWeights>,
    /// Fit blend weights on the `tune` split (grid, step 0.05, best MRR) and report them too.
    #[arg(long)]
    tune: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file (the table still goes to stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// List the queries whose product is not first under the evaluated blend (JSON always has them).
    #[arg(long)]
    misses: bool,
    #[arg(long)]
    allow_random_weights: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Split {
    Tune,
    Test,
    All,
}

struct Query {
    image: PathBuf,
    product: String,
    split: Option<String>,
}

/// One query's outcome: enough to re-rank it under any blend.
struct Outcome {
    query: usize,
    category: String,
    routed_ok: bool,
    /// The top-50 shortlist with every stage's score.
    shortlist: Vec<lookalike_engine::Hit>,
    expected: String,
}

#[derive(Debug, Clone, Serialize)]
struct Metrics {
    n: usize,
    recall_at_1: f64,
    recall_at_5: f64,
    recall_at_10: f64,
    mrr: f64,
}

fn read_queries(path: &Path) -> Result<Vec<Query>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("reading query set {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(image), Some(product)) = (col("image"), col("product")) else {
        bail!(
            "{}: the header must name `image` and `product` columns (and optionally `split`), found `{}`",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(",")
        );
    };
    let split = col("split");
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let field = |c: usize| record.get(c).map(str::trim).unwrap_or_default();
        if field(image).is_empty() || field(product).is_empty() {
            bail!(
                "{}: row {} has an empty image or product",
                path.display(),
                i + 2
            );
        }
        out.push(Query {
            image: base.join(field(image)),
            product: field(product).to_string(),
            split: split.map(|c| field(c).to_string()),
        });
    }
    if out.is_empty() {
        bail!("{}: no queries", path.display());
    }
    Ok(out)
}

/// 1-based rank of the expected product among the re-ranked shortlist, if it is there.
fn rank_of(o: &Outcome, w: &BlendWeights) -> Option<usize> {
    let probe = lookalike_engine::SearchResult::rank_shortlist(&o.shortlist, w, o.shortlist.len());
    probe.iter().position(|h| h.id == o.expected).map(|p| p + 1)
}

fn metrics(outcomes: &[&Outcome], w: &BlendWeights) -> Metrics {
    let ranks: Vec<Option<usize>> = outcomes.iter().map(|o| rank_of(o, w)).collect();
    let n = ranks.len();
    let frac = |k: usize| {
        ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / n.max(1) as f64
    };
    Metrics {
        n,
        recall_at_1: frac(1),
        recall_at_5: frac(5),
        recall_at_10: frac(10),
        mrr: ranks
            .iter()
            .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
            .sum::<f64>()
            / n.max(1) as f64,
    }
}

/// The blends every report shows: each stage's contribution, then the full blend.
fn ablations(base: &BlendWeights) -> Vec<(String, BlendWeights)> {
    let w = |semantic, texture, color| BlendWeights {
        semantic,
        texture,
        color,
    };
    vec![
        ("semantic only".into(), w(1.0, 0.0, 0.0)),
        (
            "semantic + texture".into(),
            w(base.semantic, base.texture, 0.0),
        ),
        (
            "semantic + colour".into(),
            w(base.semantic, 0.0, base.color),
        ),
        ("full blend".into(), *base),
    ]
}

/// Grid search over the weight simplex (step 0.05): best MRR, then recall@1, then the blend
/// nearest the seed's (so ties do not wander).
fn tune(outcomes: &[&Outcome]) -> (BlendWeights, Metrics) {
    let seed = BlendWeights::default();
    let mut best: Option<(BlendWeights, Metrics, f64)> = None;
    for s in 0..=20 {
        for t in 0..=(20 - s) {
            let w = BlendWeights {
                semantic: s as f32 / 20.0,
                texture: t as f32 / 20.0,
                color: (20 - s - t) as f32 / 20.0,
            };
            let m = metrics(outcomes, &w);
            let dist = f64::from(
                (w.semantic - seed.semantic).abs()
                    + (w.texture - seed.texture).abs()
                    + (w.color - seed.color).abs(),
            );
            let better = match &best {
                None => true,
                Some((_, b, d)) => (m.mrr, m.recall_at_1, -dist) > (b.mrr, b.recall_at_1, -d),
            };
            if better {
                best = Some((w, m, dist));
            }
        }
    }
    best.map(|(w, m, _)| (w, m))
        .unwrap_or((seed, metrics(outcomes, &seed)))
}

fn fmt_w(w: &BlendWeights) -> String {
    format!("{:.2},{:.2},{:.2}", w.semantic, w.texture, w.color)
}

pub fn run(models: PathBuf, args: EvalArgs) -> Result<ExitCode> {
    let queries = read_queries(&args.queries)?;
    let engine = super::open_engine(
        models,
        args.catalog.clone(),
        args.profile.clone(),
        args.allow_random_weights,
    )?;
    let unknown: Vec<&str> = queries
        .iter()
        .filter(|q| engine.catalog().product_by_id(&q.product).is_none())
        .map(|q| q.product.as_str())
        .collect();
    if !unknown.is_empty() {
        bail!(
            "{} names {} product(s) that catalog {} does not hold (first: `{}`): is it the query set for this catalog?",
            args.queries.display(),
            unknown.len(),
            args.catalog.display(),
            unknown[0]
        );
    }
    let base = args.weights.unwrap_or(engine.catalog().file.blend);
    let report_split = args
        .split
        .unwrap_or(if args.tune { Split::Test } else { Split::All });
    let in_split = |q: &Query, s: Split| match s {
        Split::All => true,
        Split::Tune => q.split.as_deref() == Some("tune"),
        Split::Test => q.split.as_deref() == Some("test"),
    };
    if args.tune && queries.iter().all(|q| q.split.is_none()) {
        bail!("--tune needs a `split` column with `tune` and `test` rows");
    }
    let wanted: Vec<usize> = (0..queries.len())
        .filter(|&i| {
            in_split(&queries[i], report_split) || (args.tune && in_split(&queries[i], Split::Tune))
        })
        .collect();
    if wanted.is_empty() {
        bail!(
            "no queries in split {:?}",
            serde_json::to_value(report_split)?
        );
    }

    let opts = SearchOptions {
        include_candidates: true,
        ..Default::default()
    };
    let bar = indicatif::ProgressBar::new(wanted.len() as u64);
    let mut outcomes = Vec::new();
    let mut failed = 0;
    for &i in &wanted {
        let q = &queries[i];
        bar.inc(1);
        let result = std::fs::read(&q.image)
            .with_context(|| format!("reading {}", q.image.display()))
            .and_then(|bytes| engine.search(&bytes, &opts).map_err(anyhow::Error::from));
        match result {
            Ok(r) => {
                let category = engine
                    .catalog()
                    .product_by_id(&q.product)
                    .map(|p| p.category.clone())
                    .unwrap_or_default();
                outcomes.push(Outcome {
                    query: i,
                    routed_ok: r.route.searched.contains(&category),
                    category,
                    shortlist: r.candidates,
                    expected: q.product.clone(),
                });
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {}: {e:#}", q.image.display()));
            }
        }
    }
    bar.finish_and_clear();

    let reported: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| in_split(&queries[o.query], report_split))
        .collect();
    let mut rows: Vec<(String, BlendWeights, Metrics)> = ablations(&base)
        .into_iter()
        .map(|(name, w)| {
            let m = metrics(&reported, &w);
            (name, w, m)
        })
        .collect();
    let tuned = if args.tune {
        let tune_set: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| in_split(&queries[o.query], Split::Tune))
            .collect();
        let (w, on_tune) = tune(&tune_set);
        let m = metrics(&reported, &w);
        rows.push(("tuned blend".into(), w, m));
        Some((w, on_tune))
    } else {
        None
    };
    let mut per_category: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in &reported {
        per_category.entry(o.category.as_str()).or_default().push(o);
    }
    let routed_ok =
        reported.iter().filter(|o| o.routed_ok).count() as f64 / reported.len().max(1) as f64;
    let misses: Vec<serde_json::Value> = reported
        .iter()
        .filter_map(|o| {
            let rank = rank_of(o, &base);
            (rank != Some(1)).then(|| {
                let top = lookalike_engine::SearchResult::rank_shortlist(&o.shortlist, &base, 1);
                json!({
                    "image": queries[o.query].image.to_string_lossy(),
                    "product": o.expected,
                    "rank": rank,
                    "routed_ok": o.routed_ok,
                    "top1": top.first().map(|h| h.id.clone()),
                })
            })
        })
        .collect();

    let report = json!({
            "catalog": args.catalog.to_string_lossy(),
            "queries": args.queries.to_string_lossy(),
            "profile": engine.profile_name(),
            "split": report_split,
            "n": reported.len(),
            "failed": failed,
            "weights": base,
            "route_accuracy": routed_ok,
            "rows": rows.iter().map(|(name, w, m)| json!({"name": name, "weights": w, "metrics": m})).collect::<Vec<_>>(),
            "per_category": per_category.iter().map(|(c, os)| json!({"category": c, "metrics": metrics(os, &base), "route_accuracy": os.iter().filter(|o| o.routed_ok).count() as f64 / os.len() as f64})).collect::<Vec<_>>(),
            "tuned": tuned.as_ref().map(|(w, m)| json!({"weights": w, "on_tune": m})),
            "misses": misses,
    });
    if let Some(path) = &args.out {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!(
            "{} | catalog {} | profile {} | split {} | {} queries{} | routed to the right category: {:.1}%",
            args.queries.display(),
            args.catalog.display(),
            engine.profile_name(),
            serde_json::to_value(report_split)?
                .as_str()
                .unwrap_or("all"),
            reported.len(),
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            },
            routed_ok * 100.0
        );
        out!(
            "{:<20} {:<15} {:>6} {:>6} {:>6} {:>6}",
            "blend",
            "weights s,t,c",
            "R@1",
            "R@5",
            "R@10",
            "MRR"
        );
        for (name, w, m) in &rows {
            out!(
                "{name:<20} {:<15} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
                fmt_w(w),
                m.recall_at_1,
                m.recall_at_5,
                m.recall_at_10,
                m.mrr
            );
        }
        if let Some((w, m)) = &tuned {
            out!(
                "(tuned on the tune split: {} with MRR {:.3} there over {} queries)",
                fmt_w(w),
                m.mrr,
                m.n
            );
        }
        out!("");
        out!(
            "{:<14} {:>5} {:>7} {:>6} {:>6} {:>6}",
            "category",
            "n",
            "routed",
            "R@1",
            "R@10",
            "MRR"
        );
        for (c, os) in &per_category {
            let m = metrics(os, &base);
            let r = os.iter().filter(|o| o.routed_ok).count() as f64 / os.len() as f64;
            out!(
                "{c:<14} {:>5} {:>7.3} {:>6.3} {:>6.3} {:>6.3}",
                m.n,
                r,
                m.recall_at_1,
                m.recall_at_10,
                m.mrr
            );
        }
        if args.misses {
            out!("");
            for m in &misses {
                out!("miss: {m}");
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
