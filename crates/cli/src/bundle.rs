//! `lookalike pack` / `lookalike unpack`: a catalog folder as one file and back (the engine's
//! `catalog::bundle`, which the app's import uses too).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use lookalike_engine::catalog::bundle::{self, BundleLimits, ModelCheck};
use lookalike_engine::models::{Manifest, ModelRegistry, RuntimeOptions};
use serde_json::json;

#[derive(Args)]
pub struct PackArgs {
    /// The catalog folder to pack (built by `lookalike index`; opened and checked first).
    #[arg(long)]
    catalog: PathBuf,
    /// The bundle file to write, e.g. shop.lookalike (replaced in one step).
    #[arg(long)]
    out: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct UnpackArgs {
    /// The bundle file (made by `lookalike pack`).
    #[arg(long)]
    bundle: PathBuf,
    /// The catalog folder to create or replace (a non-empty folder that is not a catalog is
    /// refused; a refused bundle leaves the catalog there untouched).
    #[arg(long)]
    out: PathBuf,
    /// Do not check the catalog against the models in `--models` (unpacking where they are not).
    #[arg(long)]
    no_model_check: bool,
    /// Allow models exported with random weights (code-path checks only).
    #[arg(long)]
    allow_random_weights: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn run_pack(args: PackArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let report = bundle::pack(&args.catalog, &args.out).with_context(|| {
        format!(
            "packing catalog {} into {}",
            args.catalog.display(),
            args.out.display()
        )
    })?;
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["seconds"] = json!(seconds);
        out!("{}", serde_json::to_string(&value)?);
    } else {
        out!(
            "packed `{}` ({} products, profile {}): {} files, {} into {} ({}) in {seconds:.2} s",
            report.name,
            report.products,
            report.profile,
            report.files,
            mb(report.content_bytes),
            report.bundle.display(),
            mb(report.bundle_bytes)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_unpack(models: PathBuf, args: UnpackArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let registry = if args.no_model_check {
        None
    } else {
        let manifest = Manifest::load(&models)
            .with_context(|| format!("loading the models in {}", models.display()))?;
        Some(ModelRegistry::new(
            manifest,
            RuntimeOptions::default(),
            args.allow_random_weights,
        ))
    };
    // the catalog's own profile, checked against these model files
    let check = registry.as_ref().map(|models| ModelCheck {
        models,
        profile: None,
    });
    let report = bundle::unpack(&args.bundle, &args.out, &BundleLimits::default(), check)
        .with_context(|| {
            format!(
                "unpacking {} into {}",
                args.bundle.display(),
                args.out.display()
            )
        })?;
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["seconds"] = json!(seconds);
        out!("{}", serde_json::to_string(&value)?);
    } else {
        let checked = if report.models_checked {
            format!("fits the models in {}", models.display())
        } else {
            "not checked against models (--no-model-check)".into()
        };
        out!(
            "unpacked `{}` ({} products, profile {}): {} files, {} into {}; {checked}; {seconds:.2} s",
            report.name,
            report.products,
            report.profile,
            report.files,
            mb(report.content_bytes),
            report.catalog.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
