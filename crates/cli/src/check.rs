//! `lookalike check`: the catalog health report (self-retrieval, near-duplicates, router
//! confusion, cut-out fallbacks). It is a report: problems found still exit 0; only a check
//! that could not run fails.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use lookalike_engine::catalog::health::{
    self, HealthReport, ProductRef, RouterConfusion, SelfRank,
};

#[derive(Args)]
pub struct CheckArgs {
    #[arg(long)]
    catalog: PathBuf,
    /// Folder with the original product images (by each product's source image name); default:
    /// the catalog's own thumbnails.
    #[arg(long)]
    images: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// Default: the profile the catalog was built with.
    #[arg(long)]
    profile: Option<String>,
    #[arg(long)]
    allow_random_weights: bool,
}

pub fn run(models: PathBuf, args: CheckArgs) -> Result<ExitCode> {
    // before the models load: a mistyped folder should not cost the load
    if let Some(dir) = &args.images
        && !dir.is_dir()
    {
        anyhow::bail!("--images {} is not a folder", dir.display());
    }
    let engine = super::open_engine(
        models,
        args.catalog.clone(),
        args.profile.clone(),
        args.allow_random_weights,
    )?;
    let bar = indicatif::ProgressBar::new(0);
    let report = health::check(&engine, args.images.as_deref(), &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .with_context(|| format!("checking catalog {}", args.catalog.display()))?;
    bar.finish_and_clear();
    match args.json {
        true => out!("{}", serde_json::to_string(&report)?),
        false => print_report(&report)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(x: f32) -> String {
    format!("{:.1}%", x * 100.0)
}

fn named(p: &ProductRef) -> String {
    format!("{} ({}, {})", p.id, p.name, p.category)
}

fn print_report(r: &HealthReport) -> Result<()> {
    let s = &r.self_retrieval;
    let source = r.images.as_deref().unwrap_or("the catalog's thumbnails");
    out!(
        "catalog `{}`: {} products, self-queries from {source}",
        r.catalog,
        r.products
    );
    out!(
        "self-retrieval: R@1 {} R@10 {} over {} products",
        pct(s.recall_at_1),
        pct(s.recall_at_10),
        s.queried
    );
    out!(
        "router: accuracy {}, own category searched {} ({} top-2, {} unsure)",
        pct(r.router.accuracy),
        pct(r.router.searched_own),
        r.router.top2,
        r.router.unsure
    );
    out!(
        "near-duplicates (cosine >= {}): {}",
        r.duplicates.threshold,
        r.duplicates.pairs.len()
    );
    out!(
        "cut-out fallbacks: {} in the catalog, {} of the self-queries",
        r.fallbacks.catalog.len(),
        r.fallbacks.queries.len()
    );
    out!("problems: {}", r.problems.len());
    print_misses("not found first", &s.not_first)?;
    print_misses("not in the top 10", &s.not_in_top_10)?;
    print_duplicates(r)?;
    print_confusion(&r.router)?;
    print_fallbacks(r)?;
    for p in &r.problems {
        out!("problem: {}: {}", named(&p.product), p.detail);
    }
    Ok(())
}

fn print_misses(title: &str, misses: &[SelfRank]) -> Result<()> {
    if misses.is_empty() {
        return Ok(());
    }
    out!("\n{title} ({}):", misses.len());
    for m in misses {
        let rank = m.rank.map_or_else(|| "-".into(), |r| r.to_string());
        let first = m.first.as_ref().map_or_else(|| "nothing".into(), named);
        out!("  {}  rank {rank}, first: {first}", named(&m.product));
    }
    Ok(())
}

fn print_duplicates(r: &HealthReport) -> Result<()> {
    let d = &r.duplicates;
    if d.pairs.is_empty() {
        return Ok(());
    }
    out!("\nnear-duplicates:");
    for p in &d.pairs {
        let colours = if p.color_agrees { "agree" } else { "differ" };
        out!(
            "  {:.4}  {}  ~  {}  (colour {:.2}, {colours})",
            p.cosine,
            named(&p.a),
            named(&p.b),
            p.color
        );
    }
    Ok(())
}

/// The matrix as a table: rows the product's category, columns the router's choice (numbered,
/// so the columns stay narrow).
fn print_confusion(c: &RouterConfusion) -> Result<()> {
    let width = c.categories.iter().map(|n| n.len()).max().unwrap_or(0);
    out!("\nrouter confusion (rows: the product's category, columns: the router's best):");
    let header: String = (1..=c.categories.len())
        .map(|i| format!("{i:>4}"))
        .collect();
    out!("  {:width$}    {header}", "");
    for (i, (name, row)) in c.categories.iter().zip(&c.counts).enumerate() {
        let cells: String = row.iter().map(|n| format!("{n:>4}")).collect();
        out!("  {name:width$} {:>2} {cells}", i + 1);
    }
    for m in &c.most_confused {
        out!("  confused: {} -> {} ({})", m.truth, m.chosen, m.count);
    }
    Ok(())
}

fn print_fallbacks(r: &HealthReport) -> Result<()> {
    let f = &r.fallbacks;
    if f.catalog.is_empty() && f.queries.is_empty() {
        return Ok(());
    }
    out!("\ncut-out fallbacks (the whole image was embedded):");
    for p in &f.catalog {
        out!("  catalog: {}", named(p));
    }
    for q in &f.queries {
        let reason = q.reason.as_deref().unwrap_or("no reason given");
        out!("  query:   {}: {reason}", named(&q.product));
    }
    Ok(())
}
