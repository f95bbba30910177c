//! `lookalike`: build a catalog, search it, time it. A thin face over `lookalike-engine`.

/// `println!` that returns an error instead of panicking when stdout is gone (`lookalike ... | head`).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::emit(&format!($($arg)*))?
    };
}

mod bench;
mod bench_scale;
mod bundle;
mod check;
mod eval;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use lookalike_engine::catalog::index::{self, AnnChoice, CodesChoice, IndexOptions};
use lookalike_engine::{BlendWeights, ColorTarget, Engine, EngineConfig, Region, SearchOptions};

#[derive(Parser)]
#[command(
    name = "lookalike",
    version,
    about = "On-device visual product search: index a catalog, search it with photos"
)]
struct Cli {
    /// Folder with manifest.toml and the model files.
    #[arg(
        long,
        global = true,
        env = "LOOKALIKE_MODELS",
        default_value = "models"
    )]
    models: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a catalog folder from product images and a products file.
    Index {
        /// Folder holding the product images (looked up by file name).
        #[arg(long)]
        images: PathBuf,
        /// Products file, read by its content: Lookalike JSON, a CSV with a header row
        /// (id,name,category,image + price,currency,url,gtin,brand,description), or a Shopify
        /// product export CSV.
        #[arg(long)]
        products: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "lite")]
        profile: String,
        /// Allow models exported with random weights (code-path checks only).
        #[arg(long)]
        allow_random_weights: bool,
        /// Print the report as one JSON object: {products, embedded, reused, removed, skipped:
        /// [{id, reason}], seconds, ...}.
        #[arg(long)]
        json: bool,
        /// Int8 codes of the embeddings, which searches scan instead of the f32 rows (then
        /// re-score the shortlist exactly): a quarter of the bytes read and kept in memory.
        /// auto: from 10,000 products on.
        #[arg(long, value_enum, default_value_t = Codes::Auto)]
        codes: Codes,
        /// An HNSW graph over the int8 codes, which searches walk instead of scanning every
        /// row (a few thousand rows read of a million; recall below 1, measured by `lookalike
        /// bench-scale`). auto: from 100,000 products on. Brings the codes along.
        #[arg(long, value_enum, default_value_t = Ann::Auto)]
        ann: Ann,
    },
    /// Find the products that look most like each photo.
    Search {
        #[arg(long)]
        catalog: PathBuf,
        /// Default: the profile the catalog was built with.
        #[arg(long)]
        profile: Option<String>,
        /// One JSON object per image on stdout.
        #[arg(long)]
        json: bool,
        /// Search only this category (skips the router's choice).
        #[arg(long)]
        category: Option<String>,
        /// Blend weights "semantic,texture,color" (default: the catalog's own, else the profile's
        /// tuned blend; the whole-frame weight and the router prior stay the profile's).
        #[arg(long, value_parser = parse_weights)]
        weights: Option<BlendWeights>,
        #[arg(long, default_value_t = 10)]
        top_k: usize,
        /// Search only this part of each photo: "x,y,w,h" in shares of its width and height
        /// (0.5,0,0.5,1 is the right half), as the app's object picker sends it.
        #[arg(long, value_parser = parse_region)]
        region: Option<Region>,
        /// "Like this, in another colour": rank towards a colour (black, grey, white, beige,
        /// brown, red, orange, yellow, green, blue, purple, pink, or #rrggbb).
        #[arg(long, value_parser = parse_color)]
        color: Option<ColorTarget>,
        /// Words that refine the photo ("in red leather"), mixed into the image query by the
        /// profile's text towers (the full profile; the lite profile takes no words).
        #[arg(long)]
        text: Option<String>,
        /// Also print the shortlist before rerank (JSON `candidates`: each query view's top-50,
        /// merged, in the order of the two views' mean cosine).
        #[arg(long)]
        candidates: bool,
        #[arg(long)]
        allow_random_weights: bool,
        /// Save each photo's product cut-out as DIR/<photo name>.cutout.png.
        #[arg(long, value_name = "DIR")]
        cutouts: Option<PathBuf>,
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Time every stage of a search: min / p50 / p95 over repeated runs.
    Bench(bench::BenchArgs),
    /// Retrieval quality on a labelled query set: recall@1/5/10, MRR, ablations, tuning.
    Eval(eval::EvalArgs),
    /// Catalog health: self-retrieval, near-duplicates, router confusion, cut-out fallbacks.
    Check(check::CheckArgs),
    /// Time the catalog-vector retrievers on seeded random unit vectors at scale (exact f32,
    /// int8 + re-score, HNSW, IVF): p50, recall@k, build, open, memory. `cargo xtask bench-scale`
    /// runs it beside FAISS and USearch.
    BenchScale(bench_scale::BenchScaleArgs),
    /// Pack a catalog folder into one file (a tar with every file's size and sha256).
    Pack(bundle::PackArgs),
    /// Unpack a bundle into a catalog folder, verifying every entry and the models first.
    Unpack(bundle::UnpackArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Codes {
    Auto,
    Int8,
    None,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Ann {
    Auto,
    Hnsw,
    None,
}

fn parse_weights(s: &str) -> Result<BlendWeights, String> {
    BlendWeights::parse(s).map_err(|e| e.to_string())
}

fn parse_region(s: &str) -> Result<Region, String> {
    Region::parse(s).map_err(|e| e.to_string())
}

fn parse_color(s: &str) -> Result<ColorTarget, String> {
    ColorTarget::parse(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // the reader of our stdout went away (`| head`): nothing left to say
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_engine(
    models: PathBuf,
    catalog: PathBuf,
    profile: Option<String>,
    allow_random_weights: bool,
) -> Result<Engine> {
    open_engine_with(engine_config(
        models,
        catalog,
        profile,
        allow_random_weights,
    ))
}

fn engine_config(
    models: PathBuf,
    catalog: PathBuf,
    profile: Option<String>,
    allow_random_weights: bool,
) -> EngineConfig {
    let mut config = EngineConfig::new(models, catalog);
    config.profile = profile;
    config.allow_random_weights = allow_random_weights;
    config
}

fn open_engine_with(config: EngineConfig) -> Result<Engine> {
    let catalog = config.catalog_dir.clone();
    Engine::open(config).with_context(|| format!("opening catalog {}", catalog.display()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Index {
            images,
            products,
            out,
            profile,
            allow_random_weights,
            json,
            codes,
            ann,
        } => {
            let mut opts = IndexOptions::new(images, products, &out, cli.models);
            opts.profile = profile;
            opts.codes = match codes {
                Codes::Auto => CodesChoice::Auto,
                Codes::Int8 => CodesChoice::Int8,
                Codes::None => CodesChoice::None,
            };
            opts.ann = match ann {
                Ann::Auto => AnnChoice::Auto,
                Ann::Hnsw => AnnChoice::Hnsw,
                Ann::None => AnnChoice::None,
            };
            opts.allow_random_weights = allow_random_weights;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = index::build(&opts, &mut |done, total, id| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(id.to_string());
            })
            .with_context(|| format!("building catalog {}", out.display()))?;
            bar.finish_and_clear();
            if json {
                out!("{}", serde_json::to_string(&report)?);
            } else {
                output::print_index_report(&out, &report)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            catalog,
            profile,
            json,
            category,
            weights,
            top_k,
            region,
            color,
            text,
            candidates,
            allow_random_weights,
            cutouts,
            images,
        } => {
            let engine = open_engine(cli.models, catalog, profile, allow_random_weights)?;
            let opts = SearchOptions {
                category,
                weights,
                top_k,
                region,
                color,
                text,
                include_candidates: candidates,
                ..Default::default()
            };
            let mut failed = 0;
            for path in &images {
                let outcome = std::fs::read(path)
                    .with_context(|| format!("reading {}", path.display()))
                    .and_then(|bytes| engine.search(&bytes, &opts).map_err(anyhow::Error::from));
                if let (Ok(result), Some(dir)) = (&outcome, &cutouts) {
                    let name = path
                        .file_name()
                        .map_or_else(|| "photo".into(), |n| n.to_string_lossy().into_owned());
                    let file = dir.join(format!("{name}.cutout.png"));
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                    result
                        .cutout
                        .save(&file)
                        .with_context(|| format!("writing {}", file.display()))?;
                }
                match outcome {
                    Ok(result) if json => out!("{}", output::search_json(path, &result)?),
                    Ok(result) => output::print_search(path, &result)?,
                    Err(e) => {
                        failed += 1;
                        eprintln!("error: {}: {e:#}", path.display());
                    }
                }
            }
            Ok(if failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Bench(args) => bench::run(cli.models, args),
        Command::BenchScale(args) => bench_scale::run(args),
        Command::Eval(args) => eval::run(cli.models, args),
        Command::Check(args) => check::run(cli.models, args),
        Command::Pack(args) => bundle::run_pack(args),
        Command::Unpack(args) => bundle::run_unpack(cli.models, args),
    }
}
