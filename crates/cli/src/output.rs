//! How results look on a terminal and as JSON.

use std::path::Path;

use lookalike_engine::catalog::index::IndexReport;
use lookalike_engine::{Match, SearchResult};
use serde_json::json;

/// Writes one line to stdout.
pub fn emit(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(line.as_bytes())?;
    stdout.write_all(b"\n")
}

/// The engine's `SearchResult` as the app sends it (same contract), plus the query's path.
pub fn search_json(query: &Path, r: &SearchResult) -> anyhow::Result<String> {
    let mut value = serde_json::to_value(r)?;
    value["query"] = json!(query.to_string_lossy());
    Ok(serde_json::to_string(&value)?)
}

fn price(p: Option<f64>, c: Option<&str>) -> String {
    match p {
        Some(p) => format!("{p:.2} {}", c.unwrap_or("")).trim().to_string(),
        None => "-".into(),
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// What a shopper is told about the whole list (the app shows the same words).
pub fn verdict_line(m: Match) -> &'static str {
    match m {
        Match::Same => "This is it",
        Match::Similar => "Similar products",
        Match::None => "No close match in this catalog",
    }
}

pub fn print_search(query: &Path, r: &SearchResult) -> anyhow::Result<()> {
    out!("{}", query.display());
    out!(
        "  match: {} ({})",
        r.verdict.as_str(),
        verdict_line(r.verdict)
    );
    let cats: Vec<String> = r
        .categories
        .iter()
        .take(3)
        .map(|c| format!("{} {:.2}", c.name, c.score))
        .collect();
    out!(
        "  category: {}   (favoured: {}, {:?})",
        cats.join(", "),
        r.route.searched.join(" + "),
        r.route.reason
    );
    let seg = &r.segmentation;
    match &seg.fallback_reason {
        Some(why) => out!("  segmentation: fallback ({why})"),
        None => out!(
            "  segmentation: {} cut-out, foreground {:.0}%",
            seg.model.as_deref().unwrap_or("alpha"),
            seg.foreground * 100.0
        ),
    }
    if let Some(r) = &r.region {
        out!(
            "  region: x {:.3} y {:.3} w {:.3} h {:.3} of the photo",
            r.x,
            r.y,
            r.w,
            r.h
        );
    }
    if let Some(c) = &r.color {
        out!("  colour: ranked towards {c}");
    }
    if let Some(t) = &r.text {
        out!("  words: \"{t}\" mixed into the photo's embedding");
    }
    let objs: Vec<String> = r
        .objects
        .iter()
        .map(|o| {
            let g = o.region;
            format!(
                "{:.2},{:.2},{:.2},{:.2} ({:.0}%)",
                g.x,
                g.y,
                g.w,
                g.h,
                o.area * 100.0
            )
        })
        .collect();
    if !objs.is_empty() {
        out!("  objects (--region x,y,w,h): {}", objs.join("  "));
    }
    out!(
        "  {:>4}  {:>5}  {:>5} {:>5} {:>5}  {:<12} {:>12}  name",
        "rank",
        "score",
        "sem",
        "tex",
        "col",
        "category",
        "price"
    );
    for h in &r.results {
        out!(
            "  {:>4}  {:.3}  {:.2}  {:.2}  {:.2}  {:<12} {:>12}  {}{}",
            h.rank,
            h.score,
            h.semantic,
            h.texture,
            h.color,
            clip(&h.category, 12),
            price(h.price, h.currency.as_deref()),
            clip(&h.name, 40),
            if h.routed {
                ""
            } else {
                "  (not the router's pick)"
            }
        );
    }
    let mut times: Vec<String> = r
        .timings
        .stages
        .iter()
        .map(|t| format!("{} {:.2}", t.stage.name(), t.ms))
        .collect();
    times.push(format!("total {:.1}", r.timings.total_ms));
    out!("  ms: {}", times.join(" | "));
    Ok(())
}

pub fn print_index_report(out: &Path, r: &IndexReport) -> anyhow::Result<()> {
    out!(
        "catalog {}: {} products ({} embedded, {} reused, {} removed) in {:.1} s",
        out.display(),
        r.products,
        r.embedded,
        r.reused,
        r.removed,
        r.seconds
    );
    for c in &r.per_category {
        out!("  {:<14} {}", c.name, c.products);
    }
    out!(
        "  cut-outs: {} from alpha, {} by {}, {} whole-image fallback",
        r.cut_by_alpha,
        r.cut_by_model,
        r.index_segmenter.as_deref().unwrap_or("(no segmenter)"),
        r.whole_image_fallback
    );
    if let Some(refiner) = &r.index_refiner {
        out!(
            "  refined by {refiner}: {} of {} model cut-outs (the rest kept {}'s mask: SAM disagreed)",
            r.refined,
            r.cut_by_model,
            r.index_segmenter.as_deref().unwrap_or("the segmenter")
        );
    }
    for s in &r.skipped {
        eprintln!("warning: skipped `{}`: {}", s.id, s.reason);
    }
    Ok(())
}
