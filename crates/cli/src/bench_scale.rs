//! `lookalike bench-scale`: the catalog-vector retrievers at scale, on seeded unit vectors
//! (`--data random`: the worst case for any index, nothing to exploit; `clustered`: groups of
//! near rows, closer to a real catalog). The exact f32 scan, the int8 codes
//! with an exact re-score, the HNSW graph over the codes at a sweep of `ef`, and the IVF index
//! over the codes at a sweep of probes; single queries
//! and batches of 8: p50 latency, recall@k against the exact scan, build, open and resident
//! memory. It writes the vectors, the queries and the exact top-k into `--dir`, where
//! `bench/scale.py` times FAISS and USearch on the very same data (`cargo xtask bench-scale`
//! runs both and prints one table).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lookalike_engine::catalog::codes::Codes;
use lookalike_engine::catalog::format::{Matrix, header_bytes};
use lookalike_engine::catalog::graph::Graph;
use lookalike_engine::stages::retrieve::hnsw::{self, HnswParams, HnswRescore};
use lookalike_engine::stages::retrieve::int8::Int8Rescore;
use lookalike_engine::stages::retrieve::ivf::{IvfIndex, IvfRescore, lists_for};
use lookalike_engine::stages::retrieve::{ExactScan, Retriever, Scan};
use lookalike_engine::vector::kernels::kernels;
use serde_json::json;

#[derive(Args)]
pub struct BenchScaleArgs {
    /// Catalog rows.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    #[arg(long, default_value_t = 768)]
    dims: usize,
    /// Query vectors (random unit vectors, independent of the rows).
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Neighbours per query (recall@k).
    #[arg(long, default_value_t = 10)]
    k: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// random: independent unit vectors (no structure, the worst case for an index);
    /// clustered: groups of about 50 rows around random centres (a product and its variants,
    /// photographed alike), the queries new members of random groups.
    #[arg(long, value_enum, default_value_t = Data::Random)]
    data: Data,
    /// Where the vectors, queries and exact answers are kept (reused when they match).
    #[arg(long)]
    dir: PathBuf,
    /// HNSW links per row on the upper layers (twice this on layer 0; 0: no HNSW). The graph is
    /// kept in `--dir` and reused by a later run with the same data and parameters.
    #[arg(long, default_value_t = 16)]
    hnsw_m: usize,
    /// Rows kept while the HNSW build searches for a row's neighbours.
    #[arg(long, default_value_t = 64)]
    hnsw_ef_construction: usize,
    /// HNSW search widths (rows kept by the walk), swept (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [64usize, 128, 256, 512])]
    hnsw_ef: Vec<usize>,
    /// IVF lists (default: one per 1,000 rows; 0: no IVF).
    #[arg(long)]
    lists: Option<usize>,
    /// IVF lists probed per query, swept (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [8usize, 32, 128])]
    probes: Vec<usize>,
    /// Also time the exact scan over a copy of the rows read into memory (the control for the
    /// memory-mapped file; needs as much free memory as the file's size).
    #[arg(long)]
    in_memory_control: bool,
    /// Also build a catalog of `--rows` products on these vectors (products cycled from
    /// `--catalog-template`) and time `Catalog::open` on it, with the template's fields and lean.
    #[arg(long)]
    catalog_open: bool,
    #[arg(long, default_value = "catalog/demo/catalog.json")]
    catalog_template: PathBuf,
    /// Also write the report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Data {
    Random,
    Clustered,
}

impl Data {
    fn name(self) -> &'static str {
        match self {
            Data::Random => "random",
            Data::Clustered => "clustered",
        }
    }
}

/// Rows per group of the clustered data.
const GROUP_ROWS: usize = 50;

/// Queries per batch in the batch timings (one photo's two views times a few photos).
const BATCH: usize = 8;

pub fn run(args: BenchScaleArgs) -> Result<ExitCode> {
    if args.rows == 0 || args.dims == 0 || args.queries < BATCH || args.k == 0 {
        bail!("--rows, --dims and --k must be above 0, --queries at least {BATCH}");
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let data = DataSet::ensure(&args)?;

    let t = Instant::now();
    let matrix = Matrix::map(&data.vectors).map_err(|e| anyhow::anyhow!("{e}"))?;
    let open_f32_ms = ms(t);
    let t = Instant::now();
    let codes = Codes::map(&data.codes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let open_int8_ms = ms(t);
    let queries = Matrix::map(&data.queries).map_err(|e| anyhow::anyhow!("{e}"))?;
    if (matrix.rows, matrix.dims, codes.rows, codes.dims)
        != (args.rows, args.dims, args.rows, args.dims)
        || queries.dims != args.dims
    {
        bail!(
            "the files in {} do not match --rows/--dims: delete the folder",
            args.dir.display()
        );
    }
    // as a catalog with codes is opened: the f32 rows are only re-scored (Catalog::open)
    matrix.advise_random_reads();
    let q: Vec<&[f32]> = (0..queries.rows).map(|i| queries.row(i)).collect();
    let exact = ExactScan {
        matrix: matrix.data(),
        dims: matrix.dims,
    };
    let int8 = Int8Rescore {
        codes: &codes,
        matrix: matrix.data(),
    };
    let all = 0..args.rows;
    let ranges = std::slice::from_ref(&all);

    // int8 first, so the resident set it reports holds the codes and the re-scored rows only
    let before = Resident::now();
    let int8_run = time_retriever(&int8, ranges, &q, args.k);
    let int8_resident = Resident::now().minus(&before);
    let exact_run = time_retriever(&exact, ranges, &q, args.k);
    let all_resident = Resident::now().minus(&before);
    // the same scan over a private copy in memory: what mapping the file costs, if anything
    let in_memory = args.in_memory_control.then(|| {
        let t = Instant::now();
        let copy = matrix.data().to_vec();
        let copy_ms = ms(t);
        let scan = ExactScan {
            matrix: &copy,
            dims: matrix.dims,
        };
        (time_retriever(&scan, ranges, &q, args.k), copy_ms)
    });

    let graph = match args.hnsw_m {
        0 => None,
        m => Some(ensure_graph(&args, &codes, m)?),
    };
    let hnsw_runs: Vec<(usize, Run)> = match &graph {
        None => Vec::new(),
        Some((g, _)) => args
            .hnsw_ef
            .iter()
            .map(|&ef| {
                let r = HnswRescore {
                    graph: g,
                    codes: &codes,
                    matrix: matrix.data(),
                    ef,
                };
                (ef, time_retriever(&r, ranges, &q, args.k))
            })
            .collect(),
    };

    let lists = args.lists.unwrap_or_else(|| lists_for(args.rows));
    let ivf = (lists > 0).then(|| {
        let t = Instant::now();
        (
            IvfIndex::build(&matrix, lists, args.seed),
            t.elapsed().as_secs_f64(),
        )
    });
    let ivf_build_s = ivf.as_ref().map_or(0.0, |i| i.1);
    let ivf_runs: Vec<(usize, Run)> = match &ivf {
        None => Vec::new(),
        Some((index, _)) => args
            .probes
            .iter()
            .map(|&probe| {
                let r = IvfRescore {
                    index,
                    codes: &codes,
                    matrix: matrix.data(),
                    probe,
                };
                (probe, time_retriever(&r, ranges, &q, args.k))
            })
            .collect(),
    };

    let catalog_open = match args.catalog_open {
        false => Vec::new(),
        true => [false, true]
            .into_iter()
            .map(|lean| {
                let graph = graph.as_ref().map(|_| graph_path(&args, args.hnsw_m));
                let (dir, template) = (&args.dir, &args.catalog_template);
                time_catalog_open(&data, dir, template, graph.as_deref(), args.rows, lean)
            })
            .collect::<Result<Vec<_>>>()?,
    };

    let truth: Vec<Vec<usize>> = exact_run
        .answers
        .iter()
        .map(|s| s.top.iter().map(|t| t.0).collect())
        .collect();
    write_truth(&args.dir.join("truth.json"), args.k, &truth)?;
    let mut rows = vec![
        report(
            "lookalike exact f32",
            &exact_run,
            &truth,
            data.build_f32_s,
            open_f32_ms,
        ),
        report(
            "lookalike int8 + re-score",
            &int8_run,
            &truth,
            data.build_int8_s,
            open_int8_ms,
        ),
    ];
    if let Some((run, copy_ms)) = &in_memory {
        let label = "lookalike exact f32, read into memory";
        rows.insert(1, report(label, run, &truth, data.build_f32_s, *copy_ms));
    }
    if let Some((g, build_s)) = &graph {
        for (ef, run) in &hnsw_runs {
            let label = format!("lookalike HNSW M{} int8 ef {ef}", g.m);
            let mut r = report(
                &label,
                run,
                &truth,
                data.build_int8_s + build_s,
                open_int8_ms,
            );
            r["ef"] = json!(ef);
            r["m"] = json!(g.m);
            r["rows_scored_share"] = json!(
                run.answers.iter().map(|a| a.count).sum::<usize>() as f64
                    / (run.answers.len().max(1) * args.rows) as f64
            );
            rows.push(r);
        }
    }
    for (probe, run) in &ivf_runs {
        let label = format!("lookalike IVF{lists} int8 probe {probe}");
        let mut r = report(
            &label,
            run,
            &truth,
            data.build_int8_s + ivf_build_s,
            open_int8_ms,
        );
        r["probe"] = json!(probe);
        r["lists"] = json!(lists);
        r["rows_scanned_share"] = json!(
            run.answers.iter().map(|a| a.count).sum::<usize>() as f64
                / (run.answers.len().max(1) * args.rows) as f64
        );
        rows.push(r);
    }
    let bytes_f32 = 4 * args.dims;
    let bytes_int8 = args.dims + 4;
    let out = json!({
        "command": "lookalike bench-scale",
        "rows_count": args.rows,
        "dims": args.dims,
        "queries": args.queries,
        "k": args.k,
        "seed": args.seed,
        "data": args.data.name(),
        "kernels": kernels().name,
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "same_top_k_int8": same_lists(&int8_run.answers, &exact_run.answers),
        // file-backed pages (the mapped codes and rows: clean, the kernel can drop and re-read
        // them) apart from private memory
        "resident_after_int8_searches": int8_resident.json(),
        "resident_after_exact_scans": all_resident.json(),
        "bytes_per_row_scanned": {"f32": bytes_f32, "int8": bytes_int8},
        "ivf": {"lists": lists, "build_s": ivf_build_s, "bytes_per_row": 4},
        "hnsw": graph.as_ref().map(|(g, build_s)| json!({
            "m": g.m,
            "ef_construction": args.hnsw_ef_construction,
            "build_s": build_s,
            "upper_layers": g.upper_layers(),
            "bytes_per_row": g.byte_len() as f64 / args.rows as f64,
        })),
        "results": rows,
        "catalog_open": catalog_open,
    });
    out!(
        "{} x {} {} unit vectors, {} queries, k {}, kernels {}",
        args.rows,
        args.dims,
        args.data.name(),
        args.queries,
        args.k,
        kernels().name
    );
    out!(
        "{:<36} {:>10} {:>12} {:>10} {:>9} {:>9}",
        "retriever",
        "p50 1q ms",
        "p50 8q ms",
        "recall@k",
        "build s",
        "open ms"
    );
    for r in &rows {
        out!(
            "{:<36} {:>10.2} {:>12.2} {:>10.4} {:>9.1} {:>9.2}",
            r["name"].as_str().unwrap_or_default(),
            r["p50_single_ms"].as_f64().unwrap_or_default(),
            r["p50_batch8_ms"].as_f64().unwrap_or_default(),
            r["recall_at_k"].as_f64().unwrap_or_default(),
            r["build_s"].as_f64().unwrap_or_default(),
            r["open_ms"].as_f64().unwrap_or_default(),
        );
    }
    out!(
        "int8 top-{} equal to the exact one (ids and order): {:.3} of queries",
        args.k,
        out["same_top_k_int8"].as_f64().unwrap_or_default()
    );
    out!(
        "added resident memory after the int8 searches: {:.0} MiB mapped from files, {:.0} MiB private; after the exact scans too: {:.0} MiB files, {:.0} MiB private",
        int8_resident.file_mib(),
        int8_resident.anon_mib(),
        all_resident.file_mib(),
        all_resident.anon_mib()
    );
    for c in &catalog_open {
        let what = if c["lean"] == true {
            "lean products"
        } else {
            "the template's fields"
        };
        let records = c["records_mib"].as_f64().unwrap_or_default();
        match c["open_ms"].as_f64() {
            Some(t) => out!(
                "Catalog::open of {} products ({what}, products.jsonl {records:.0} MiB): {t:.1} ms; ten hits' records {:.2} ms, ten look-ups by id {:.2} ms",
                args.rows,
                c["ten_hits_ms"].as_f64().unwrap_or_default(),
                c["ten_by_id_ms"].as_f64().unwrap_or_default()
            ),
            None => out!(
                "Catalog::open of {} products ({what}, products.jsonl {records:.0} MiB) failed: {}",
                args.rows,
                c["error"].as_str().unwrap_or_default()
            ),
        }
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&out)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn graph_path(args: &BenchScaleArgs, m: usize) -> PathBuf {
    let efc = args.hnsw_ef_construction;
    args.dir.join(format!("graph-m{m}-efc{efc}.hnsw"))
}

/// The HNSW graph of the data set's codes, built once per (data, m, ef construction) and kept
/// in `--dir` (with its build time), so a rerun times the searches only.
fn ensure_graph(args: &BenchScaleArgs, codes: &Codes, m: usize) -> Result<(Graph, f64)> {
    let efc = args.hnsw_ef_construction;
    let path = graph_path(args, m);
    let meta_path = path.with_extension("json");
    if let Ok(g) = Graph::map(&path)
        && g.check_against(codes).is_ok()
        && let Ok(meta) = std::fs::read_to_string(&meta_path)
        && let Ok(meta) = serde_json::from_str::<serde_json::Value>(&meta)
        && let Some(build_s) = meta["build_s"].as_f64()
    {
        return Ok((g, build_s));
    }
    eprintln!(
        "building the HNSW graph (M {m}, ef construction {efc}) of {} rows",
        codes.rows
    );
    let params = HnswParams {
        m,
        ef_construction: efc,
        ..HnswParams::default()
    };
    let t = Instant::now();
    let g = hnsw::build(codes, &params).map_err(|e| anyhow::anyhow!("{e}"))?;
    let build_s = t.elapsed().as_secs_f64();
    g.write(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::write(&meta_path, json!({"build_s": build_s}).to_string() + "\n")?;
    Ok((g, build_s))
}

/// The files of one data set, written once per (rows, dims, queries, seed).
struct DataSet {
    vectors: PathBuf,
    codes: PathBuf,
    queries: PathBuf,
    /// Seconds to write the f32 file, and to make and write the codes from it.
    build_f32_s: f64,
    build_int8_s: f64,
}

impl DataSet {
    fn ensure(args: &BenchScaleArgs) -> Result<Self> {
        let dir = &args.dir;
        let set = DataSet {
            vectors: dir.join("vectors.bin"),
            codes: dir.join("vectors.i8"),
            queries: dir.join("queries.bin"),
            build_f32_s: 0.0,
            build_int8_s: 0.0,
        };
        let meta_path = dir.join("meta.json");
        let meta = json!({
            "rows": args.rows, "dims": args.dims, "queries": args.queries, "seed": args.seed,
            "data": args.data.name(),
            "generator": "xorshift64* + Box-Muller, rows normalised; queries from seed + 1",
        });
        if let Ok(old) = std::fs::read_to_string(&meta_path)
            && let Ok(old) = serde_json::from_str::<serde_json::Value>(&old)
            && ["rows", "dims", "queries", "seed", "data"]
                .iter()
                .all(|k| old.get(k) == meta.get(k))
            && [&set.vectors, &set.codes, &set.queries]
                .iter()
                .all(|p| p.exists())
        {
            let build = |k: &str| old[k].as_f64().unwrap_or_default();
            return Ok(DataSet {
                build_f32_s: build("build_f32_s"),
                build_int8_s: build("build_int8_s"),
                ..set
            });
        }
        eprintln!(
            "writing {} x {} {} unit vectors to {}",
            args.rows,
            args.dims,
            args.data.name(),
            dir.display()
        );
        let t = Instant::now();
        let groups = match args.data {
            Data::Random => None,
            Data::Clustered => Some(Groups::new(
                args.rows.div_ceil(GROUP_ROWS),
                args.dims,
                args.seed,
            )),
        };
        write_unit_vectors(
            &set.vectors,
            args.rows,
            args.dims,
            args.seed,
            groups.as_ref(),
        )?;
        let build_f32_s = t.elapsed().as_secs_f64();
        write_unit_vectors(
            &set.queries,
            args.queries,
            args.dims,
            args.seed.wrapping_add(1),
            groups.as_ref(),
        )?;
        let t = Instant::now();
        let m = Matrix::map(&set.vectors).map_err(|e| anyhow::anyhow!("{e}"))?;
        Codes::of(&m)
            .write(&set.codes)
            .with_context(|| format!("cannot write {}", set.codes.display()))?;
        let build_int8_s = t.elapsed().as_secs_f64();
        let mut meta = meta;
        meta["build_f32_s"] = json!(build_f32_s);
        meta["build_int8_s"] = json!(build_int8_s);
        std::fs::write(&meta_path, serde_json::to_string_pretty(&meta)? + "\n")?;
        Ok(DataSet {
            build_f32_s,
            build_int8_s,
            ..set
        })
    }
}

/// The centres of the clustered data: random unit vectors.
struct Groups {
    dims: usize,
    centres: Vec<f32>,
}

impl Groups {
    fn new(count: usize, dims: usize, seed: u64) -> Self {
        let mut rng = Gauss::new(seed ^ 0x00C1_u64.rotate_left(40));
        let mut centres: Vec<f32> = (0..count * dims).map(|_| rng.next()).collect();
        for c in centres.chunks_exact_mut(dims) {
            lookalike_engine::vector::l2_normalize(c);
        }
        Groups { dims, centres }
    }

    fn count(&self) -> usize {
        self.centres.len() / self.dims
    }
}

/// Streams `rows` seeded unit vectors into a matrix file, one row at a time: normalised
/// Gaussians (uniform on the sphere), or with `groups`, a random group's centre plus Gaussian
/// noise of the same length (a row is at cosine ~0.7 to its centre, ~0.5 to its group's rows).
fn write_unit_vectors(
    path: &Path,
    rows: usize,
    dims: usize,
    seed: u64,
    groups: Option<&Groups>,
) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(&header_bytes(rows, dims))?;
    let mut rng = Gauss::new(seed);
    let mut row = vec![0f32; dims];
    let mut bytes = Vec::with_capacity(4 * dims);
    let noise = 1.0 / (dims as f32).sqrt();
    for _ in 0..rows {
        for v in row.iter_mut() {
            *v = rng.next();
        }
        if let Some(g) = groups {
            let c = (rng.uniform() * g.count() as f64) as usize % g.count();
            for (v, m) in row.iter_mut().zip(&g.centres[c * dims..(c + 1) * dims]) {
                *v = m + *v * noise;
            }
        }
        let norm = row
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt()
            .max(f32::MIN_POSITIVE);
        bytes.clear();
        for v in &row {
            bytes.extend_from_slice(&(v / norm).to_le_bytes());
        }
        w.write_all(&bytes)?;
    }
    w.into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Standard normal samples: xorshift64* for the bits, Box-Muller for the shape.
struct Gauss {
    state: u64,
    spare: Option<f32>,
}

impl Gauss {
    fn new(seed: u64) -> Self {
        Gauss {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let bits = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        // in (0, 1]: the logarithm below never sees 0
        (bits as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f32 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let (u, v) = (self.uniform(), self.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let t = std::f64::consts::TAU * v;
        self.spare = Some((r * t.sin()) as f32);
        (r * t.cos()) as f32
    }
}

/// One retriever's answers and timings.
struct Run {
    name: &'static str,
    answers: Vec<Scan>,
    single_ms: Vec<f64>,
    batch_ms: Vec<f64>,
}

fn time_retriever(
    r: &dyn Retriever,
    ranges: &[std::ops::Range<usize>],
    queries: &[&[f32]],
    k: usize,
) -> Run {
    // one untimed query first: page faults of a cold mapping are not the steady state
    let _ = r.top_k(ranges, &queries[..1], k);
    let mut answers = Vec::with_capacity(queries.len());
    let mut single_ms = Vec::with_capacity(queries.len());
    for q in queries {
        let t = Instant::now();
        answers.extend(r.top_k(ranges, std::slice::from_ref(q), k));
        single_ms.push(ms(t));
    }
    let batch_ms = queries
        .chunks_exact(BATCH)
        .map(|b| {
            let t = Instant::now();
            let _ = r.top_k(ranges, b, k);
            ms(t)
        })
        .collect();
    Run {
        name: r.name(),
        answers,
        single_ms,
        batch_ms,
    }
}

fn report(
    label: &str,
    run: &Run,
    truth: &[Vec<usize>],
    build_s: f64,
    open_ms: f64,
) -> serde_json::Value {
    json!({
        "name": label,
        "retriever": run.name,
        "p50_single_ms": median(&run.single_ms),
        "p50_batch8_ms": median(&run.batch_ms),
        "recall_at_k": recall(&run.answers, truth),
        "build_s": build_s,
        "open_ms": open_ms,
    })
}

/// Mean share of each query's exact top-k found in its answer.
fn recall(answers: &[Scan], truth: &[Vec<usize>]) -> f64 {
    let mut found = 0usize;
    let mut total = 0usize;
    for (a, t) in answers.iter().zip(truth) {
        total += t.len();
        found += t
            .iter()
            .filter(|row| a.top.iter().any(|x| x.0 == **row))
            .count();
    }
    found as f64 / total.max(1) as f64
}

/// Share of queries whose answers list the same rows in the same order.
fn same_lists(a: &[Scan], b: &[Scan]) -> f64 {
    let same = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.top.iter().map(|t| t.0).eq(y.top.iter().map(|t| t.0)))
        .count();
    same as f64 / a.len().max(1) as f64
}

fn write_truth(path: &Path, k: usize, truth: &[Vec<usize>]) -> Result<()> {
    let body = json!({"k": k, "ids": truth});
    std::fs::write(path, serde_json::to_string(&body)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or_default()
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// This process's resident memory (KiB, from /proc; 0 where there is none): pages mapped from
/// files (`RssFile`) and private ones (`RssAnon`).
struct Resident {
    file: u64,
    anon: u64,
}

impl Resident {
    fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Resident {
            file: field("RssFile:"),
            anon: field("RssAnon:"),
        }
    }

    fn minus(&self, before: &Resident) -> Resident {
        Resident {
            file: self.file.saturating_sub(before.file),
            anon: self.anon.saturating_sub(before.anon),
        }
    }

    fn file_mib(&self) -> f64 {
        self.file as f64 / 1024.0
    }

    fn anon_mib(&self) -> f64 {
        self.anon as f64 / 1024.0
    }

    fn json(&self) -> serde_json::Value {
        json!({"file_mib": self.file_mib(), "private_mib": self.anon_mib()})
    }
}

/// `--catalog-open`: a catalog of `rows` products in `dir/catalog` whose embeddings, codes and
/// (when the bench built one) HNSW graph are the bench's own files (hard links), the products
/// cycled from `template`'s catalog (new ids, the same fields: `lean` keeps only id, name,
/// category, price), one category; `Catalog::open` timed three times, then the reads a search
/// makes of it: ten hits' records, ten look-ups by id. The sizes and the medians, or why it did
/// not open.
fn time_catalog_open(
    data: &DataSet,
    dir: &Path,
    template: &Path,
    graph: Option<&Path>,
    rows: usize,
    lean: bool,
) -> Result<serde_json::Value> {
    use lookalike_engine::catalog::records;
    use lookalike_engine::catalog::schema::{
        AnnKind, CATALOG_JSON, CATALOG_VERSION, CODES_BIN, COLORS_BIN, CodesKind, EMBEDDINGS_BIN,
        GRAPH_BIN, PRODUCTS_JSONL, TEXTURE_BIN, THUMBS_DIR,
    };
    let source = template.parent().unwrap_or(Path::new("."));
    let demo_catalog = lookalike_engine::Catalog::open(source)
        .with_context(|| format!("{} (--catalog-template) does not open", template.display()))?;
    let demo = demo_catalog.all_products()?;
    let first = demo.first().context("the template has no products")?;
    let category = first.category.clone();
    let mut file = demo_catalog.file.clone();
    let mut cat = (file.categories.iter())
        .find(|c| c.def.name == category)
        .cloned()
        .context("the template's first product has no category")?;
    let out = dir.join(if lean { "catalog-lean" } else { "catalog" });
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(out.join(THUMBS_DIR))?;
    std::fs::hard_link(&data.vectors, out.join(EMBEDDINGS_BIN))?;
    std::fs::hard_link(&data.codes, out.join(CODES_BIN))?;
    if let Some(g) = graph {
        std::fs::hard_link(g, out.join(GRAPH_BIN))?;
    }
    let texture_dims = 8;
    for (name, dims) in [(TEXTURE_BIN, texture_dims), (COLORS_BIN, 26)] {
        let mut w = BufWriter::new(File::create(out.join(name))?);
        w.write_all(&header_bytes(rows, dims))?;
        let zeros = vec![0u8; 4 * dims];
        for _ in 0..rows {
            w.write_all(&zeros)?;
        }
        w.flush()?;
    }
    for p in &demo {
        let to = out.join(&p.thumbnail);
        if !to.exists() {
            let from = source.join(&p.thumbnail);
            std::fs::hard_link(&from, &to).or_else(|_| std::fs::copy(&from, &to).map(|_| ()))?;
        }
    }
    let products: Vec<_> = (0..rows)
        .map(|i| {
            let mut p = demo[i % demo.len()].clone();
            p.id = format!("{}-{i}", p.id);
            p.category = category.clone();
            if lean {
                (p.description, p.source, p.brand, p.gtin, p.url, p.currency) =
                    (None, None, None, None, None, None);
            }
            p
        })
        .collect();
    records::write(&out, &products).map_err(|e| anyhow::anyhow!("{e}"))?;
    cat.rows = [0, rows];
    cat.learned_classes.clear();
    file.version = CATALOG_VERSION;
    file.categories = vec![cat];
    file.rows = rows;
    file.dims.embedding = data_dims(&data.vectors)?;
    file.dims.texture = texture_dims;
    file.texture_center = vec![0.0; texture_dims];
    file.codes = Some(CodesKind::Int8);
    file.ann = graph.map(|_| AnnKind::Hnsw);
    let body = serde_json::to_vec(&file)?;
    std::fs::write(out.join(CATALOG_JSON), &body)?;
    let sizes = json!({"products": rows, "lean": lean, "graph": graph.is_some(),
        "catalog_json_kib": body.len() as f64 / 1024.0,
        "records_mib": std::fs::metadata(out.join(PRODUCTS_JSONL))?.len() as f64 / 1048576.0});
    let mut times = Vec::new();
    let mut catalog = None;
    for _ in 0..3 {
        drop(catalog.take());
        let t = Instant::now();
        match lookalike_engine::Catalog::open(&out) {
            Ok(c) => {
                times.push(ms(t));
                catalog = Some(c);
            }
            Err(e) => {
                let mut failed = sizes;
                failed["error"] = json!(e.to_string());
                return Ok(failed);
            }
        }
    }
    let catalog = catalog.context("opened three times")?;
    // the rows a search shows and the ids a product page asks for: spread over the file
    let picks: Vec<usize> = (0..10).map(|i| (i * 7919 * 104729 + 13) % rows).collect();
    let t = Instant::now();
    for &row in &picks {
        catalog.product(row)?;
    }
    let hits_ms = ms(t);
    let t = Instant::now();
    for &row in &picks {
        let id = &products[row].id;
        if catalog.product_by_id(id)?.is_none() {
            bail!("product {id} not found by id");
        }
    }
    let by_id_ms = ms(t);
    let mut done = sizes;
    done["open_ms"] = json!(median(&times));
    done["ten_hits_ms"] = json!(hits_ms);
    done["ten_by_id_ms"] = json!(by_id_ms);
    Ok(done)
}

fn data_dims(path: &Path) -> Result<usize> {
    Ok(Matrix::map(path).map_err(|e| anyhow::anyhow!("{e}"))?.dims)
}
