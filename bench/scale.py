"""FAISS (exact, IVF, HNSW) and USearch (HNSW) on the vectors `lookalike bench-scale` wrote: the same rows, the same queries,
recall@k against the engine's exact scan (truth.json), on the same cores.

Per index: build seconds, resident memory it added, p50 of single queries and of batches of 8, and
recall@k; the HNSW indexes once per search expansion (efSearch), so they can be compared with each
other at equal recall. Run by `cargo xtask bench-scale`; alone:

    .cache/bench-venv/bin/python bench/scale.py --dir .cache/scale/1000000x768 --json out.json
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HEADER = 24  # crates/engine/src/catalog/format.rs: magic, version, rows, dims, reserved
MAGIC = b"LKLKVEC\0"
BATCH = 8


def read_matrix(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        head = f.read(HEADER)
    if head[:8] != MAGIC:
        sys.exit(f"{path}: not a Lookalike matrix file")
    rows = int.from_bytes(head[12:16], "little")
    dims = int.from_bytes(head[16:20], "little")
    return np.memmap(path, dtype="<f4", mode="r", offset=HEADER, shape=(rows, dims))


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def recall(found: np.ndarray, truth: list[list[int]]) -> float:
    hits = sum(len(set(map(int, f)) & set(t)) for f, t in zip(found, truth))
    return hits / sum(len(t) for t in truth)


def timed(search, queries: np.ndarray, k: int):
    """p50 of single queries, p50 of batches of 8, and the single-query answers."""
    search(queries[:1], k)  # untimed: first-touch page faults
    single, ids = [], []
    for i in range(len(queries)):
        t = time.perf_counter()
        ids.append(search(queries[i : i + 1], k)[0])
        single.append((time.perf_counter() - t) * 1e3)
    batch = []
    for i in range(0, len(queries) - BATCH + 1, BATCH):
        t = time.perf_counter()
        search(queries[i : i + BATCH], k)
        batch.append((time.perf_counter() - t) * 1e3)
    return statistics.median(single), statistics.median(batch), np.array(ids)


def row(name, build_s, mem_mib, p50_1, p50_8, rec, **extra):
    r = {
        "name": name,
        "build_s": build_s,
        "added_resident_mib": mem_mib,
        "p50_single_ms": p50_1,
        "p50_batch8_ms": p50_8,
        "recall_at_k": rec,
    }
    r.update(extra)
    mem = "" if mem_mib is None else f"{mem_mib:.0f}"
    print(
        f"{name:<34} {p50_1:>10.2f} {p50_8:>10.2f} {rec:>9.4f} {build_s:>9.1f} {mem:>9}",
        flush=True,
    )
    return r


def machine() -> dict:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = " ".join(line.split(":", 1)[1].split())
                break
    return {"cores": os.cpu_count(), "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--json", type=Path, help="write the combined table here")
    ap.add_argument("--lookalike", type=Path, help="`lookalike bench-scale --json` of this --dir")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--m", type=int, default=16, help="HNSW links per node (both libraries)")
    ap.add_argument("--ef-construction", type=int, default=64)
    ap.add_argument("--ef", default="16,64,256", help="search expansions to sweep")
    ap.add_argument("--probes", default="8,32,128", help="IVF lists probed, swept")
    ap.add_argument(
        "--only", default="faiss-flat,faiss-ivf,faiss-hnsw,usearch", help="which indexes to run"
    )
    args = ap.parse_args()

    import faiss
    import usearch
    from usearch.index import Index

    x = read_matrix(args.dir / "vectors.bin")
    q = np.ascontiguousarray(read_matrix(args.dir / "queries.bin"))
    truth_file = json.loads((args.dir / "truth.json").read_text())
    k, truth = truth_file["k"], truth_file["ids"][: len(q)]
    n, d = x.shape
    efs = [int(e) for e in args.ef.split(",")]
    probes = [int(p) for p in args.probes.split(",")]
    only = set(args.only.split(","))
    faiss.omp_set_num_threads(args.threads)
    print(
        f"{n} x {d}, {len(q)} queries, k {k}, {args.threads} threads; "
        f"faiss {faiss.__version__}, usearch {usearch.__version__}",
        flush=True,
    )
    print(
        f"{'index':<34} {'p50 1q ms':>10} {'p50 8q ms':>10} {'recall@k':>9} {'build s':>9} {'+RSS MiB':>9}",
        flush=True,
    )
    rows = []
    lookalike = json.loads(args.lookalike.read_text()) if args.lookalike else None
    if lookalike:
        if (lookalike["rows_count"], lookalike["dims"], lookalike["k"]) != (n, d, k):
            sys.exit(f"{args.lookalike} is of another data set than {args.dir}")
        for r in lookalike["results"]:
            rows.append(row(r["name"], r["build_s"], None, r["p50_single_ms"],
                            r["p50_batch8_ms"], r["recall_at_k"], open_ms=r["open_ms"]))

    if "faiss-flat" in only:
        base = rss_mib()
        t = time.perf_counter()
        index = faiss.IndexFlatIP(d)
        index.add(np.ascontiguousarray(x))
        build = time.perf_counter() - t
        mem = rss_mib() - base
        p1, p8, ids = timed(lambda qs, k: index.search(qs, k)[1], q, k)
        rows.append(row("faiss IndexFlatIP", build, mem, p1, p8, recall(ids, truth)))
        del index

    if "faiss-hnsw" in only:
        base = rss_mib()
        t = time.perf_counter()
        index = faiss.IndexHNSWFlat(d, args.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = args.ef_construction
        step = 100_000
        for i in range(0, n, step):
            index.add(np.ascontiguousarray(x[i : i + step]))
        build = time.perf_counter() - t
        mem = rss_mib() - base
        for ef in efs:
            index.hnsw.efSearch = max(ef, k)
            p1, p8, ids = timed(lambda qs, k: index.search(qs, k)[1], q, k)
            rows.append(
                row(f"faiss IndexHNSWFlat M{args.m} ef{ef}", build, mem, p1, p8,
                    recall(ids, truth), ef=ef, m=args.m)
            )
        del index

    if "faiss-ivf" in only:
        lists = max(1, -(-n // 1000))  # as `lookalike bench-scale`: one list per 1,000 rows
        base = rss_mib()
        t = time.perf_counter()
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.ascontiguousarray(x[:: max(1, n // (lists * 48))][: lists * 48])
        index.train(sample)
        for i in range(0, n, 100_000):
            index.add(np.ascontiguousarray(x[i : i + 100_000]))
        build = time.perf_counter() - t
        mem = rss_mib() - base
        for probe in probes:
            index.nprobe = probe
            p1, p8, ids = timed(lambda qs, k: index.search(qs, k)[1], q, k)
            rows.append(
                row(f"faiss IndexIVFFlat{lists} probe {probe}", build, mem, p1, p8,
                    recall(ids, truth), probe=probe, lists=lists)
            )
        del index, quantizer

    if "usearch" in only:
        base = rss_mib()
        t = time.perf_counter()
        index = Index(
            ndim=d,
            metric="ip",
            dtype="i8",
            connectivity=args.m,
            expansion_add=args.ef_construction,
        )
        step = 100_000
        keys = np.arange(n, dtype=np.uint64)
        for i in range(0, n, step):
            index.add(keys[i : i + step], np.ascontiguousarray(x[i : i + step]), threads=args.threads)
        build = time.perf_counter() - t
        mem = rss_mib() - base
        for ef in efs:
            index.expansion_search = max(ef, k)

            def search(qs, k):
                m = index.search(qs, k, threads=1 if len(qs) == 1 else args.threads)
                keys = m.keys if len(qs) > 1 else m.keys[None, :]
                return keys.astype(np.int64)

            p1, p8, ids = timed(search, q, k)
            rows.append(
                row(f"usearch HNSW i8 M{args.m} ef{ef}", build, mem, p1, p8,
                    recall(ids, truth), ef=ef, m=args.m, hardware=index.hardware_acceleration)
            )
        del index

    if args.json:
        out = {
            "command": "bench/scale.py",
            "rows_count": n,
            "dims": d,
            "queries": len(q),
            "k": k,
            "threads": args.threads,
            "faiss": faiss.__version__,
            "usearch": usearch.__version__,
            "ef_construction": args.ef_construction,
            "results": rows,
            "lookalike": lookalike,
            "machine": machine(),
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
