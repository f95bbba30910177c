"""Writes README's "Performance" and "Quality" tables from the result files that the benchmark
commands leave in bench/results/ (never from numbers typed by hand):

    race.json         cargo xtask race -- --json bench/results/race.json
    scan.json         cargo xtask bench-scan --json bench/results/scan.json
    eval.json         cargo xtask eval
    model-race.json   python3 bench/race_models.py (the lite model candidates, tune split)
    scale-*.json      cargo xtask bench-scale (Lookalike's retrievers beside FAISS and USearch)
    catalog-open-1000000.json   lookalike bench-scale --rows 1000000 --dims 768 --data clustered
                      --lists 0 --catalog-open --dir .cache/scale/1000000x768-clustered --json
                      (that file)
    before/eval-<set>.json   the pipeline before issue 13 (hard routing, the seed's blend), kept
                      as measured then, for the "before" row

The text between `<!-- performance:begin -->` / `<!-- performance:end -->` and
`<!-- quality:begin -->` / `<!-- quality:end -->` (and `<!-- model-race:begin -->` / `end`) is
replaced; everything else is left alone.
`cargo xtask report` runs all of the above, then this.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
STAGES = ["decode", "segment", "route", "embed", "retrieve", "texture", "color", "rerank", "total"]
SETS = {
    "photo": "photo-like copies of the demo catalog's own images (crop, rotation, perspective, "
             "lighting, colour cast, new background, blur, JPEG, downscale)",
    "multiview": "Saleor products: one view in the catalog, another view as the query",
    "emoji": "cross-style: a catalog of Google's emoji drawings, queried with Twitter, OpenMoji "
             "and Fluent drawings of the same objects",
}


def load(name: str) -> dict | None:
    p = RESULTS / name
    return json.loads(p.read_text()) if p.exists() else None


def f(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def performance() -> str:
    race, scan = load("race.json"), load("scan.json")
    out = []
    if race:
        m, r = race["machine"], race["race"]
        load_avg = " / ".join(f"{x:.1f}" for x in m.get("loadavg_start", [])[:1] + m.get("loadavg_end", [])[:1])
        rust_rss = max(x.get("peak_rss_mib") or 0 for x in r["lookalike_rounds"])
        lk_total = r["stages"][-1]["lookalike_p50_ms"]
        out += [
            f"**Search latency**, lite profile, `cargo xtask race -- --json bench/results/race.json` on "
            f"{m['nproc']} cores ({m['cpu']}), load average {load_avg} (start / end): the "
            f"{len(r['photos'])} product photos of `cargo xtask bench` (1600x1200 JPEG), {r['rounds']} "
            f"alternating rounds x {r['runs']} runs per side, p50 over all samples. Lookalike is "
            f"`lookalike bench`; the reference is `bench/reference` (the same stages the plain Python "
            f"way: onnxruntime with default options, Pillow, numpy) on the same model files and "
            f"catalog; rembg is `remove(img, session=new_session(\"u2netp\"))` on the decoded photo.",
            "",
            "| stage | Lookalike p50 ms | reference p50 ms | Lookalike / reference |",
            "|---|---|---|---|",
        ]
        for s in r["stages"]:
            a, b = s["lookalike_p50_ms"], s["reference_p50_ms"]
            ratio = f"{a / b:.2f}" if b and b > 0.05 else "-"
            name = f"**{s['stage']}**" if s["stage"] == "total" else s["stage"]
            out.append(f"| {name} | {f(a, 2)} | {f(b, 2)} | {ratio} |")
        rembg = r["rembg"].get("p50_ms") if isinstance(r.get("rembg"), dict) else None
        out += [
            f"| rembg `remove()` (background removal only, no decode) | | {f(rembg, 2)} | "
            f"Lookalike total / rembg: **{lk_total / rembg:.2f}** |" if rembg else "",
            "",
            f"Peak RSS of the Lookalike search process: **{rust_rss:.0f} MiB** (the reference's: "
            f"{f(r.get('reference_peak_rss_mib'), 0)} MiB). Model + catalog load: "
            f"{f(r['lookalike_rounds'][0].get('load_ms'), 0)} ms.",
            "",
        ]
    if scan:
        bw = scan["memory_read_gb_per_s"]
        out += [
            f"**Retrieval scan**, `cargo xtask bench-scan --json bench/results/scan.json` "
            f"(criterion; exact top-50 over generated 768-d f32 rows) on {scan['machine']['cores']} "
            f"cores ({scan['machine']['cpu']}). Memory read bandwidth, measured the same way (every "
            f"core summing the 1M-row matrix): **{bw['all_cores']:.2f} GB/s** "
            f"(one core {f(bw.get('one_core'), 2)} GB/s).",
            "",
            "| rows | queries per pass | ms per pass | ms per query | GB/s read | share of bandwidth |",
            "|---|---|---|---|---|---|",
        ]
        for x in scan["rows"]:
            out.append(
                f"| {x['rows']:,} | {x['queries']} | {x['median_ms']:.3f} | {x['ms_per_query']:.3f} "
                f"| {x['gb_per_s']:.2f} | {100 * x['share_of_bandwidth']:.0f}% |"
            )
        out.append("")
    if race and scan:
        r = race["race"]
        lk = r["stages"][-1]["lookalike_p50_ms"]
        ref = r["stages"][-1]["reference_p50_ms"]
        rembg = r["rembg"]["p50_ms"]
        rss_mb = max(x.get("peak_rss_mib") or 0 for x in r["lookalike_rounds"]) * 1.048576
        big = [x for x in scan["rows"] if x["rows"] == 1_000_000 and x["queries"] == 1]
        share = big[0]["share_of_bandwidth"] if big else 0.0
        ok = lambda c: "met" if c else "**not met**"
        out += [
            "Issue #6's targets for the lite profile on this machine: search / rembg "
            f"{lk / rembg:.2f} (<= 1.0, {ok(lk <= rembg)}); search / reference {lk / ref:.2f} "
            f"(<= 0.7, {ok(lk <= 0.7 * ref)}); 1M-row scan at {100 * share:.0f}% of memory "
            f"bandwidth (>= 67%, {ok(share >= 2 / 3)}); peak RSS {rss_mb:.0f} MB (<= 300 MB, "
            f"{ok(rss_mb <= 300)}).",
            "",
        ]
    return "\n".join(line for line in out if line is not None)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def rounded(x):
    """f32 values as the manifest writes them (JSON prints the f32's binary expansion)."""
    if isinstance(x, float):
        return float(f"{x:.4g}")
    if isinstance(x, list):
        return [rounded(v) for v in x]
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    return x


def scoring(s: dict | None) -> str:
    if not s:
        return "-"
    b = s["blend"]
    return f"{b['semantic']:.2f}, {b['texture']:.2f}, {b['color']:.2f} / {s['frame']:.2f} / {s['route_prior']:.2f}"


def quality() -> str:
    e = load("eval.json")
    if not e:
        return "(no bench/results/eval.json: run `cargo xtask eval`)"
    t = e.get("tuned") or {}
    first = e["sets"][0] if e["sets"] else {}
    out = [
        f"Profile `{e['profile']}`; every row on the **{e['split']}** split. The profile's scoring "
        f"{scoring(first.get('scoring'))} (blend semantic, texture, colour / whole-frame weight / router "
        f"prior) and match rule `{json.dumps(rounded(first.get('match_rule')))}` are in `models/manifest.toml`, "
        f"rounded from what `eval --tune` fitted on the tune split of all sets at once"
        + (f" (the scoring on the sets with at least {t['min_fit_queries']} tune queries; the match rule on "
           f"every set)" if t.get("min_fit_queries") else "")
        + (f" (this run's fit: {scoring(t['scoring'])}; the rule's budget: at most "
           f"{pct(t['false_same_budget'])} \"same\" among the tune split's false claims waiting to happen: "
           f"in-catalog queries ranked wrong, left out, and outside)" if t else "")
        + ". `cargo xtask eval`",
        "",
    ]
    for s in e["sets"]:
        name = s["set"]
        before = load(f"before/eval-{name}.json")
        out += [
            f"**{name}** ({SETS.get(name, '')}): catalog `{s['catalog']}`, {s['n']} queries; the router's "
            f"best category is right for {pct(s['route_top1_accuracy'])}.",
            "",
            "| row | scoring | R@1 | R@5 | R@10 | MRR |",
            "|---|---|---|---|---|---|",
        ]
        if before:
            full = next((r for r in before["rows"] if r["name"] == "full blend"), None)
            if full:
                m, w = full["metrics"], full["weights"]
                out.append(
                    f"| before: hard routing, seed blend | {w['semantic']:.2f}, {w['texture']:.2f}, {w['color']:.2f} | "
                    f"{m['recall_at_1']:.3f} | {m['recall_at_5']:.3f} | {m['recall_at_10']:.3f} | {m['mrr']:.3f} |")
        for row in s["rows"]:
            m = row["metrics"]
            label = row["name"]
            if label.startswith("tuned"):
                continue  # the profile's scoring is the tuned one: its rows say it
            out.append(
                f"| {label} | {scoring(row['scoring'])} | {m['recall_at_1']:.3f} | {m['recall_at_5']:.3f} | "
                f"{m['recall_at_10']:.3f} | {m['mrr']:.3f} |")
        mm = s.get("match")
        if mm:
            out += [
                "",
                f"`match`: \"same\" on {pct(mm['same_rate'])} of these queries (first result right for "
                f"{pct(mm['same_precision'])} of those), \"none\" on {pct(mm['none_rate'])}; with each query's own "
                f"product left out of the catalog, \"same\" on {pct(mm['left_out_same_rate'])}; on the "
                f"{mm['outside_n']} outside queries, \"same\" {pct(mm['outside_same_rate'])} and \"none\" "
                f"{pct(mm['outside_none_rate'])}.",
            ]
        out.append("")
    return "\n".join(out)


RACE_NAMES = {
    "lite0": "EfficientNet-Lite0, average pooling (before the race)",
    "lite0_gem": "Lite0, GeM-pooled embedding (kept)",
    "lite2": "EfficientNet-Lite2 (260 px)",
    "lite2_gem": "Lite2, GeM-pooled embedding",
    "lite2_int8": "Lite2 INT8 (static QDQ)",
    "lite0_isnet": "Lite0 GeM, ISNet as the catalog segmenter",
}


def model_race() -> str:
    race = load("model-race.json")
    if race is None:
        return "(no bench/results/model-race.json: run `python3 bench/race_models.py`)"
    out = [
        f"Split **{race['split']}**; {race['note']}. R@1 / R@10 / MRR of the whole pipeline, the "
        "plain baseline's R@1 in brackets.",
        "",
        "| candidate | photo | multiview | emoji | photo routing | photo \"same\" |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in race["candidates"].items():
        cells = []
        for set_name in ("photo", "multiview", "emoji"):
            m = c["sets"].get(set_name)
            if m is None:
                cells.append("n/a")
                continue
            full, plain = m["full"], m["plain"]
            cells.append(f"{full['recall_at_1']:.3f} / {full['recall_at_10']:.3f} / {full['mrr']:.3f} "
                         f"({plain['recall_at_1']:.3f})")
        photo = c["sets"].get("photo", {})
        out.append(f"| {RACE_NAMES.get(name, name)} | " + " | ".join(cells)
                   + f" | {pct(photo.get('route_accuracy', 0))} | {pct(photo.get('same_rate') or 0)} |")
    return "\n".join(out)


def scale() -> str:
    """The scale bench: one table per bench/results/scale-*.json, smallest set first."""
    files = sorted(RESULTS.glob("scale-*.json"),
                   key=lambda p: (json.loads(p.read_text())["rows_count"], p.name))
    out = []
    for p in files:
        s = json.loads(p.read_text())
        lk = s.get("lookalike") or {}
        m = s.get("machine", {})
        data = lk.get("data", "random")
        what = ("random unit vectors (seeded), random unit queries" if data == "random" else
                "clustered unit vectors (seeded groups of ~50 rows around random centres), each "
                "query a new member of a random group")
        out += [
            f"**{s['rows_count']:,} x {s['dims']}, {data}**: {what}, {s['queries']} queries, "
            f"recall@{s['k']} against the exact scan; `cargo xtask bench-scale` on "
            f"{m.get('cores', '?')} cores ({m.get('cpu', '?')}), dot kernels "
            f"`{lk.get('kernels', '?')}`, FAISS {s['faiss']}, USearch {s['usearch']} (HNSW "
            f"efConstruction {s['ef_construction']}). Build: seconds from the vectors to a "
            f"searchable index (for Lookalike's f32 scan: writing the file). Memory: for Lookalike, "
            f"the bytes per row its search needs (f32; int8 codes + scale; + 4 B of row id for "
            f"the IVF; + the graph's links for the HNSW, whose f32 rows are read only to re-score "
            f"the pool); for the peers, the resident memory building the index added.",
            "",
            "| index | p50 1 query ms | p50 batch of 8 ms | recall@10 | build s | memory |",
            "|---|---|---|---|---|---|",
        ]
        bytes_row = lk.get("bytes_per_row_scanned", {})
        for r in s["results"]:
            if r.get("added_resident_mib") is not None:
                mem = f"+{r['added_resident_mib']:,.0f} MiB resident"
            elif "int8" in r["name"]:
                extra = 4 if "IVF" in r["name"] else 0
                if "HNSW" in r["name"]:
                    extra = (lk.get("hnsw") or {}).get("bytes_per_row", 0)
                mem = f"{bytes_row.get('int8', 0) + extra:.0f} B/row"
            else:
                mem = f"{bytes_row.get('f32', 0)} B/row"
            out.append(
                f"| {r['name']} | {r['p50_single_ms']:.2f} | {r['p50_batch8_ms']:.2f} | "
                f"{r['recall_at_k']:.3f} | {r['build_s']:.1f} | {mem} |"
            )
        if lk:
            opens = {r["name"]: r["open_ms"] for r in lk["results"]}
            res = lk["resident_after_int8_searches"]
            out += [
                "",
                f"Lookalike's files open (memory-mapped) in {opens['lookalike exact f32']:.2f} ms "
                f"(f32) and {opens['lookalike int8 + re-score']:.2f} ms (int8 codes, every scale "
                f"checked); int8 + re-score returned the exact top-{s['k']} (same ids, same order) "
                f"for {100 * lk['same_top_k_int8']:.1f}% of the queries. Resident memory the int8 "
                f"searches added: {res['file_mib']:,.0f} MiB of mapped file pages (the codes, and "
                f"the pages around each re-scored row: clean, the kernel drops them under "
                f"pressure) and {res['private_mib']:,.0f} MiB private.",
                "",
            ]
    opened = load("catalog-open-1000000.json")
    if opened:
        parts = []
        graph = False
        for c in opened.get("catalog_open", []):
            graph = graph or c.get("graph", False)
            what = "lean products (id, name, category, price; " if c["lean"] else "the demo's fields ("
            if "open_ms" in c:
                took = (f"opens in {c['open_ms']:,.1f} ms; then ten hits' records read in "
                        f"{c['ten_hits_ms']:.2f} ms and ten products found by id in "
                        f"{c['ten_by_id_ms']:.2f} ms")
            else:
                took = f"refused: {c['error']}"
            parts.append(f"{what}`products.jsonl` {c['records_mib']:,.0f} MiB, `catalog.json` "
                         f"{c['catalog_json_kib']:,.1f} KiB): {took}")
        data = "--data clustered " if opened.get("data") == "clustered" else ""
        out += [
            f"**Opening a catalog of {opened['rows_count']:,} products** (`lookalike bench-scale "
            f"--rows 1000000 --dims 768 {data}--lists 0 --catalog-open`: the products cycled from the "
            f"demo catalog's, on that set's vectors, int8 codes"
            + (" and HNSW graph" if graph else "")
            + ", `Catalog::open` median of 3): "
            + "; ".join(parts) + ".",
            "",
        ]
    return "\n".join(out) if out else "No scale results yet: run `cargo xtask bench-scale`."


def replace(text: str, tag: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {tag}:begin -->\n).*?(<!-- {tag}:end -->)", re.S)
    if not pattern.search(text):
        sys.exit(f"README.md has no <!-- {tag}:begin --> ... <!-- {tag}:end --> markers")
    note = "<!-- generated by bench/render_readme.py from bench/results/: rerun, do not edit -->\n"
    return pattern.sub(lambda m: m.group(1) + note + body.strip() + "\n" + m.group(2), text)


def main() -> None:
    text = README.read_text()
    text = replace(text, "performance", performance())
    text = replace(text, "quality", quality())
    if "<!-- model-race:begin -->" in text:
        text = replace(text, "model-race", model_race())
    if "<!-- scale:begin -->" in text:
        text = replace(text, "scale", scale())
    README.write_text(text)
    print("README.md: Performance and Quality tables rewritten from bench/results/")


if __name__ == "__main__":
    main()
