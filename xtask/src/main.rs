//! Lookalike's task runner: `cargo xtask <task>` (the alias is in `.cargo/config.toml`).
//!
//! Every task first runs the part of `scripts/setup.sh` it needs (idempotent: a second run only
//! re-verifies checksums), then the work. The heavy lifting that is more than one command stays in
//! bash (`scripts/setup.sh` and its parts, `scripts/test-desktop.sh`, `scripts/check-android.sh`,
//! `scripts/fuzz.sh`, `scripts/export-full-random.sh`); this file only sequences it.
//!
//! std + clap only, and no dependency on the engine: it must build before set-up fetched anything.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

/// Where the repository's scripts read ORT_LIB (the ONNX Runtime library set-up unpacks).
const ENV_SH: &str = "scripts/env.sh";
/// The labelled query sets of `bench/queries/`.
/// `outside` holds no products: `eval` searches it in every catalog (`lookalike eval --outside`).
const ALL_SETS: [QuerySet; 4] = [
    QuerySet::Photo,
    QuerySet::Multiview,
    QuerySet::Emoji,
    QuerySet::Outside,
];

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Lookalike's tasks. Each runs the set-up parts it needs (scripts/setup.sh, idempotent; \
             shown in brackets), then the work.",
    after_help = "Set-up parts: core = ONNX Runtime, models, fixtures, demo sources, the CLI, catalog/demo \
                  (no system packages, no npm); app = Tauri/WebKitGTK packages, Xvfb, WebKitWebDriver, \
                  tauri-driver, Chromium, npm packages, ui/dist; bench = .cache/bench-venv. \
                  `cargo xtask <task> --help` says more about one task."
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Set up parts: core, app, bench, all (default: all = core + app): scripts/setup.sh
    Setup {
        /// parts to set up, in any order (they run in the order app, core, bench)
        #[arg(value_enum)]
        parts: Vec<Part>,
        /// also fetch the optional 176 MB U2Net model (core)
        #[arg(long)]
        with_u2net: bool,
        /// build nothing: no CLI, no catalog index (core), no ui/dist (app)
        #[arg(long)]
        no_build: bool,
    },
    /// Build the desktop app (release) and start it on the demo catalog [core + app]
    App,
    /// Search the demo catalog from the terminal: `lookalike search` [core]
    #[command(
        long_about = "Search the demo catalog from the terminal [set-up: core].\n\n\
        Runs `target/release/lookalike search --catalog catalog/demo ARGS...`. Without ARGS it \
        searches a few shopper-style photos: other views of demo products (not in the catalog) \
        and a photo the catalog does not hold. ARGS may be photos and `lookalike search` options, \
        e.g. `cargo xtask demo -- --json PHOTO` or `cargo xtask demo -- --category footwear PHOTO`."
    )]
    Demo {
        /// photos and `lookalike search` options (after `--` when they start with `-`)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Per-stage latency (min / p50 / p95) of `lookalike bench` on the standard photos [core]
    #[command(
        long_about = "The standard latency benchmark behind README's Performance table \
        [set-up: core].\n\nReal product photos (every 6th Vendure JPEG of the demo sources, \
        `bench_photos` in scripts/env.sh; no alpha, so U2Netp runs) searched against the demo \
        catalog with `lookalike bench --catalog catalog/demo --runs 10 ARGS... PHOTOS...`. \
        ARGS: `--runs N`, `--json`."
    )]
    Bench {
        /// `lookalike bench` options, e.g. `--runs 20 --json`
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Retrieval scan speed against the memory bandwidth (criterion) [no set-up]
    #[command(
        long_about = "Retrieval scan speed [no set-up]: exact top-50 over 1k..1M rows of \
        768-d f32, one query and a batch of 8, against this machine's memory read bandwidth \
        (criterion: crates/engine/benches/scan.rs, then bench/scan_report.py). Needs ~3.5 GB of \
        free memory for the 1M-row matrix."
    )]
    BenchScan {
        /// also write the table as JSON to this file
        #[arg(long, value_name = "OUT")]
        json: Option<PathBuf>,
    },
    /// Build the labelled query sets of `lookalike eval` in .cache/queries/ [core + bench]
    #[command(
        long_about = "Build the labelled query sets for `lookalike eval` (see \
        bench/queries/README.md) [set-up: core + bench].\n\n  \
        .cache/queries/photo/      photo-like queries from the demo catalog's images (catalog/demo)\n  \
        .cache/queries/multiview/  Saleor's other views of demo products (catalog/demo)\n  \
        .cache/queries/emoji/      other vendors' drawings of Google's object emoji (catalog/emoji, \
        built here too)\n  .cache/queries/outside/    photos and drawings of things neither catalog \
        sells (no product: the `match` check)\n\nEach folder has queries.csv (image,product,split) and about.json. \
        Idempotent: a set whose about.json matches the generator's inputs (code, seed, source \
        checksums) and whose images are intact is kept; anything else is rebuilt."
    )]
    MakeQueries {
        /// rebuild every named set even if it is up to date
        #[arg(long)]
        force: bool,
        /// the sets to build (default: all three)
        #[arg(value_enum)]
        sets: Vec<QuerySet>,
    },
    /// Retrieval quality: one `lookalike eval --tune` over every query set [core + bench]
    #[command(
        long_about = "Retrieval quality on the labelled query sets [set-up: core + bench].\n\n\
        Builds the sets (as make-queries), then one `lookalike eval --tune` over all of them \
        (`outside` as --outside): one scoring and one match rule fitted on the `tune` split of \
        every set, every row reported on the `test` split; JSON to bench/results/eval.json, \
        tables on stdout."
    )]
    Eval {
        /// the sets to evaluate (default: all four)
        #[arg(value_enum)]
        sets: Vec<QuerySet>,
    },
    /// Race against the Python reference pipeline and rembg: bench/race.py [core + bench]
    #[command(
        long_about = "Lookalike vs the Python reference pipeline (bench/reference) vs \
        rembg, on the `bench` task's photos [set-up: core + bench]: bench/race.py with the bench \
        venv's Python.\n\n  cargo xtask race -- [--rounds 5] [--runs 5] [--json OUT]   the race \
        (agreement check first)\n  cargo xtask race -- --check [--exact-resize] [--json OUT]  \
        agreement only"
    )]
    Race {
        /// bench/race.py options (`cargo xtask race -- --help` lists them)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// race + bench-scan + eval into bench/results/, then README's tables [core + bench]
    #[command(
        long_about = "Every number in README's Performance and Quality sections \
        [set-up: core + bench]: the race (bench/results/race.json), the retrieval scan \
        (bench/results/scan.json) and the quality evaluation of every query set \
        (bench/results/eval.json), then bench/render_readme.py rewrites README's tables. \
        Run it on a quiet machine (about 15 minutes on 2 cores)."
    )]
    Report,
    /// Every check and test; CI runs this (.ci/run; = bash scripts/test.sh) [core + app]
    #[command(
        long_about = "Every check and test (CI runs this: .ci/run; `bash scripts/test.sh` is the same) \
        [set-up: all = core + app]: the shell syntax of scripts/*.sh, the ONNX Runtime file name \
        against scripts/env.sh, cargo fmt --check, cargo clippy -D warnings, the Python syntax of \
        the committed tools, cargo test --workspace, the UI tests (headless Chromium), the \
        desktop app end to end (Xvfb, tauri-driver) and the Android cross-check."
    )]
    Test,
    /// The UI tests in headless Chromium, Tauri IPC mocked: npm run test:ui [core + app]
    TestUi,
    /// Regenerate ui/src/generated/contract.ts from the Rust types the UI sees [app]
    Contract,
    /// The real desktop app end to end under Xvfb: scripts/test-desktop.sh [core + app]
    TestDesktop,
    /// The Android cross-check without the SDK: scripts/check-android.sh [core + app]
    CheckAndroid,
    /// The engine on ARM64 under qemu, compared with x86-64: scripts/check-arm64.sh [core]
    #[command(
        long_about = "The engine on ARM64 (the phone's CPU) under qemu-aarch64, compared with \
        x86-64: scripts/check-arm64.sh [set-up: core]. Installs the aarch64 cross linker and \
        qemu-user >= 8.1 with apt when missing, adds the Rust target, fetches the aarch64 ONNX \
        Runtime wheel, cross-builds, runs the engine's unit tests and golden model checks under \
        emulation and compares the bench photos' searches and the refused hostile files with the \
        native run (bench/results/arm64.json). A pre-release check, not part of CI: it took 25 \
        minutes on 2 cores. ARM64_REQUIRED=1 makes an unreachable Rust target a failure."
    )]
    CheckArm64,
    /// Searches of 2, 12 and 48 MP photos, scaled and full JPEG decode: scripts/bench-phone.sh [core]
    #[command(
        long_about = "Phone-sized photos: scripts/bench-phone.sh [set-up: core]. Makes 12 MP and \
        48 MP JPEGs from the first bench photos (.cache/phone-photos/, reproducible), runs \
        `lookalike bench` on each size in its own process with the scaled JPEG decode and with \
        --full-decode, and writes decode and total p50 and peak RSS to bench/results/phone.json."
    )]
    BenchPhone,
    /// Catalog vectors at scale against FAISS and USearch: scripts/bench-scale.sh [bench]
    #[command(
        long_about = "The scale bench: scripts/bench-scale.sh [set-up: core + bench]. Seeded \
        random unit vectors (1M x 768, then 10M x 256 exact only) in .cache/scale/; Lookalike's \
        exact f32 scan and int8 + re-score (`lookalike bench-scale`) and FAISS IndexFlatIP / \
        IndexHNSWFlat and USearch HNSW (bench/scale.py) on the same files and cores: p50 of one \
        query and of 8, recall@10 against the exact scan, build, open and memory, into \
        bench/results/scale-ROWSxDIMS.json. LOOKALIKE_SCALE_SETS picks the sets. Needs ~15 GB \
        of disk and ~12 GB of memory; the HNSW builds take most of the time."
    )]
    BenchScale,
    /// One app process, 5,000 searches: scripts/soak.sh [core]
    #[command(
        long_about = "The long soak: scripts/soak.sh [set-up: core]. One AppState, two threads, \
        LOOKALIKE_SOAK_SEARCHES (5,000) searches over the bench photos and tests/bad-inputs mixed; \
        resident memory, open fds and threads sampled every 250 searches into \
        bench/results/soak.json. Fails on a different answer, fd or thread growth, or resident \
        memory of the last 1,000 searches more than 5% off the 1,000 before. The short soak \
        (300 searches) is part of `cargo xtask test`."
    )]
    Soak,
    /// Valgrind memcheck on the CLI's search of tests/bad-inputs: scripts/memcheck.sh [core]
    #[command(
        long_about = "Valgrind memcheck on one CLI search of every file in tests/bad-inputs/ \
        against catalog/demo: scripts/memcheck.sh [set-up: core]. Fails on any error outside \
        scripts/valgrind.supp (each suppression says why it is not Lookalike's) and on any \
        definitely or indirectly lost block. Not part of CI: valgrind runs ~50x slower."
    )]
    Memcheck,
    /// Fuzz the engine (cargo-fuzz, nightly): scripts/fuzz.sh [core, for `search`]
    #[command(
        long_about = "Fuzz the engine with cargo-fuzz/libFuzzer: scripts/fuzz.sh (see \
        fuzz/README.md; needs a nightly toolchain) [set-up: core when the `search` target runs].\n\n\
        Knobs (environment): FUZZ_SECONDS (60 per target; 0 = replay the seeds and \
        fuzz/regressions/ only), FUZZ_SECONDS_<TARGET>, FUZZ_TIMEOUT, FUZZ_RSS_MB, \
        FUZZ_CODEGEN_UNITS, FUZZ_MIN_SECONDS. Exits 1 if any target crashed."
    )]
    Fuzz {
        /// the targets (default: all)
        #[arg(value_enum)]
        targets: Vec<FuzzTarget>,
    },
    /// Full-profile models with RANDOM weights into models/random-init/ (torch) [core]
    #[command(
        long_about = "Export the `full` profile's models (SigLIP2, Marqo-FashionSigLIP, \
        DINOv2-small) with RANDOM weights, offline: scripts/export-full-random.sh, then (for the \
        default --out) scripts/random_init_models.py makes models/random-init/ a complete models \
        folder [set-up: core, without the build: the export calibrates on the demo photos].\n\n\
        Not part of CI: it needs the ~5.5 GB torch export environment (PYTHON=..., default \
        /work/venv-export/bin/python; see models/export/README-seed.md) and 15-25 minutes on \
        2 cores."
    )]
    ExportFullRandom {
        /// export_seed_models.py options, e.g. `--keep-fp32`, `--only siglip2`, `--out DIR`
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Part {
    Core,
    App,
    Bench,
    All,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum QuerySet {
    Photo,
    Multiview,
    Emoji,
    Outside,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum FuzzTarget {
    Decode,
    Pipeline,
    Catalog,
    Matrix,
    /// the int8 codes and HNSW graph readers
    #[value(name = "index_files")]
    IndexFiles,
    Bundle,
    Products,
    Search,
}

fn value_name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_owned())
        .unwrap_or_default()
}

/// A failed task: a command's exit status (its own output said why) or a message.
enum Failure {
    Status(String, i32),
    Message(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status(what, code) => write!(f, "`{what}` failed (exit status {code})"),
            Failure::Message(m) => f.write_str(m),
        }
    }
}

type Result<T = ()> = std::result::Result<T, Failure>;

fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(Failure::Message(msg.into()))
}

/// The repository root, the place every task runs from.
struct Repo {
    root: PathBuf,
    /// ORT_DYLIB_PATH for the commands: the caller's (or cargo's [env]), else ORT_LIB of env.sh
    ort_dylib: OsString,
}

impl Repo {
    fn open() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask/ is inside the repository")
            .to_path_buf();
        std::env::set_current_dir(&root)
            .map_err(|e| Failure::Message(format!("cannot enter {}: {e}", root.display())))?;
        let ort_dylib = match std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
            Some(p) => p,
            None => root.join(ort_lib(&root)?).into_os_string(),
        };
        Ok(Repo { root, ort_dylib })
    }

    /// A command run from the root, with ORT_DYLIB_PATH set (the CLI loads ONNX Runtime at run time).
    fn cmd(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root)
            .env("ORT_DYLIB_PATH", &self.ort_dylib);
        c
    }

    /// `bash scripts/setup.sh PARTS...`; its stdout goes to stderr, so that a task's own stdout
    /// (`--json`) stays clean.
    fn setup(&self, parts: &[&str]) -> Result {
        let mut c = self.cmd("bash");
        c.arg("scripts/setup.sh")
            .args(parts)
            .stdout(Stdio::from(std::io::stderr()));
        run(&mut c)
    }

    fn cli(&self) -> Result<Command> {
        let bin = self.root.join("target/release/lookalike");
        if !bin.is_file() {
            return fail(format!(
                "{} is missing: run `bash scripts/setup.sh core`",
                bin.display()
            ));
        }
        Ok(self.cmd(bin))
    }

    fn bench_python(&self) -> Command {
        self.cmd(self.root.join(".cache/bench-venv/bin/python"))
    }
}

/// ORT_LIB from scripts/env.sh: a plain `ORT_LIB=path` line, relative to the root.
fn ort_lib(root: &Path) -> Result<String> {
    let text = std::fs::read_to_string(root.join(ENV_SH))
        .map_err(|e| Failure::Message(format!("cannot read {ENV_SH}: {e}")))?;
    text.lines()
        .find_map(|l| l.strip_prefix("ORT_LIB="))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && !v.contains(['$', '"', '\'', ' ']))
        .map_or_else(
            || fail(format!("{ENV_SH} has no plain ORT_LIB=path line")),
            Ok,
        )
}

fn shown(c: &Command) -> String {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains([' ', '\'', '"']) {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn run(c: &mut Command) -> Result {
    let what = shown(c);
    eprintln!("xtask: {what}");
    let status = c
        .status()
        .map_err(|e| Failure::Message(format!("cannot run `{what}`: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Status(what, status.code().unwrap_or(1)))
    }
}

fn heading(s: &str) {
    eprintln!("\n== {s}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Repo::open().and_then(|repo| task(&repo, cli.task));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            let code = match e {
                Failure::Status(_, code) => code.clamp(1, 255),
                Failure::Message(_) => 1,
            };
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}

fn task(repo: &Repo, task: Task) -> Result {
    match task {
        Task::Setup {
            parts,
            with_u2net,
            no_build,
        } => {
            let mut args: Vec<String> = parts.iter().map(value_name).collect();
            if with_u2net {
                args.push("--with-u2net".into());
            }
            if no_build {
                args.push("--no-build".into());
            }
            // set-up's own output is the point here: keep it on stdout
            run(repo.cmd("bash").arg("scripts/setup.sh").args(&args))
        }
        Task::App => app(repo),
        Task::Demo { args } => {
            repo.setup(&["core"])?;
            demo(repo, args)
        }
        Task::Bench { args } => {
            repo.setup(&["core"])?;
            bench(repo, args)
        }
        Task::BenchScan { json } => bench_scan(repo, json.as_deref()),
        Task::MakeQueries { force, sets } => {
            repo.setup(&["core", "bench"])?;
            make_queries(repo, force, &sets)
        }
        Task::Eval { sets } => {
            repo.setup(&["core", "bench"])?;
            eval(repo, &sets)
        }
        Task::Race { args } => {
            repo.setup(&["core", "bench"])?;
            race(repo, args)
        }
        Task::Report => report(repo),
        Task::Test => test(repo),
        Task::TestUi => {
            repo.setup(&["core", "app"])?;
            run(repo.cmd("npm").args(["run", "test:ui"]))
        }
        Task::Contract => {
            // the app's build script needs core's bundle resources (runtime, demo catalog); it
            // embeds ui/dist, which needs this very file to build: no UI build here
            repo.setup(&["core"])?;
            repo.setup(&["app", "--no-build"])?;
            std::fs::create_dir_all(repo.root.join("ui/dist"))
                .or_else(|e| fail(format!("creating ui/dist: {e}")))?;
            let mut c = repo.cmd("cargo");
            c.args(["test", "-p", "lookalike-app", "--test", "contract"]);
            run(c.env("LOOKALIKE_WRITE_CONTRACT", "1"))
        }
        Task::TestDesktop => {
            repo.setup(&["core", "app"])?;
            run(repo.cmd("bash").arg("scripts/test-desktop.sh"))
        }
        Task::CheckAndroid => {
            repo.setup(&["core", "app"])?;
            run(repo.cmd("bash").arg("scripts/check-android.sh"))
        }
        Task::CheckArm64 => {
            repo.setup(&["core"])?;
            run(repo.cmd("bash").arg("scripts/check-arm64.sh"))
        }
        Task::BenchPhone => {
            repo.setup(&["core"])?;
            run(repo.cmd("bash").arg("scripts/bench-phone.sh"))
        }
        Task::BenchScale => {
            repo.setup(&["core", "bench"])?;
            run(repo.cmd("bash").arg("scripts/bench-scale.sh"))
        }
        Task::Soak => {
            repo.setup(&["core"])?;
            run(repo.cmd("bash").arg("scripts/soak.sh"))
        }
        Task::Memcheck => {
            repo.setup(&["core"])?;
            run(repo.cmd("bash").arg("scripts/memcheck.sh"))
        }
        Task::Fuzz { targets } => fuzz(repo, &targets),
        Task::ExportFullRandom { args } => export_full_random(repo, args),
    }
}

fn app(repo: &Repo) -> Result {
    repo.setup(&["core", "app"])?;
    // the first build takes several minutes; later runs start in seconds
    run(repo
        .cmd("npm")
        .args(["run", "tauri", "--", "build", "--no-bundle"]))?;
    let mut c = repo.cmd(repo.root.join("target/release/lookalike-app"));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        eprintln!("xtask: {}", shown(&c));
        let e = c.exec();
        fail(format!("cannot start the app: {e}"))
    }
    #[cfg(not(unix))]
    run(&mut c)
}

fn demo(repo: &Repo, mut args: Vec<OsString>) -> Result {
    if args.is_empty() {
        // other views of demo products (not in the catalog) and a photo the catalog does not hold
        args = [
            ".cache/demo-sources/queries/saleor-code-division-t-shirt--view2.png",
            ".cache/demo-sources/queries/saleor-yellow-plimsolls--view2.png",
            "tests/fixtures/coffee.png",
        ]
        .map(OsString::from)
        .to_vec();
    }
    run(repo
        .cli()?
        .args(["search", "--catalog", "catalog/demo"])
        .args(args))
}

/// The standard benchmark photos: `bench_photos` of scripts/env.sh (bench/race.py uses it too).
fn bench_photos(repo: &Repo) -> Result<Vec<String>> {
    let out = repo
        .cmd("bash")
        .args(["-c", ". scripts/env.sh && bench_photos"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure::Message(format!("cannot run bash: {e}")))?;
    let photos: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if photos.is_empty() {
        return fail(
            "no photos in .cache/demo-sources/images: run `bash scripts/setup.sh core` first",
        );
    }
    Ok(photos)
}

fn bench(repo: &Repo, args: Vec<OsString>) -> Result {
    let photos = bench_photos(repo)?;
    eprintln!("machine: {}", machine());
    let mut c = repo.cli()?;
    c.args(["bench", "--catalog", "catalog/demo"]);
    // 10 runs unless ARGS say otherwise (the CLI refuses a second --runs)
    let runs_given = args.iter().any(|a| {
        a.to_str()
            .is_some_and(|a| a == "--runs" || a.starts_with("--runs="))
    });
    if !runs_given {
        c.args(["--runs", "10"]);
    }
    run(c.args(args).args(photos))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}

fn bench_scan(repo: &Repo, json: Option<&Path>) -> Result {
    let mut c = repo.cmd("cargo");
    c.args(["bench", "-p", "lookalike-engine", "--bench", "scan", "--"])
        .args(["--warm-up-time", "2", "--measurement-time", "6"])
        .stdout(Stdio::from(std::io::stderr()));
    run(&mut c)?;
    let mut c = repo.cmd("python3");
    c.arg("bench/scan_report.py");
    if let Some(out) = json {
        c.arg("--json").arg(out);
    }
    run(&mut c)
}

fn or_all(sets: &[QuerySet]) -> &[QuerySet] {
    if sets.is_empty() { &ALL_SETS } else { sets }
}

fn make_queries(repo: &Repo, force: bool, sets: &[QuerySet]) -> Result {
    let t0 = Instant::now();
    for set in or_all(sets) {
        let mut c = repo.bench_python();
        c.arg(format!("bench/queries/{}.py", value_name(set)));
        if force {
            c.arg("--force");
        }
        // the generators' progress is not the eval's output
        c.stdout(Stdio::from(std::io::stderr()));
        run(&mut c)?;
    }
    eprintln!("make-queries: done in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// `"catalog"` of a query set's about.json (a flat string value; no JSON parser needed).
fn set_catalog(about: &Path) -> Result<String> {
    let text = std::fs::read_to_string(about)
        .map_err(|e| Failure::Message(format!("cannot read {}: {e}", about.display())))?;
    let rest = text
        .split_once("\"catalog\"")
        .and_then(|(_, r)| r.trim_start().strip_prefix(':'))
        .and_then(|r| r.trim_start().strip_prefix('"'))
        .and_then(|r| r.split_once('"'))
        .map(|(v, _)| v.to_owned());
    rest.map_or_else(
        || fail(format!("{}: no \"catalog\" string", about.display())),
        Ok,
    )
}

fn eval(repo: &Repo, sets: &[QuerySet]) -> Result {
    let sets = or_all(sets);
    make_queries(repo, false, sets)?;
    std::fs::create_dir_all("bench/results")
        .map_err(|e| Failure::Message(format!("cannot create bench/results: {e}")))?;
    let mut cli = repo.cli()?;
    cli.arg("eval");
    for &set in sets.iter().filter(|s| **s != QuerySet::Outside) {
        let dir = PathBuf::from(format!(".cache/queries/{}", value_name(&set)));
        let catalog = set_catalog(&dir.join("about.json"))?;
        cli.args(["--catalog", &catalog, "--queries"])
            .arg(dir.join("queries.csv"));
    }
    if sets.contains(&QuerySet::Outside) {
        cli.arg("--outside")
            .arg(".cache/queries/outside/queries.csv");
    }
    run(cli.args(["--tune", "--out", "bench/results/eval.json"]))
}

fn race(repo: &Repo, args: Vec<OsString>) -> Result {
    run(repo.bench_python().arg("bench/race.py").args(args))
}

fn report(repo: &Repo) -> Result {
    repo.setup(&["core", "bench"])?;
    std::fs::create_dir_all("bench/results")
        .map_err(|e| Failure::Message(format!("cannot create bench/results: {e}")))?;
    heading("race (bench/results/race.json)");
    race(
        repo,
        vec!["--json".into(), "bench/results/race.json".into()],
    )?;
    heading("retrieval scan (bench/results/scan.json)");
    bench_scan(repo, Some(Path::new("bench/results/scan.json")))?;
    heading("quality (bench/results/eval.json)");
    eval(repo, &ALL_SETS)?;
    heading("README tables");
    run(repo.cmd("python3").arg("bench/render_readme.py"))
}

fn test(repo: &Repo) -> Result {
    heading("set-up (idempotent): core + app");
    repo.setup(&["core", "app"])?;

    heading("shell syntax of scripts/*.sh");
    let mut scripts = files_in("scripts", "sh")?;
    scripts.sort();
    for s in &scripts {
        run(repo.cmd("bash").arg("-n").arg(s))?;
    }

    heading(&format!("ONNX Runtime file name in step with {ENV_SH}"));
    ort_literals(repo)?;

    heading("format");
    run(repo.cmd("cargo").args(["fmt", "--all", "--", "--check"]))?;

    heading("clippy");
    run(repo.cmd("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    // the workspace build turns on every engine feature (the CLI wants them); the phone app
    // ships the engine without `index` and `text`, so that build is linted on its own, and must
    // not link the tokenizers (the desktop app takes words in the full profile: it does)
    heading("clippy: the engine as the phone app ships it (no index, no text)");
    run(repo.cmd("cargo").args([
        "clippy",
        "-p",
        "lookalike-engine",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    heading("the phone app links no tokenizers");
    let tree = repo
        .cmd("cargo")
        .args([
            "tree",
            "-p",
            "lookalike-app",
            "--target",
            "aarch64-linux-android",
            "-e",
            "normal",
            "-i",
            "tokenizers",
        ])
        .output()
        .or_else(|e| fail(format!("cargo tree: {e}")))?;
    let inverse = String::from_utf8_lossy(&tree.stdout);
    if !inverse.trim().is_empty() {
        return fail(format!(
            "the Android build of lookalike-app depends on tokenizers again:\n{inverse}"
        ));
    }
    eprintln!(
        "ok: `cargo tree -p lookalike-app --target aarch64-linux-android -i tokenizers` is empty"
    );

    heading("python syntax of the committed tools");
    let mut py = Vec::new();
    for dir in [
        "scripts",
        "catalog/recipe",
        "models/export",
        "models/generated",
        "bench",
        "bench/reference",
        "bench/queries",
        "tests/bad-inputs",
    ] {
        py.extend(files_in(dir, "py")?);
    }
    py.sort();
    run(repo.cmd("python3").args(["-m", "py_compile"]).args(&py))?;

    heading("cargo test");
    run(repo.cmd("cargo").args(["test", "--workspace"]))?;

    heading("UI tests (headless Chromium, Tauri IPC mocked)");
    run(repo.cmd("npm").args(["run", "test:ui"]))?;

    heading("desktop end to end (the real app under Xvfb, tauri-driver)");
    run(repo.cmd("bash").arg("scripts/test-desktop.sh"))?;

    heading(
        "Android cross-check (cargo check --target aarch64-linux-android; skipped if the target is unavailable)",
    );
    run(repo.cmd("bash").arg("scripts/check-android.sh"))
}

/// The files `DIR/*.EXT` (not recursive).
fn files_in(dir: &str, ext: &str) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Failure::Message(format!("cannot list {dir}: {e}")))?;
    Ok(entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension() == Some(OsStr::new(ext)))
        .collect())
}

/// The places that must still spell out ONNX Runtime's versioned file name (JSON bundle
/// resources, the app's resource lookup, the pinned download): each must name ORT_LIB's file.
/// A place that no longer names any versioned file is fine.
const ORT_LITERAL_FILES: [&str; 6] = [
    "tauri.conf.json",
    "src-tauri/tauri.android.conf.json",
    "src-tauri/src/state.rs",
    "scripts/checksums.toml",
    "ui/mock/record.mjs",
    "ui/README.md",
];

fn ort_literals(repo: &Repo) -> Result {
    let lib = ort_lib(&repo.root)?;
    let want = Path::new(&lib)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut wrong = Vec::new();
    for file in ORT_LITERAL_FILES {
        let Ok(text) = std::fs::read_to_string(repo.root.join(file)) else {
            continue;
        };
        for (line, found) in versioned_ort_names(&text) {
            if found != want {
                wrong.push(format!("  {file}:{line}: {found}"));
            }
        }
    }
    if wrong.is_empty() {
        eprintln!("ok: every versioned mention is {want} ({ENV_SH}: ORT_LIB={lib})");
        Ok(())
    } else {
        fail(format!(
            "these name another ONNX Runtime library than ORT_LIB={lib} ({ENV_SH}):\n{}",
            wrong.join("\n")
        ))
    }
}

/// Every `libonnxruntime.so.<version>` in `text`, with its 1-based line number.
fn versioned_ort_names(text: &str) -> Vec<(usize, String)> {
    const STEM: &str = "libonnxruntime.so.";
    let mut names = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find(STEM) {
            let after = &rest[i + STEM.len()..];
            let len = after
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(after.len());
            let version = after[..len].trim_end_matches('.');
            if !version.is_empty() {
                names.push((n + 1, format!("{STEM}{version}")));
            }
            rest = &after[len..];
        }
    }
    names
}

fn fuzz(repo: &Repo, targets: &[FuzzTarget]) -> Result {
    // the search target runs real searches: it needs the models, ONNX Runtime and catalog/demo
    if targets.is_empty() || targets.contains(&FuzzTarget::Search) {
        repo.setup(&["core"])?;
    }
    run(repo
        .cmd("bash")
        .arg("scripts/fuzz.sh")
        .args(targets.iter().map(value_name)))
}

fn export_full_random(repo: &Repo, args: Vec<OsString>) -> Result {
    // the export calibrates INT8 on the real demo photos; it needs no CLI
    repo.setup(&["core", "--no-build"])?;
    let own_out = args.iter().any(|a| {
        a.to_str()
            .is_some_and(|a| a == "--out" || a.starts_with("--out="))
    });
    run(repo
        .cmd("bash")
        .arg("scripts/export-full-random.sh")
        .args(args))?;
    if own_out {
        eprintln!(
            "xtask: --out given: run `python3 scripts/random_init_models.py` yourself for models/random-init/"
        );
        return Ok(());
    }
    run(repo.cmd("python3").arg("scripts/random_init_models.py"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Task {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .task
    }

    #[test]
    fn options_of_the_command_underneath_pass_through() {
        let Task::Demo { args } = parse(&["demo", "--json", "a.png"]) else {
            panic!("not demo")
        };
        assert_eq!(args, ["--json", "a.png"]);
        let Task::Race { args } = parse(&["race", "--", "--check", "--json", "x"]) else {
            panic!("not race")
        };
        assert_eq!(args, ["--check", "--json", "x"]);
        let Task::Bench { args } = parse(&["bench"]) else {
            panic!("not bench")
        };
        assert!(args.is_empty());
    }

    #[test]
    fn setup_parts_and_sets_are_checked() {
        let Task::Setup {
            parts, no_build, ..
        } = parse(&["setup", "core", "bench", "--no-build"])
        else {
            panic!("not setup")
        };
        assert!(parts == [Part::Core, Part::Bench] && no_build);
        assert!(Cli::try_parse_from(["cargo xtask", "setup", "cli"]).is_err());
        assert!(Cli::try_parse_from(["cargo xtask", "eval", "photos"]).is_err());
        assert!(Cli::try_parse_from(["cargo xtask", "fuzz", "search", "decode"]).is_ok());
        assert!(Cli::try_parse_from(["cargo xtask", "fuzz", "bundle"]).is_ok());
    }

    #[test]
    fn finds_versioned_ort_names() {
        let text = "a libonnxruntime.so.1.31.1\": \"models/runtime/libonnxruntime.so.1.31.1\"\n\
                    libonnxruntime.so (the link)\nlibonnxruntime.so.1.32.0.";
        assert_eq!(
            versioned_ort_names(text),
            [
                (1, "libonnxruntime.so.1.31.1".to_owned()),
                (1, "libonnxruntime.so.1.31.1".to_owned()),
                (3, "libonnxruntime.so.1.32.0".to_owned()),
            ]
        );
    }

    #[test]
    fn reads_the_catalog_of_a_query_set() {
        let dir = std::env::temp_dir().join(format!("xtask-about-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let about = dir.join("about.json");
        std::fs::write(
            &about,
            "{\n  \"format\": 1,\n  \"catalog\" : \"catalog/emoji\"\n}",
        )
        .unwrap();
        assert_eq!(set_catalog(&about).ok().as_deref(), Some("catalog/emoji"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The repository itself: env.sh's ORT_LIB parses, and the files that spell out the versioned
    /// name agree with it.
    #[test]
    fn the_repository_names_one_onnx_runtime() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let lib = ort_lib(root).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            lib.starts_with("models/runtime/libonnxruntime.so."),
            "{lib}"
        );
        let repo = Repo {
            root: root.to_path_buf(),
            ort_dylib: OsString::new(),
        };
        if let Err(e) = ort_literals(&repo) {
            panic!("{e}");
        }
    }
}
