"""Reads criterion's results for the `scan` bench (crates/engine/benches/scan.rs) and prints the
retrieval-scan table: median time, GB/s of matrix read, and the share of this machine's memory
read bandwidth (the `memory_read` group, all cores). Writes the same as JSON with --json OUT.

Run by `cargo xtask bench-scan` after `cargo bench --bench scan`.
"""
import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRITERION = ROOT / "target" / "criterion"


def read(group: str, function: str, value: str) -> dict | None:
    d = CRITERION / group / function / value / "new"
    try:
        est = json.loads((d / "estimates.json").read_text())
        meta = json.loads((d / "benchmark.json").read_text())
    except FileNotFoundError:
        return None
    ns = est["median"]["point_estimate"]
    nbytes = meta["throughput"]["Bytes"]
    return {"median_ms": ns / 1e6, "bytes": nbytes, "gb_per_s": nbytes / ns}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the table as JSON here")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    bw_all = read("memory_read", "threads", str(cores))
    bw_one = read("memory_read", "threads", "1")
    if bw_all is None:
        sys.exit("no memory_read results: run `cargo bench -p lookalike-engine --bench scan` first")
    rows = []
    for n in ["1000", "10000", "100000", "1000000"]:
        for fn in ["single", "batch8"]:
            r = read("scan_top50", fn, n)
            if r is None:
                continue
            queries = 8 if fn == "batch8" else 1
            rows.append({
                "rows": int(n), "dims": 768, "queries": queries, **r,
                "ms_per_query": r["median_ms"] / queries,
                "share_of_bandwidth": r["gb_per_s"] / bw_all["gb_per_s"],
            })
    report = {
        "machine": {"cores": cores, "cpu": cpu_model()},
        "command": "cargo xtask bench-scan",
        "memory_read_gb_per_s": {"all_cores": bw_all["gb_per_s"], "one_core": bw_one and bw_one["gb_per_s"]},
        "rows": rows,
    }
    print(f"machine: {cores} cores, {report['machine']['cpu']}")
    print(f"memory read bandwidth (1M x 768 f32 = 3.07 GB, summed by {cores} threads): "
          f"{bw_all['gb_per_s']:.2f} GB/s; one core {bw_one['gb_per_s']:.2f} GB/s" if bw_one else "")
    print(f"{'rows':>9} {'queries':>7} {'ms/scan':>9} {'ms/query':>9} {'GB/s':>7} {'of bandwidth':>13}")
    for r in rows:
        print(f"{r['rows']:>9} {r['queries']:>7} {r['median_ms']:>9.3f} {r['ms_per_query']:>9.3f} "
              f"{r['gb_per_s']:>7.2f} {100 * r['share_of_bandwidth']:>12.0f}%")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
