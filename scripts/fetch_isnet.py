#!/usr/bin/env python3
"""Fetch ISNet (DIS) for the desktop indexer from npm and join it into one ONNX file (stdlib only).

Opt-in: scripts/setup.sh runs this only with --with-isnet (or LOOKALIKE_WITH_ISNET=1). The source is
npm @imgly/background-removal-data@1.4.5, pinned in scripts/checksums.toml (package `isnet`):
`npm pack` it into .cache/downloads/ (through scripts/fetch.py, which checks the archive's sha256),
read package/dist/resources.json, and write each model's hash-named 4 MiB chunks, in the order and at
the offsets listed there, into models/isnet_<variant>.onnx; every chunk is checked against its name
(its sha256) and length, the joined file against its pinned size and sha256.

    python3 scripts/fetch_isnet.py                  # the indexer's variant (fp16), fetched if missing
    python3 scripts/fetch_isnet.py --variant all    # uint8 (/models/small) and fp16 (/models/medium)
    python3 scripts/fetch_isnet.py --verify-only    # check, never download or write (exit 1 on a problem)

Variants present on disk are always verified, requested or not. Idempotent: a second run only
re-verifies. A present file with the wrong sha256 is an error, never overwritten (delete it, rerun).

LICENCE: the package is AGPL-3.0 (IMG.LY); its ThirdPartyLicenses lists the ISNet weights as MIT
(github.com/xuebinqin/DIS). Never bundle the joined files into the app (models/export/README-isnet.md).
Exit status: 0 all good, 1 missing or corrupt files, 2 usage or tool errors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch  # noqa: E402  (scripts/fetch.py: pinned, sha256-checked registry downloads)
from fetch import ROOT, FetchError, rel, sha256_of  # noqa: E402

PACKAGE_ID = "isnet"
RESOURCES = "package/dist/resources.json"
DEFAULT_VARIANT = "fp16"


def isnet_package(manifest: dict) -> dict:
    for p in manifest.get("package", []):
        if p["id"] == PACKAGE_ID:
            if not p.get("joins"):
                raise SystemExit(f"error: scripts/checksums.toml: package {PACKAGE_ID} has no `joins`")
            return p
    raise SystemExit(f"error: scripts/checksums.toml has no package {PACKAGE_ID}")


def file_state(join: dict) -> tuple[str, str | None]:
    """('ok'|'missing'|'corrupt', actual sha256 or None) of one joined file."""
    dest = ROOT / join["dest"]
    if not dest.is_file():
        return "missing", None
    actual = sha256_of(dest)
    return ("ok" if actual == join["sha256"] else "corrupt"), actual


def read_resources(archive: Path) -> dict:
    with tarfile.open(archive, "r:*") as tar:
        try:
            src = tar.extractfile(RESOURCES)
        except KeyError:
            raise FetchError(f"{rel(archive)} has no member {RESOURCES}") from None
        if src is None:
            raise FetchError(f"{rel(archive)}: {RESOURCES} is not a regular file")
        return json.load(src)


def join_chunks(pkg: dict, archive: Path, todo: list[dict], log) -> None:
    """Write every file of `todo` from the archive's chunks in one pass over the tarball."""
    resources = read_resources(archive)
    origin = fetch.origin_of(pkg)
    wanted: dict[str, list[tuple[int, int, int]]] = {}  # member -> [(job, start, end)]
    jobs = []
    for i, join in enumerate(todo):
        entry = resources.get(join["resource"])
        if entry is None:
            raise FetchError(f"{origin}: {RESOURCES} has no resource {join['resource']}")
        if entry["size"] != join["size"]:
            raise FetchError(f"{origin}: {join['resource']} is {entry['size']} B in {RESOURCES}, "
                             f"scripts/checksums.toml pins {join['size']} B")
        pos = 0
        for c in entry["chunks"]:
            start, end = c["offsets"]
            if start != pos or end <= start:
                raise FetchError(f"{origin}: {join['resource']}: chunk {c['hash']} at {start}..{end}, "
                                 f"expected it to start at {pos}")
            wanted.setdefault(f"package/dist/{c['hash']}", []).append((i, start, end))
            pos = end
        if pos != join["size"]:
            raise FetchError(f"{origin}: {join['resource']}: chunks cover {pos} B of {join['size']}")
        dest = ROOT / join["dest"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        jobs.append({"join": join, "dest": dest, "part": part,
                     "left": len(entry["chunks"]), "chunks": len(entry["chunks"])})
    try:
        # every join is validated above before any .part file exists
        for job in jobs:
            job["file"] = open(job["part"], "wb")
            job["file"].truncate(job["join"]["size"])
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                targets = wanted.pop(member.name, None)
                if targets is None or not member.isfile():
                    continue
                data = tar.extractfile(member).read()
                name = member.name.rsplit("/", 1)[1]
                if hashlib.sha256(data).hexdigest() != name:
                    raise FetchError(f"{origin}: chunk {member.name} does not hash to its name")
                for i, start, end in targets:
                    if len(data) != end - start:
                        raise FetchError(f"{origin}: chunk {member.name} is {len(data)} B, "
                                         f"{RESOURCES} says {end - start}")
                    jobs[i]["file"].seek(start)
                    jobs[i]["file"].write(data)
                    jobs[i]["left"] -= 1
        if wanted:
            raise FetchError(f"{origin}: {len(wanted)} chunk(s) listed in {RESOURCES} are missing, "
                             f"e.g. {next(iter(wanted))}")
        for job in jobs:
            job["file"].close()
            join = job["join"]
            actual = sha256_of(job["part"])
            if actual != join["sha256"]:
                raise fetch.mismatch(job["part"], join["sha256"], actual,
                                     f"{origin} {join['resource']}",
                                     "The archive matched its checksum but the joined chunks do not: "
                                     "scripts/checksums.toml is inconsistent.", shown=join["dest"])
            os.replace(job["part"], job["dest"])
            log(f"  joined {join['dest']} from {join['resource']}: {job['chunks']} chunks, "
                f"{join['size']:,} B, sha256 {actual}")
    finally:
        for job in jobs:
            if "file" in job:
                job["file"].close()
            if job["part"].exists():
                job["part"].unlink()


def main(argv: list[str] | None = None) -> int:
    manifest = fetch.load_manifest()
    pkg = isnet_package(manifest)
    variants = [j["variant"] for j in pkg["joins"]]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=variants + ["all"], default=DEFAULT_VARIANT,
                    help=f"which model to fetch (default {DEFAULT_VARIANT}: the one README-isnet.md proposes for the manifest)")
    ap.add_argument("--verify-only", action="store_true",
                    help="check what is present (and the requested variant), download and write nothing")
    ap.add_argument("--present-only", action="store_true",
                    help="only verify the variants that are on disk (none present: nothing to do); "
                         "scripts/setup.sh uses it without --with-isnet")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only problems and the summary line")
    args = ap.parse_args(argv)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, flush=True))

    t0 = time.monotonic()
    requested = set(variants if args.variant == "all" else [args.variant])
    if args.present_only:
        requested = set()
    problems: list[str] = []
    todo: list[dict] = []
    ok = []
    for join in pkg["joins"]:
        state, actual = file_state(join)
        if state == "ok":
            ok.append(join)
            log(f"present  {join['dest']}  (sha256 verified)")
        elif state == "corrupt":
            problems.append(str(fetch.mismatch(ROOT / join["dest"], join["sha256"], actual,
                                               f"{fetch.origin_of(pkg)} {join['resource']}",
                                               "Delete it and run scripts/fetch_isnet.py again.")))
        elif join["variant"] in requested:
            todo.append(join)

    archive = None
    try:
        # a cached archive is always checked, even when nothing has to be joined from it
        archive = fetch.ensure_archive(pkg, verify_only=args.verify_only or not todo, log=log)
        if todo and args.verify_only:
            for join in todo:
                problems.append(f"missing: {join['dest']}  (sha256 {join['sha256']}, from {fetch.origin_of(pkg)})")
        elif todo:
            log(f"joining {', '.join(j['dest'] for j in todo)} from {rel(archive)}")
            join_chunks(pkg, archive, todo, log)
    except FetchError as e:
        problems.append(str(e))

    dt = time.monotonic() - t0
    if problems:
        print("", file=sys.stderr)
        for p in problems:
            print(f"ERROR: {p}", file=sys.stderr)
        print(f"\nfetch_isnet: {len(problems)} problem(s) ({dt:.1f} s)", file=sys.stderr)
        return 1
    if todo:
        print(f"fetch_isnet: joined {len(todo)} file(s), {len(ok)} already present, all verified ({dt:.1f} s)")
    elif ok:
        print(f"fetch_isnet: all {len(ok)} ISNet file(s) present and verified ({dt:.1f} s)")
    else:
        print(f"fetch_isnet: no ISNet file present, none requested ({dt:.1f} s)")
    if todo or ok:
        print("fetch_isnet: AGPL-3.0 package (ISNet weights MIT): for this machine's indexer only, "
              "never bundle it into the app (models/export/README-isnet.md)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
