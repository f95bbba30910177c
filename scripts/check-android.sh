#!/usr/bin/env bash
# Lookalike: the part of the Android build that can be checked without the Android SDK, NDK or
# Gradle (none of which this project's machines can download). The APK itself is built by the
# hosted workflow .github/workflows/android.yml; see docs/android.md.
#
#   bash scripts/check-android.sh
#
#   1. the generated Android project (src-tauri/gen/android): the XML parses; the application id,
#      namespace and Kotlin package are tauri.conf.json's identifier; the camera permission, the
#      image-capture query and wry's FileProvider are declared; the ONNX Runtime AAR is at least
#      the version that ort's `api-NN` feature needs; launcher icons exist for every density;
#      nothing machine-specific (local.properties, generated Gradle files, copied assets, .so
#      files, keys) would be committed
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

echo "== 1/3 the generated Android project ($GEN)"
[ -d "$GEN" ] || die "$GEN is missing (generate it: see docs/android.md)"
python3 - "$GEN" <<'PY' || die "the Android project is inconsistent (see above)"
import json, re, subprocess, sys, pathlib
import xml.etree.ElementTree as ET

gen = pathlib.Path(sys.argv[1])
errors = []
def need(ok, msg):
    if not ok:
        errors.append(msg)

ident = json.loads(pathlib.Path("tauri.conf.json").read_text())["identifier"]
gradle = (gen / "app/build.gradle.kts").read_text()
need(f'applicationId = "{ident}"' in gradle, f"app/build.gradle.kts: applicationId is not {ident}")
need(f'namespace = "{ident}"' in gradle, f"app/build.gradle.kts: namespace is not {ident}")
activity = gen / "app/src/main/java" / ident.replace(".", "/") / "MainActivity.kt"
need(activity.is_file() and f"package {ident}\n" in activity.read_text(), f"{activity} is missing or in another package")

for xml in sorted(gen.glob("app/src/main/**/*.xml")):
    try:
        ET.parse(xml)
    except ET.ParseError as e:
        errors.append(f"{xml}: {e}")

A = "{http://schemas.android.com/apk/res/android}"
manifest = ET.parse(gen / "app/src/main/AndroidManifest.xml").getroot()
perms = {p.get(A + "name") for p in manifest.iter("uses-permission")}
need("android.permission.CAMERA" in perms, "AndroidManifest.xml: no CAMERA permission")
queries = {a.get(A + "name") for q in manifest.iter("queries") for a in q.iter("action")}
need("android.media.action.IMAGE_CAPTURE" in queries,
     "AndroidManifest.xml: no <queries> for IMAGE_CAPTURE (wry could not see the camera app on Android 11+)")
providers = {p.get(A + "authorities") for p in manifest.iter("provider")}
need("${applicationId}.fileprovider" in providers,
     "AndroidManifest.xml: no FileProvider at ${applicationId}.fileprovider (wry's camera capture needs it)")
paths = ET.parse(gen / "app/src/main/res/xml/file_paths.xml").getroot()
need(any(p.tag == "external-files-path" and p.get("path", "").strip("/") == "Pictures" for p in paths),
     "file_paths.xml: getExternalFilesDir(Pictures), where wry saves captures, is not shared")

cargo = pathlib.Path("Cargo.toml").read_text()
api = re.search(r'ort\s*=.*"api-(\d+)"', cargo)
aar = re.search(r'onnxruntimeVersion\s*=\s*"1\.(\d+)\.(\d+)"', gradle)
need(bool(aar) and 'com.microsoft.onnxruntime:onnxruntime-android:$onnxruntimeVersion' in gradle,
     "app/build.gradle.kts: no com.microsoft.onnxruntime:onnxruntime-android dependency")
if api and aar:
    need(int(aar.group(1)) >= int(api.group(1)),
         f"onnxruntime-android 1.{aar.group(1)}.{aar.group(2)} is older than ort's api-{api.group(1)} needs (>= 1.{api.group(1)})")
need("useLegacyPackaging = true" in gradle,
     "app/build.gradle.kts: native libraries are not extracted (mobile.rs ort_dylib expects nativeLibraryDir)")

for density in ["mdpi", "hdpi", "xhdpi", "xxhdpi", "xxxhdpi"]:
    for icon in ["ic_launcher.png", "ic_launcher_round.png", "ic_launcher_foreground.png"]:
        need((gen / f"app/src/main/res/mipmap-{density}/{icon}").is_file(), f"icon mipmap-{density}/{icon} is missing")

# what `git add` would take: tracked files plus untracked ones that .gitignore lets through
files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", str(gen)],
                       capture_output=True, text=True, check=True).stdout.split()
bad = re.compile(r"(^|/)(local\.properties|keystore\.properties|key\.properties|tauri\.settings\.gradle|"
                 r"tauri\.build\.gradle\.kts|tauri\.properties|proguard-tauri\.pro)$|/assets/|/jniLibs/|"
                 r"/generated/|/build/|\.so$|\.jks$|\.keystore$|(^|/)\.tauri/")
for f in files:
    need(not bad.search(f), f"{f} is machine-specific or generated at build time: it must not be committed")
for f in files:
    p = pathlib.Path(f)
    if p.suffix in {".kts", ".gradle", ".properties", ".xml", ".kt"}:
        text = p.read_text(errors="replace")
        need(not re.search(r"(/home/|/Users/|/tmp/|/root/)", text), f"{f} holds an absolute path of this machine")

for e in errors:
    print("  -", e)
if errors:
    sys.exit(1)
print(f"  ok: {len(files)} files, id {ident}, onnxruntime-android 1.{aar.group(1)}.{aar.group(2)} (ort api-{api.group(1) if api else '?'})")
PY

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
