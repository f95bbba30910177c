#!/usr/bin/env python3
"""Maintainer tool: (re)record the sha256 values in scripts/checksums.toml.

Use it only when deliberately changing a pinned version or what is extracted: edit the package's
`spec`, `archive`, `pip_args` and `extract` rules in scripts/checksums.toml, then run

    python3 scripts/fetch_record.py [--only PACKAGE_ID ...] [--from DIR]

It downloads each archive afresh (or takes it from DIR), hashes it, expands the `extract` rules
against the archive's members and rewrites the `sha256` and `files` entries. It prints every
checksum that changed; review the diff before committing. scripts/fetch.py never records:
it only trusts what is written in the file.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch  # noqa: E402


def q(s: str) -> str:
    """TOML basic string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return q(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


PKG_KEYS = ["id", "group", "registry", "spec", "pip_args", "archive", "sha256", "licence", "links", "extract"]


def emit(manifest: dict, header: str) -> str:
    out = [header.rstrip("\n"), ""]
    for name, g in manifest.get("groups", {}).items():
        out.append(f"[groups.{name}]")
        for k, v in g.items():
            out.append(f"{k} = {toml_value(v)}")
        out.append("")
    for p in manifest["package"]:
        out.append("[[package]]")
        for k in PKG_KEYS + [k for k in p if k not in PKG_KEYS and k != "files"]:
            if k in p:
                v = p[k]
                if k == "extract" or (k == "links" and len(v) > 1):
                    out.append(f"{k} = [")
                    out += [f"  {toml_value(x)}," for x in v]
                    out.append("]")
                else:
                    out.append(f"{k} = {toml_value(v)}")
        out.append("files = [")
        for f in p.get("files", []):
            out.append(f"  {toml_value({'member': f['member'], 'dest': f['dest'], 'sha256': f['sha256']})},")
        out.append("]")
        out.append("")
    return "\n".join(out)


def expand(rules: list[dict], names: list[str]) -> list[tuple[str, str]]:
    """[(member, dest)] for the extract rules: {member, dest} or {glob, strip, dest_dir}."""
    pairs = []
    for r in rules:
        if "member" in r:
            if r["member"] not in names:
                raise SystemExit(f"error: archive has no member {r['member']}")
            pairs.append((r["member"], r["dest"]))
        else:
            hits = sorted(n for n in names if fetch.member_matches(n, [r["glob"]]))
            if not hits:
                raise SystemExit(f"error: no archive member matches {r['glob']}")
            for n in hits:
                strip = r.get("strip", "")
                if not n.startswith(strip):
                    raise SystemExit(f"error: {n} does not start with strip prefix {strip}")
                pairs.append((n, r["dest_dir"].rstrip("/") + "/" + n[len(strip):]))
    return pairs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="PACKAGE_ID", help="record only these packages")
    ap.add_argument("--from", dest="src", type=Path, help="take archives from this folder (searched recursively)")
    args = ap.parse_args()

    text = fetch.CHECKSUMS.read_text()
    header = text.split("\n[", 1)[0]
    manifest = fetch.load_manifest()
    changed = 0
    for pkg in manifest["package"]:
        if args.only and pkg["id"] not in args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            found = list(args.src.rglob(pkg["archive"])) if args.src else []
            path = found[0] if found else fetch.download(pkg, Path(tmp))
            digest = fetch.sha256_of(path)
            if digest != pkg["sha256"]:
                print(f"CHANGED archive {pkg['archive']}: {pkg['sha256'] or '(none)'} -> {digest}")
                changed += 1
            pkg["sha256"] = digest
            arc = fetch.Archive(path)
            old = {f["dest"]: f["sha256"] for f in pkg.get("files", [])}
            files = []
            for member, dest in expand(pkg.get("extract", []), arc.names()):
                if arc._zip is not None:
                    data = arc._zip.read(member)
                else:
                    data = arc._tar.extractfile(member).read()
                h = hashlib.sha256(data).hexdigest()
                if old.get(dest) != h:
                    print(f"CHANGED {dest}: {old.get(dest, '(new)')} -> {h}")
                    changed += 1
                files.append({"member": member, "dest": dest, "sha256": h})
            arc.close()
            pkg["files"] = files
        print(f"recorded {pkg['id']}: {len(pkg['files'])} files")
    fetch.CHECKSUMS.write_text(emit(manifest, header))
    print(f"{changed} checksum(s) changed; review `git diff scripts/checksums.toml`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
