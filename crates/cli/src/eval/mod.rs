//! `lookalike eval`: retrieval quality on labelled query sets. Every query runs the real pipeline
//! once (both views, shortlist kept) and the plain baseline once; the shortlist is then re-ranked
//! under each scoring exactly as the search ranks, so the rows compare scorings on identical
//! shortlists. Reports, per set: the baseline row, each stage's row, recall@1/5/10 and MRR,
//! routing accuracy, and the `match` verdict's rates (in-catalog, the same queries with their
//! product left out, and outside queries). `--tune` fits the scoring and the match rule on the
//! tune split of every set at once and reports on the test split.

mod score;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use lookalike_engine::{BlendWeights, Engine, MatchRule, Scoring, SearchOptions};
use serde::Serialize;
use serde_json::json;

use score::{MatchMetrics, Metrics, Outcome};

#[derive(Args)]
pub struct EvalArgs {
    /// The catalog of each query set, in the order of `--queries` (one catalog for all: give it
    /// once).
    #[arg(long, required = true)]
    catalog: Vec<PathBuf>,
    /// CSV with a header: `image,product[,split]`; image paths are relative to the CSV's folder.
    /// Repeat for several sets: `--tune` fits one scoring for all of them.
    #[arg(long, required = true)]
    queries: Vec<PathBuf>,
    /// Out-of-catalog queries (CSV `image[,product][,split]`, product empty): things none of the
    /// catalogs sells, searched in every catalog to check that `match` does not say "same".
    #[arg(long)]
    outside: Option<PathBuf>,
    #[arg(long)]
    profile: Option<String>,
    /// Which queries to report on (`split` column). With `--tune`, the scoring is fitted on
    /// `tune` and reported on this split (default then: `test`).
    #[arg(long, value_enum)]
    split: Option<Split>,
    /// The blend to evaluate, "semantic,texture,color" (default: the catalog's or the profile's).
    #[arg(long, value_parser = super::parse_weights)]
    weights: Option<BlendWeights>,
    /// Fit the scoring (blend, frame weight, router prior) and the match rule on the `tune`
    /// split of every set, and report them too.
    #[arg(long)]
    tune: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file (the table still goes to stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// List the queries whose product is not first under the evaluated scoring (JSON always has them).
    #[arg(long)]
    misses: bool,
    /// Also save every query's searches (shortlists, baseline) to this file...
    #[arg(long, value_name = "FILE")]
    save_searches: Option<PathBuf>,
    /// ...and re-rank, re-tune and re-report from it without searching again (same sets and
    /// catalogs; the file holds what one build of the engine found).
    #[arg(long, value_name = "FILE", conflicts_with = "save_searches")]
    from_searches: Option<PathBuf>,
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

impl Split {
    fn holds(self, split: Option<&str>) -> bool {
        match self {
            Split::All => true,
            Split::Tune => split == Some("tune"),
            Split::Test => split == Some("test"),
        }
    }
}

struct Query {
    image: PathBuf,
    /// `None`: an outside query.
    product: Option<String>,
    split: Option<String>,
}

fn read_queries(path: &Path, outside: bool) -> Result<Vec<Query>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("reading query set {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (image, product) = (col("image"), col("product"));
    let Some(image) = image.filter(|_| outside || product.is_some()) else {
        bail!(
            "{}: the header must name `image`{} columns (and optionally `split`), found `{}`",
            path.display(),
            if outside { "" } else { " and `product`" },
            headers.iter().collect::<Vec<_>>().join(",")
        );
    };
    let split = col("split");
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let field = |c: usize| record.get(c).map(str::trim).unwrap_or_default();
        let want = product.map(field).unwrap_or_default();
        if field(image).is_empty() || (want.is_empty() != outside) {
            bail!(
                "{}: row {} has an empty image{}",
                path.display(),
                i + 2,
                match outside {
                    true => ", or a product (outside queries name none)",
                    false => " or product",
                }
            );
        }
        out.push(Query {
            image: base.join(field(image)),
            product: (!outside).then(|| want.to_string()),
            split: split.map(|c| field(c).to_string()),
        });
    }
    if out.is_empty() {
        bail!("{}: no queries", path.display());
    }
    Ok(out)
}

/// A query set's name: its folder's (`.cache/queries/photo/queries.csv` -> `photo`).
fn set_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    match stem.as_deref() {
        Some("queries") | None => path
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| "queries".into(), |n| n.to_string_lossy().into_owned()),
        Some(s) => s.to_string(),
    }
}

/// Runs every wanted query of one file through the pipeline and the plain baseline.
fn run_queries(
    engine: &Engine,
    queries: &[Query],
    wanted: &[usize],
    failed: &mut usize,
) -> Vec<Outcome> {
    let pipeline = SearchOptions {
        include_candidates: true,
        all_views: true,
        ..Default::default()
    };
    let plain = SearchOptions {
        include_candidates: true,
        plain: true,
        ..Default::default()
    };
    let bar = indicatif::ProgressBar::new(wanted.len() as u64);
    let mut outcomes = Vec::new();
    for &i in wanted {
        let q = &queries[i];
        bar.inc(1);
        let result = std::fs::read(&q.image)
            .with_context(|| format!("reading {}", q.image.display()))
            .and_then(|bytes| {
                let r = engine.search(&bytes, &pipeline)?;
                let p = engine.search(&bytes, &plain)?;
                let category = match q.product.as_deref() {
                    Some(id) => engine.catalog().product_by_id(id)?.map(|p| p.category),
                    None => None,
                };
                Ok((r, p, category.unwrap_or_default()))
            });
        match result {
            Ok((r, p, category)) => {
                outcomes.push(Outcome {
                    query: i,
                    split: q.split.clone(),
                    expected: q.product.clone(),
                    route_top1: r.categories.first().map(|c| c.name.clone()),
                    routed_ok: r.route.searched.contains(&category),
                    category,
                    shortlist: r.candidates,
                    plain: p.candidates,
                });
            }
            Err(e) => {
                *failed += 1;
                bar.suspend(|| eprintln!("error: {}: {e:#}", q.image.display()));
            }
        }
    }
    bar.finish_and_clear();
    outcomes
}

/// One query set as evaluated.
struct SetRun {
    name: String,
    catalog: PathBuf,
    queries_file: PathBuf,
    queries: Vec<Query>,
    outcomes: Vec<Outcome>,
    /// The outside queries, searched in this set's catalog (shared by the sets of one catalog).
    outside: std::rc::Rc<Vec<Outcome>>,
    /// The scoring the catalog's searches use (its blend or the profile's, `--weights`).
    scoring: Scoring,
    rule: Option<MatchRule>,
    profile: String,
}

/// The rows every report shows: the baseline, then each stage added in pipeline order.
fn rows(s: &Scoring) -> Vec<(&'static str, Scoring)> {
    let semantic = BlendWeights {
        semantic: 1.0,
        texture: 0.0,
        color: 0.0,
    };
    let cutout = Scoring {
        blend: semantic,
        frame: 0.0,
        route_prior: 0.0,
    };
    let views = Scoring {
        frame: s.frame,
        ..cutout
    };
    let prior = Scoring {
        route_prior: s.route_prior,
        ..views
    };
    let texture = Scoring {
        blend: BlendWeights {
            color: 0.0,
            ..s.blend
        },
        ..*s
    };
    vec![
        ("cut-out cosine", cutout),
        ("+ whole-frame view", views),
        ("+ router prior", prior),
        ("+ texture", texture),
        ("+ colour (full)", *s),
    ]
}

#[derive(Serialize)]
struct Row {
    name: String,
    scoring: Option<Scoring>,
    metrics: Metrics,
}

pub fn run(models: PathBuf, args: EvalArgs) -> Result<ExitCode> {
    let catalogs: Vec<PathBuf> = match (args.catalog.len(), args.queries.len()) {
        (1, n) => vec![args.catalog[0].clone(); n],
        (c, q) if c == q => args.catalog.clone(),
        (c, q) => bail!("{c} --catalog for {q} --queries: give one catalog, or one per query set"),
    };
    let report_split = args
        .split
        .unwrap_or(if args.tune { Split::Test } else { Split::All });
    let outside_queries = match &args.outside {
        Some(p) => read_queries(p, true)?,
        None => Vec::new(),
    };
    let mut failed = 0;
    let mut saved: Option<Vec<(Vec<Outcome>, Vec<Outcome>)>> = match &args.from_searches {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let v: Vec<(Vec<Outcome>, Vec<Outcome>)> = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a file of saved searches", p.display()))?;
            if v.len() != args.queries.len() {
                bail!(
                    "{} holds {} sets, not {}",
                    p.display(),
                    v.len(),
                    args.queries.len()
                );
            }
            Some(v.into_iter().rev().collect())
        }
        None => None,
    };
    let mut engines: Vec<(PathBuf, Engine)> = Vec::new();
    // the outside queries' outcomes in each catalog (searched once per catalog)
    let mut outside_in: Vec<(PathBuf, std::rc::Rc<Vec<Outcome>>)> = Vec::new();
    let mut sets: Vec<SetRun> = Vec::new();
    for (file, catalog) in args.queries.iter().zip(&catalogs) {
        let queries = read_queries(file, false)?;
        if !engines.iter().any(|(c, _)| c == catalog) {
            let engine = super::open_engine(
                models.clone(),
                catalog.clone(),
                args.profile.clone(),
                args.allow_random_weights,
            )?;
            engines.push((catalog.clone(), engine));
        }
        let Some((_, engine)) = engines.iter().find(|(c, _)| c == catalog) else {
            bail!("internal: engine for {} not opened", catalog.display());
        };
        let mut unknown: Vec<&str> = Vec::new();
        for id in queries.iter().filter_map(|q| q.product.as_deref()) {
            if engine.catalog().product_by_id(id)?.is_none() {
                unknown.push(id);
            }
        }
        if !unknown.is_empty() {
            bail!(
                "{} names {} product(s) that catalog {} does not hold (first: `{}`): is it the query set for this catalog?",
                file.display(),
                unknown.len(),
                catalog.display(),
                unknown[0]
            );
        }
        if args.tune && queries.iter().all(|q| q.split.is_none()) {
            bail!(
                "{}: --tune needs a `split` column with `tune` and `test` rows",
                file.display()
            );
        }
        let wanted: Vec<usize> = (0..queries.len())
            .filter(|&i| {
                let s = queries[i].split.as_deref();
                report_split.holds(s) || (args.tune && Split::Tune.holds(s))
            })
            .collect();
        if wanted.is_empty() {
            bail!(
                "{}: no queries in split {:?}",
                file.display(),
                serde_json::to_value(report_split)?
            );
        }
        let from_file = saved.as_mut().and_then(Vec::pop);
        let (outcomes, outside) = match from_file {
            Some((outcomes, outside)) => (outcomes, std::rc::Rc::new(outside)),
            None => {
                let outcomes = run_queries(engine, &queries, &wanted, &mut failed);
                (
                    outcomes,
                    outside_for(
                        engine,
                        catalog,
                        &outside_queries,
                        &mut outside_in,
                        &mut failed,
                    ),
                )
            }
        };
        sets.push(SetRun {
            name: set_name(file),
            catalog: catalog.clone(),
            queries_file: file.clone(),
            queries,
            outcomes,
            outside,
            scoring: engine.scoring(args.weights),
            rule: engine.match_rule().copied(),
            profile: engine.profile_name().to_string(),
        });
    }

    if let Some(path) = &args.save_searches {
        let all: Vec<(&Vec<Outcome>, &Vec<Outcome>)> =
            sets.iter().map(|s| (&s.outcomes, &*s.outside)).collect();
        std::fs::write(path, serde_json::to_string(&all)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    // --tune: one scoring and one match rule for every set, fitted on their tune splits
    let tuned = if args.tune {
        let tune_sets: Vec<Vec<&Outcome>> = sets
            .iter()
            .map(|s| {
                let o = s.outcomes.iter();
                o.filter(|o| Split::Tune.holds(o.split.as_deref()))
                    .collect()
            })
            .collect();
        let (scoring, on_tune) = score::tune_scoring(&tune_sets, &sets[0].scoring);
        let inside: Vec<&Outcome> = tune_sets.iter().flatten().copied().collect();
        // each catalog's outside outcomes once
        let mut outside: Vec<&Outcome> = Vec::new();
        for (i, s) in sets.iter().enumerate() {
            if sets[..i].iter().all(|p| p.catalog != s.catalog) {
                let o = s.outside.iter();
                outside.extend(o.filter(|o| Split::Tune.holds(o.split.as_deref())));
            }
        }
        let rule = score::tune_match(&inside, &outside, &scoring);
        Some((scoring, on_tune, rule))
    } else {
        None
    };

    let mut reports = Vec::new();
    for set in &sets {
        reports.push(report_set(set, report_split, tuned.as_ref())?);
    }
    let report = json!({
        "profile": sets.first().map(|s| s.profile.clone()),
        "split": report_split,
        "failed": failed,
        "outside": args.outside.as_ref().map(|p| p.to_string_lossy()),
        "tuned": tuned.as_ref().map(|(s, m, r)| json!({
            "scoring": s,
            "mean_mrr_on_tune": m,
            "min_fit_queries": score::MIN_FIT_QUERIES,
            "match": r,
            "false_same_budget": score::FALSE_SAME_BUDGET,
            "false_none_budget": score::FALSE_NONE_BUDGET,
        })),
        "sets": reports,
    });
    if let Some(path) = &args.out {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, args.misses)?;
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The outside queries' outcomes in `catalog`, searched once per catalog.
fn outside_for(
    engine: &Engine,
    catalog: &Path,
    queries: &[Query],
    done: &mut Vec<(PathBuf, std::rc::Rc<Vec<Outcome>>)>,
    failed: &mut usize,
) -> std::rc::Rc<Vec<Outcome>> {
    if let Some((_, o)) = done.iter().find(|(c, _)| c == catalog) {
        return o.clone();
    }
    let all: Vec<usize> = (0..queries.len()).collect();
    let o = std::rc::Rc::new(run_queries(engine, queries, &all, failed));
    done.push((catalog.to_path_buf(), o.clone()));
    o
}

fn report_set(
    set: &SetRun,
    split: Split,
    tuned: Option<&(Scoring, f64, Option<MatchRule>)>,
) -> Result<serde_json::Value> {
    let reported: Vec<&Outcome> = set
        .outcomes
        .iter()
        .filter(|o| split.holds(o.split.as_deref()))
        .collect();
    let outside: Vec<&Outcome> = set
        .outside
        .iter()
        .filter(|o| split.holds(o.split.as_deref()))
        .collect();
    let ranks = |s: &Scoring| -> Vec<Option<usize>> {
        reported.iter().map(|o| score::rank_of(o, s)).collect()
    };
    let mut rows = vec![Row {
        name: "plain embedding (baseline)".into(),
        scoring: None,
        metrics: Metrics::of(
            &reported
                .iter()
                .map(|o| score::plain_rank(o))
                .collect::<Vec<_>>(),
        ),
    }];
    for (name, s) in self::rows(&set.scoring) {
        rows.push(Row {
            name: name.into(),
            scoring: Some(s),
            metrics: Metrics::of(&ranks(&s)),
        });
    }
    if let Some((s, ..)) = tuned {
        rows.push(Row {
            name: "tuned (on tune)".into(),
            scoring: Some(*s),
            metrics: Metrics::of(&ranks(s)),
        });
    }
    let share = |f: &dyn Fn(&Outcome) -> bool| {
        reported.iter().filter(|o| f(o)).count() as f64 / reported.len().max(1) as f64
    };
    let route_top1 = share(&|o| o.route_top1.as_deref() == Some(o.category.as_str()));
    let routed = share(&|o| o.routed_ok);
    let matched = |s: &Scoring, r: Option<&MatchRule>| -> MatchMetrics {
        score::match_metrics(&reported, &outside, s, r)
    };
    let mut per_category: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in &reported {
        per_category.entry(o.category.as_str()).or_default().push(o);
    }
    let misses: Vec<serde_json::Value> = reported
        .iter()
        .filter_map(|o| {
            let rank = score::rank_of(o, &set.scoring);
            (rank != Some(1)).then(|| {
                let top =
                    lookalike_engine::SearchResult::rank_shortlist(&o.shortlist, &set.scoring, 1);
                json!({
                    "image": set.queries[o.query].image.to_string_lossy(),
                    "product": o.expected,
                    "rank": rank,
                    "plain_rank": score::plain_rank(o),
                    "route_top1": o.route_top1,
                    "top1": top.first().map(|h| h.id.clone()),
                })
            })
        })
        .collect();
    Ok(json!({
        "set": set.name,
        "catalog": set.catalog.to_string_lossy(),
        "queries": set.queries_file.to_string_lossy(),
        "n": reported.len(),
        "scoring": set.scoring,
        "match_rule": set.rule,
        "route_top1_accuracy": route_top1,
        "route_accuracy": routed,
        "rows": rows,
        "match": matched(&set.scoring, set.rule.as_ref()),
        "tuned_match": tuned.map(|(s, _, r)| matched(s, r.as_ref())),
        "per_category": per_category.iter().map(|(c, os)| json!({
            "category": c,
            "metrics": Metrics::of(&os.iter().map(|o| score::rank_of(o, &set.scoring)).collect::<Vec<_>>()),
            "route_top1_accuracy": os.iter().filter(|o| o.route_top1.as_deref() == Some(*c)).count() as f64 / os.len() as f64,
        })).collect::<Vec<_>>(),
        "misses": misses,
    }))
}

fn fmt_scoring(s: &serde_json::Value) -> String {
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    match s.is_null() {
        true => "-".into(),
        false => format!(
            "{:.2},{:.2},{:.2} f{:.2} p{:.2}",
            f(&s["blend"]["semantic"]),
            f(&s["blend"]["texture"]),
            f(&s["blend"]["color"]),
            f(&s["frame"]),
            f(&s["route_prior"])
        ),
    }
}

fn print_report(report: &serde_json::Value, misses: bool) -> Result<()> {
    let pct = |v: &serde_json::Value| format!("{:.1}%", v.as_f64().unwrap_or(f64::NAN) * 100.0);
    let empty = Vec::new();
    for set in report["sets"].as_array().unwrap_or(&empty) {
        out!(
            "{} | catalog {} | profile {} | split {} | {} queries | router's best category right: {} (picked among its categories: {})",
            set["set"].as_str().unwrap_or("?"),
            set["catalog"].as_str().unwrap_or("?"),
            report["profile"].as_str().unwrap_or("?"),
            report["split"].as_str().unwrap_or("all"),
            set["n"],
            pct(&set["route_top1_accuracy"]),
            pct(&set["route_accuracy"]),
        );
        out!(
            "{:<28} {:<24} {:>6} {:>6} {:>6} {:>6}",
            "row",
            "s,t,c frame prior",
            "R@1",
            "R@5",
            "R@10",
            "MRR"
        );
        for row in set["rows"].as_array().unwrap_or(&empty) {
            let m = &row["metrics"];
            let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
            out!(
                "{:<28} {:<24} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
                row["name"].as_str().unwrap_or("?"),
                fmt_scoring(&row["scoring"]),
                f("recall_at_1"),
                f("recall_at_5"),
                f("recall_at_10"),
                f("mrr")
            );
        }
        for (label, m) in [
            ("match", &set["match"]),
            ("match (tuned)", &set["tuned_match"]),
        ] {
            if m.is_null() {
                continue;
            }
            out!(
                "{label}: \"same\" on {} of these queries (right {}), \"none\" on {}; product left out: \"same\" {}; outside ({}): \"same\" {}, \"none\" {}",
                pct(&m["same_rate"]),
                pct(&m["same_precision"]),
                pct(&m["none_rate"]),
                pct(&m["left_out_same_rate"]),
                m["outside_n"],
                pct(&m["outside_same_rate"]),
                pct(&m["outside_none_rate"]),
            );
        }
        if misses {
            for m in set["misses"].as_array().unwrap_or(&empty) {
                out!("miss: {m}");
            }
        }
        out!("");
    }
    if !report["tuned"].is_null() {
        let t = &report["tuned"];
        out!(
            "tuned on the tune split of every set: scoring {} (mean MRR there {:.3}), match rule {}",
            fmt_scoring(&t["scoring"]),
            t["mean_mrr_on_tune"].as_f64().unwrap_or(f64::NAN),
            t["match"]
        );
    }
    Ok(())
}
