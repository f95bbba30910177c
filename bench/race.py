#!/usr/bin/env python3
"""Race the Rust engine against the Python reference pipeline (bench/reference) and rembg.

    .cache/bench-venv/bin/python bench/race.py [--rounds 5] [--runs 5] [--json OUT]   # the race
    .cache/bench-venv/bin/python bench/race.py --check [--json OUT]                   # agreement only
    cargo xtask race -- [ARGS]           # set-up (core + bench, idempotent), then this script

--check runs `lookalike search --json` and the reference on the same photos (the 9 photos of
`cargo xtask bench` and the 14 multi-view queries of .cache/demo-sources/queries/) and compares the
route, the top-10 ids and every stage score.

The race runs alternating rounds. Each round: `lookalike bench --json --runs N` as one process
(one warm-up search per photo, then N timed passes over the photos), then the reference in this
process (a warm-up pass, then N timed passes), then rembg `remove(img, session=new_session("u2netp"))`
(a warm-up pass, then N timed passes) with U2NET_HOME pointing at models/u2netp.onnx.

Every side's p50 is the nearest-rank percentile (as crates/cli/src/bench.rs computes it) of its
samples pooled over all rounds; `lookalike bench --json` gives its raw samples as `samples_ms`
(an older CLI without them: the median over rounds of each round's p50, for every side alike). The
JSON keeps every raw sample and the per-round p50s.

Thread settings are left at each side's defaults (the point of the comparison) and printed.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import io
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from reference import STAGES, Reference  # noqa: E402
from reference.models import set_resample  # noqa: E402

CLI = ROOT / "target/release/lookalike"
CATALOG = "catalog/demo"
MODELS = "models"
QUERIES_DIR = ROOT / ".cache/demo-sources/queries"
REMBG_HOME = ROOT / ".cache/rembg-home"

# Why the two sides can differ at all (printed with --check).
DIFFERENCES = """\
Why scores are not bit-identical: the two sides run the same algorithm on the same model files and
catalog, but (1) JPEGs are decoded by libjpeg-turbo (Pillow) vs zune-jpeg (Rust `image`), which differ
by a level or two in some pixels (chroma upsampling, IDCT rounding); (2) resizing uses the same kernels
(bilinear, Lanczos3) in 8-bit fixed point with premultiplied alpha on both sides, but Pillow runs the
horizontal pass first and fast_image_resize (the engine) the vertical one, rounding in between, with
different coefficient precision; (3) float sums run in a different order (numpy/BLAS vs the engine's
SIMD dot product). These move the network inputs by a level here and there, so cosines move in the 3rd
decimal and a mask pixel on the 0.5 threshold can flip. Ids can swap only where two candidates'
blended scores are closer than that."""


# ---- helpers -------------------------------------------------------------------------------------


def bench_photos() -> list[str]:
    """The photos `cargo xtask bench` uses: `bench_photos` of scripts/env.sh, the one definition."""
    out = subprocess.run(
        ["bash", "-c", ". scripts/env.sh && bench_photos"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    if not out:
        sys.exit("no photos in .cache/demo-sources/images: run `bash scripts/setup.sh core` first")
    return out


def query_photos() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in QUERIES_DIR.glob("*.png"))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, as crates/cli/src/bench.rs `percentile`."""
    v = sorted(values)
    i = math.ceil(p / 100.0 * len(v))
    return v[min(max(i - 1, 0), len(v) - 1)]


def median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def ort_lib() -> str:
    """ORT_LIB of scripts/env.sh: where set-up leaves the ONNX Runtime library (a plain KEY=value line)."""
    for line in (ROOT / "scripts" / "env.sh").read_text().splitlines():
        if line.startswith("ORT_LIB="):
            return line.split("=", 1)[1].strip()
    sys.exit("scripts/env.sh has no ORT_LIB= line")


def cli_env() -> dict:
    env = dict(os.environ)
    # as `cargo xtask bench`: the caller's ORT_DYLIB_PATH, else ORT_LIB of scripts/env.sh
    env.setdefault("ORT_DYLIB_PATH", str(ROOT / ort_lib()))
    return env


def run_cli(args: list[str]) -> str:
    if not CLI.exists():
        sys.exit(f"{CLI} is missing: run `bash scripts/setup.sh core` first")
    p = subprocess.run([str(CLI), *args], cwd=ROOT, env=cli_env(), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"lookalike {' '.join(args[:2])} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def physical_cores() -> int:
    try:
        cores, cur = set(), {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if ":" in line:
                k, v = (s.strip() for s in line.split(":", 1))
                cur[k] = v
            elif cur:
                cores.add((cur.get("physical id"), cur.get("core id")))
                cur = {}
        if cur:
            cores.add((cur.get("physical id"), cur.get("core id")))
        return len(cores) if cores and (None, None) not in cores else os.cpu_count() or 1
    except OSError:
        return os.cpu_count() or 1


def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "physical_cores": physical_cores(),
        "cpu": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
    }


def thread_settings() -> dict:
    import numpy
    import onnxruntime as ort

    o = ort.SessionOptions()
    cores = os.cpu_count() or 1
    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    return {
        "lookalike": {
            # the versioned file name, also when ORT_DYLIB_PATH is the version-free link
            "onnxruntime": Path(cli_env()["ORT_DYLIB_PATH"]).resolve().name,
            # crates/engine/src/models/runtime.rs `RuntimeOptions::default()` and `LoadedModel::load`
            "intra_op_threads": min(cores, 4),
            "rule": "RuntimeOptions::default: intra_threads = min(available cores, 4); graph optimisation level 3; CPU arena on, memory patterns off; one process-wide intra-op pool shared by the sessions (crates/engine/src/models/runtime.rs)",
        },
        "reference": {
            "onnxruntime": ort.__version__,
            "numpy": numpy.__version__,
            "intra_op_num_threads": o.intra_op_num_threads,
            "inter_op_num_threads": o.inter_op_num_threads,
            "rule": f"ort.SessionOptions() defaults: 0 = ORT's choice (one thread per physical core: {physical_cores()} here); "
            f"{o.graph_optimization_level.name}; arena {o.enable_cpu_mem_arena}; {o.execution_mode.name}",
            "env": env,
        },
        "rembg": {
            "rule": "new_session('u2netp') with ort.SessionOptions() defaults; OMP_NUM_THREADS would set both thread counts"
            + (f" (set: {os.environ['OMP_NUM_THREADS']})" if "OMP_NUM_THREADS" in os.environ else " (not set)"),
        },
    }


# ---- agreement -----------------------------------------------------------------------------------


def compare(rust: dict, ref: dict) -> dict:
    rid = [r["id"] for r in rust["results"]]
    pid = [r["id"] for r in ref["results"]]
    by_id = {r["id"]: r for r in ref["results"]}
    diffs = {k: 0.0 for k in ("score", "semantic", "texture", "color")}
    for r in rust["results"]:
        p = by_id.get(r["id"])
        if p:
            for k in diffs:
                diffs[k] = max(diffs[k], abs(r[k] - p[k]))
    rcat = {c["name"]: c["score"] for c in rust["categories"]}
    cat_diff = max((abs(rcat[c["name"]] - c["score"]) for c in ref["categories"]), default=0.0)
    rb, pb = rust["segmentation"]["bbox"], ref["segmentation"]["bbox"]
    return {
        "query": rust["query"],
        "identical": rid == pid,
        "same_set": set(rid) == set(pid),
        "overlap": len(set(rid) & set(pid)),
        "top1_same": rid[:1] == pid[:1],
        "route_same": rust["route"]["searched"] == ref["route"]["searched"],
        "route": [rust["route"]["searched"], ref["route"]["searched"]],
        "max_diff": diffs,
        "category_score_diff": cat_diff,
        "segmentation_same": rust["segmentation"]["used"] == ref["segmentation"]["used"],
        "bbox_max_px": max(abs(a - b) for a, b in zip(rb, pb)),
        "foreground_diff": abs(rust["segmentation"]["foreground"] - ref["segmentation"]["foreground"]),
        "rust_top10": rid,
        "reference_top10": pid,
        # id -> (rust blended score, reference blended score); None where a side has no such hit
        "scores": {i: ({r["id"]: r["score"] for r in rust["results"]}.get(i), {r["id"]: r["score"] for r in ref["results"]}.get(i)) for i in set(rid) | set(pid)},
    }


def check_set(name: str, photos: list[str], ref: Reference, expected: dict | None = None) -> dict:
    rust = [json.loads(line) for line in run_cli(["search", "--json", "--catalog", CATALOG, *photos]).splitlines() if line.strip()]
    rows = []
    for r in rust:
        p = ref.search((ROOT / r["query"]).read_bytes())
        c = compare(r, p)
        if expected:
            want = expected.get(Path(r["query"]).name)
            c["expected"] = want
            c["rust_hit_rank"] = next((x["rank"] for x in r["results"] if x["id"] == want), None)
            c["reference_hit_rank"] = next((x["rank"] for x in p["results"] if x["id"] == want), None)
        rows.append(c)
    n = len(rows)
    summary = {
        "set": name,
        "images": n,
        "top10_identical": sum(c["identical"] for c in rows),
        "top10_same_set": sum(c["same_set"] for c in rows),
        "top1_same": sum(c["top1_same"] for c in rows),
        "route_same": sum(c["route_same"] for c in rows),
        "mean_overlap": sum(c["overlap"] for c in rows) / max(n, 1),
        "max_score_diff": {k: max((c["max_diff"][k] for c in rows), default=0.0) for k in ("score", "semantic", "texture", "color")},
        "max_category_score_diff": max((c["category_score_diff"] for c in rows), default=0.0),
        "max_bbox_px": max((c["bbox_max_px"] for c in rows), default=0),
        "rows": rows,
    }
    print(f"\n### {name} ({n} images)\n")
    print("| image | route same | top-1 same | top-10 | max abs diff score / sem / tex / col | bbox px |"
          + (" expected rank rust / ref |" if expected else ""))
    print("|---|---|---|---|---|---|" + ("---|" if expected else ""))
    for c in rows:
        d = c["max_diff"]
        top10 = "identical" if c["identical"] else ("same set, reordered" if c["same_set"] else f"{c['overlap']}/10 shared")
        line = (f"| {Path(c['query']).name} | {'yes' if c['route_same'] else 'NO ' + str(c['route'])} | "
                f"{'yes' if c['top1_same'] else 'NO'} | {top10} | "
                f"{d['score']:.4f} / {d['semantic']:.4f} / {d['texture']:.4f} / {d['color']:.4f} | {c['bbox_max_px']} |")
        if expected:
            line += f" {c['rust_hit_rank'] or '-'} / {c['reference_hit_rank'] or '-'} |"
        print(line)
    m = summary["max_score_diff"]
    print(f"\n{name}: top-10 identical on {summary['top10_identical']}/{n} images "
          f"(same set on {summary['top10_same_set']}/{n}, top-1 same on {summary['top1_same']}/{n}, "
          f"route same on {summary['route_same']}/{n}); max |score diff| = {m['score']:.4f} "
          f"(semantic {m['semantic']:.4f}, texture {m['texture']:.4f}, colour {m['color']:.4f}; "
          f"category shares {summary['max_category_score_diff']:.4f}); crop boxes within {summary['max_bbox_px']} px")
    for c in rows:
        if not c["identical"]:
            print(f"  {Path(c['query']).name}: where the order differs, blended scores (rust / reference):")
            for i, (a, b) in enumerate(zip(c["rust_top10"], c["reference_top10"])):
                if a != b:
                    ra, pa = c["scores"].get(a, (None, None))
                    print(f"    rank {i + 1}: rust {a} ({_f(ra)} / {_f(pa)}), reference {b} ({_f(c['scores'].get(b, (None, None))[0])} / {_f(c['scores'].get(b, (None, None))[1])})")
    return summary


def _f(x) -> str:
    return "-" if x is None else f"{x:.4f}"


def run_check(ref: Reference) -> dict:
    out = {"sets": []}
    out["sets"].append(check_set("cargo xtask bench photos", bench_photos(), ref))
    queries = query_photos()
    if queries:
        meta = json.loads((ROOT / ".cache/demo-sources/queries.json").read_text())
        expected = {q["image"]: q["product"] for q in meta["queries"]}
        out["sets"].append(check_set("multi-view queries (.cache/demo-sources/queries)", queries, ref, expected))
    print("\n" + DIFFERENCES)
    return out


# ---- rembg ---------------------------------------------------------------------------------------


def rembg_session():
    """rembg's u2netp session on models/u2netp.onnx, never touching the network."""
    src = ROOT / MODELS / "u2netp.onnx"
    if not src.is_file():
        sys.exit(f"{src} is missing: run `bash scripts/setup.sh core` first")
    REMBG_HOME.mkdir(parents=True, exist_ok=True)
    link = REMBG_HOME / "u2netp.onnx"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(src.resolve())
    os.environ["U2NET_HOME"] = str(REMBG_HOME)

    import pooch
    from rembg import new_session
    from rembg.sessions.u2netp import U2netpSession

    def no_download(*args, **kwargs):
        raise RuntimeError(f"rembg tried to download a model ({args[:1]}): U2NET_HOME={REMBG_HOME} must hold u2netp.onnx")

    pooch.retrieve = no_download  # fail loudly instead of fetching
    # the official md5 is the one rembg would verify a download against (read from rembg's own code)
    m = re.search(r"md5:([0-9a-f]{32})", inspect.getsource(U2netpSession.download_models))
    official = m.group(1) if m else None
    actual = hashlib.md5(src.read_bytes()).hexdigest()
    if official and actual != official:
        sys.exit(f"models/u2netp.onnx md5 {actual} is not rembg's official u2netp md5 {official}")
    session = new_session("u2netp")
    used = Path(session.inner_session._model_path).resolve()
    if used != src.resolve():
        sys.exit(f"rembg loaded {used}, not {src}")
    import rembg

    return session, {"rembg": getattr(rembg, "__version__", "?"), "model": str(link), "md5": actual, "official_md5": official}


# ---- race ----------------------------------------------------------------------------------------


def time_reference(ref: Reference, inputs: list[bytes], runs: int) -> list[dict]:
    for b in inputs:  # warm-up, discarded
        ref.search(b)
    return [ref.search(b)["timings_ms"] for _ in range(runs) for b in inputs]


def time_rembg(session, images, runs: int) -> list[float]:
    from rembg import remove

    for im in images:  # warm-up
        remove(im, session=session)
    samples = []
    for _ in range(runs):
        for im in images:
            s = time.perf_counter()
            remove(im, session=session)
            samples.append((time.perf_counter() - s) * 1000.0)
    return samples


def run_race(ref: Reference, rounds: int, runs: int, skip_rembg: bool) -> dict:
    from PIL import Image

    photos = bench_photos()
    inputs = [(ROOT / p).read_bytes() for p in photos]
    print(f"race: {len(photos)} photos (cargo xtask bench's), {rounds} rounds x {runs} runs per side", file=sys.stderr)
    rust_rounds, ref_samples, rembg_samples, ref_rss = [], [], [], None
    session, rembg_info, pil_images = None, None, None
    for i in range(rounds):
        t0 = time.perf_counter()
        rust_rounds.append(json.loads(run_cli(["bench", "--json", "--runs", str(runs), "--catalog", CATALOG, *photos])))
        t1 = time.perf_counter()
        ref_samples.append(time_reference(ref, inputs, runs))
        t2 = time.perf_counter()
        if ref_rss is None:  # before rembg is imported: the reference process alone
            ref_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        if not skip_rembg:
            if session is None:
                session, rembg_info = rembg_session()
                # rembg gets the photo already decoded (a PIL image): its time has no decode in it
                pil_images = []
                for b in inputs:
                    im = Image.open(io.BytesIO(b))
                    im.load()
                    pil_images.append(im)
            rembg_samples.append(time_rembg(session, pil_images, runs))
        t3 = time.perf_counter()
        print(f"  round {i + 1}/{rounds}: lookalike {t1 - t0:.1f} s, reference {t2 - t1:.1f} s, rembg {t3 - t2:.1f} s, "
              f"load {os.getloadavg()[0]:.2f}", file=sys.stderr)

    # `lookalike bench --json` carries its raw samples (`samples_ms`) since b84f193: pool every side's
    # samples over all rounds; with an older CLI fall back to the median of the rounds' p50s.
    pooled_rust = all("samples_ms" in r for r in rust_rounds)
    statistic = (
        "nearest-rank p50 of all rounds' samples pooled (photos x runs x rounds per side)"
        if pooled_rust
        else "median over rounds of each round's nearest-rank p50 (this lookalike bench --json has no raw samples)"
    )
    rows = []
    for st in STAGES:
        rust_p50s = [r["stages_ms"][st]["p50"] for r in rust_rounds]
        ref_p50s = [percentile([s[st] for s in rnd], 50) for rnd in ref_samples]
        ref_pooled = [s[st] for rnd in ref_samples for s in rnd]
        row = {
            "stage": st,
            "lookalike_round_p50s": rust_p50s,
            "reference_round_p50s": ref_p50s,
            "reference_pooled_p50_ms": percentile(ref_pooled, 50),
            "reference_pooled_p95_ms": percentile(ref_pooled, 95),
        }
        if pooled_rust:
            rust_pooled = [s[st] for r in rust_rounds for s in r["samples_ms"]]
            row["lookalike_pooled_p50_ms"] = percentile(rust_pooled, 50)
            row["lookalike_pooled_p95_ms"] = percentile(rust_pooled, 95)
            row["lookalike_p50_ms"], row["reference_p50_ms"] = row["lookalike_pooled_p50_ms"], row["reference_pooled_p50_ms"]
        else:
            row["lookalike_p50_ms"], row["reference_p50_ms"] = median(rust_p50s), median(ref_p50s)
        rows.append(row)
    result = {
        "photos": photos,
        "rounds": rounds,
        "runs": runs,
        "statistic": statistic,
        "stages": rows,
        "lookalike_rounds": rust_rounds,
        "reference_samples": ref_samples,
        "reference_peak_rss_mib": ref_rss,
    }
    if rembg_samples:
        r50s = [percentile(s, 50) for s in rembg_samples]
        pooled = percentile([x for s in rembg_samples for x in s], 50)
        result["rembg"] = {
            **rembg_info,
            "input": "PIL image decoded before timing (rembg's time has no decode; Lookalike's total has)",
            "p50_ms": pooled if pooled_rust else median(r50s),
            "round_p50s": r50s,
            "pooled_p50_ms": pooled,
            "samples": rembg_samples,
        }
    return result


def print_race(res: dict, info: dict) -> None:
    m, th = info["machine"], info["threads"]
    print(f"\nMachine: {m['nproc']} cores ({m['physical_cores']} physical), {m['cpu']}; load average at start "
          f"{' '.join(f'{x:.2f}' for x in m['loadavg_start'])}, at end {' '.join(f'{x:.2f}' for x in m['loadavg_end'])}")
    print(f"Photos: {len(res['photos'])} (cargo xtask bench), {res['rounds']} alternating rounds x {res['runs']} runs per photo per side; "
          f"p50 = {res['statistic']}.")
    print(f"Threads: Lookalike {th['lookalike']['onnxruntime']}, intra-op {th['lookalike']['intra_op_threads']} ({th['lookalike']['rule']}). "
          f"Reference onnxruntime {th['reference']['onnxruntime']}: {th['reference']['rule']}. rembg: {th['rembg']['rule']}.\n")
    print("| stage | Lookalike p50 ms | reference p50 ms | ratio (Lookalike / reference) |")
    print("|---|---|---|---|")
    for r in res["stages"]:
        a, b = r["lookalike_p50_ms"], r["reference_p50_ms"]
        ratio = f"{a / b:.2f}" if b > 0.005 else "-"
        name = f"**{r['stage']}**" if r["stage"] == "total" else r["stage"]
        print(f"| {name} | {a:.2f} | {b:.2f} | {ratio} |")
    total = res["stages"][-1]
    lk, rf = total["lookalike_p50_ms"], total["reference_p50_ms"]
    if "rembg" in res:
        rb = res["rembg"]["p50_ms"]
        print(f"| rembg `remove(img, session=new_session(\"u2netp\"))`, p50 in the reference column | - | {rb:.2f} | - |")
        print(f"| **Lookalike total / rembg remove()** | {lk:.2f} | {rb:.2f} | **{lk / rb:.2f}** |")
    print()
    print(f"Targets (issue #6): Lookalike total / rembg <= 1.0: "
          + (f"{lk / res['rembg']['p50_ms']:.2f} {'met' if lk <= res['rembg']['p50_ms'] else 'NOT met'}" if "rembg" in res else "rembg skipped")
          + f"; Lookalike total / reference total <= 0.7: {lk / rf:.2f} {'met' if lk <= 0.7 * rf else 'NOT met'}.")
    rss = res["lookalike_rounds"][0].get("peak_rss_mib")
    print(f"Peak RSS: Lookalike bench process {rss:.0f} MiB; reference process (Python + ORT, before rembg loads) "
          f"{res['reference_peak_rss_mib']:.0f} MiB." if rss else "")
    if "rembg" in res:
        print("rembg gets each photo already decoded (a PIL image), so its time has no decode; Lookalike's total includes decode.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="agreement check only (no race)")
    ap.add_argument("--exact-resize", action="store_true",
                    help="with --check: resample with a transcription of the engine's resampler (fast_image_resize) instead of Pillow (diagnostic: isolates JPEG decoding)")
    ap.add_argument("--no-check", action="store_true", help="race without the short agreement check on the race photos first")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5, help="timed passes over the photos per side per round")
    ap.add_argument("--skip-rembg", action="store_true")
    ap.add_argument("--json", metavar="OUT", help="write everything (settings, samples, results) here")
    args = ap.parse_args()
    if args.rounds < 1 or args.runs < 1:
        ap.error("--rounds and --runs must be at least 1")
    if args.exact_resize and not args.check:
        ap.error("--exact-resize is a diagnostic for --check; the race times the plain Pillow path")
    os.chdir(ROOT)

    info = {"machine": machine(), "threads": thread_settings()}
    if args.exact_resize:
        set_resample("exact")
        print("resampling: numpy transcription of the engine's fast_image_resize convolution (diagnostic), not Pillow")
    info["resample"] = "exact" if args.exact_resize else "pillow"
    ref = Reference(MODELS, CATALOG)
    if args.check:
        info["check"] = run_check(ref)
    else:
        if not args.no_check:
            s = check_set("agreement on the race photos", bench_photos(), ref)
            info["check"] = {"sets": [s]}
        info["race"] = run_race(ref, args.rounds, args.runs, args.skip_rembg)
        info["machine"]["loadavg_end"] = os.getloadavg()
        print_race(info["race"], info)
    info["machine"].setdefault("loadavg_end", os.getloadavg())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(info, indent=1, default=float))
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
