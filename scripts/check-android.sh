#!/usr/bin/env bash
# Lookalike: the part of the Android build that can be checked without the Android SDK, NDK or
# Gradle (none of which this project's machines can download). The APK itself is built by the
# hosted workflow .github/workflows/android.yml; see docs/android.md.
#
#   bash scripts/check-android.sh
#
#   1. `python3 scripts/lint_android.py`: the generated Android project (src-tauri/gen/android):
#      the XML parses; the application id, namespace and Kotlin package are tauri.conf.json's
#      identifier; the camera permission, the image-capture query and wry's FileProvider are
#      declared; the ONNX Runtime AAR is at least the version that ort's `api-NN` feature needs;
#      launcher icons exist for every density; nothing machine-specific (local.properties,
#      generated Gradle files, copied assets, .so files, keys) would be committed. The manifest
#      merge rules (camera.any made optional with tools:replace; INTERNET only in debug builds).
#      The hosted workflow: SDK package ids in the SDK repository's format, NDK r28+ (16 KB
#      pages), setup-android v4+/explicit packages, the platforms every compileSdk needs, the APK
#      check derived from bundle.resources, the readelf alignment step; docs/android.md's ids
#   2. `rustup target add aarch64-linux-android`; when that target cannot be had (no network to
#      static.rust-lang.org) it prints "skipped: ..." and stops with status 0
#   3. `cargo check --target aarch64-linux-android -p lookalike-engine -p lookalike-app`: the engine,
#      the app shell and its Android-only code (src/mobile.rs, the barcode-scanner plugin, jni)
#      type-check for arm64 Android. Nothing is linked, so no NDK is needed; no dependency builds
#      C code for this target.
#
# Needs what `scripts/setup.sh core` leaves (the models, the ONNX Runtime library and catalog/demo/
# are bundle resources, which tauri-build copies even for `cargo check`); builds ui/dist if missing
# (`cargo xtask check-android` sets up core + app first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TARGET=aarch64-linux-android
GEN=src-tauri/gen/android
die() { echo "check-android: error: $*" >&2; exit 1; }

echo "== 1/3 lint: the generated Android project ($GEN), the workflow, docs/android.md"
[ -d "$GEN" ] || die "$GEN is missing (generate it: see docs/android.md)"
python3 scripts/lint_android.py || die "the Android project or its workflow is inconsistent (see above: each finding says what to do)"

echo "== 2/3 Rust target $TARGET"
if ! command -v rustup >/dev/null; then
  echo "skipped: $TARGET target not available (no rustup)"
  exit 0
fi
if ! rustup target list --installed | grep -qx "$TARGET"; then
  # not a package registry: may be unreachable; give up after 5 minutes
  if ! timeout 300 rustup target add "$TARGET"; then
    echo "skipped: $TARGET target not available"
    exit 0
  fi
fi
echo "  installed"

echo "== 3/3 cargo check --target $TARGET -p lookalike-engine -p lookalike-app"
for f in models/manifest.toml models/u2netp_int8.onnx models/efficientnet_lite0.onnx catalog/demo/catalog.json; do
  [ -e "$f" ] || die "$f is missing: run \`bash scripts/setup.sh core\` first (bundle resources)"
done
if [ ! -f ui/dist/index.html ]; then
  echo "  ui/dist is missing (tauri embeds it): npm run build:ui"
  npm run build:ui >/dev/null || die "npm run build:ui failed"
fi
cargo check --target "$TARGET" -p lookalike-engine -p lookalike-app
echo "== check-android: ok"
