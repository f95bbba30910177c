#!/usr/bin/env python3
"""Lookalike: lints the Android build where no Android SDK, NDK or Gradle can run (python3 stdlib).

    python3 scripts/lint_android.py                  lint (scripts/check-android.sh step 1)
    python3 scripts/lint_android.py expected-assets  the APK entries bundle.resources gives
    python3 scripts/lint_android.py check-apk APK    what the APK holds (the hosted workflow)
    python3 scripts/lint_android.py check-so-align APK|LIB.so...
                                                     16 KB alignment of every .so (readelf -lW)

The lint reads src-tauri/gen/android (the generated project), .github/workflows/android.yml and
docs/android.md and checks, among the project's own rules (ids, icons, nothing machine-specific
committed, the ONNX Runtime AAR's version):

  * the manifest merge: libraries' <uses-feature> that the app makes optional (the barcode
    plugin's android.hardware.camera.any) are overridden with required="false" and
    tools:replace="android:required"; INTERNET is not in the main manifest, is in
    src/debug (Tauri's dev server) and is removed from the release merge (src/release);
  * the SDK package ids the workflow installs have the SDK repository's format:
    platforms;android-NN up to 36, android-NN.M from 37 on (there is no platforms;android-37),
    build-tools;X.Y.Z, ndk;MAJOR.MINOR.BUILD, and an NDK of r28 or later (16 KB page alignment by
    default) unless -Wl,-z,max-page-size=16384 is passed;
  * android-actions/setup-android is v4+ or has explicit packages (v3's default installs the
    package `tools`, which the repository no longer serves) and never asks for `tools`;
  * the platforms of compileSdk (the app's build.gradle.kts, the :tauri-android library and every
    Tauri plugin with an Android library, read from the cargo registry when it is there) are
    installed, and targetSdk <= compileSdk;
  * the workflow's APK check takes its list from tauri.conf.json's bundle.resources minus what
    tauri.android.conf.json removes (`check-apk`), hard-codes no asset that is not in it, and a
    step checks every .so's LOAD alignment with readelf (`check-so-align`);
  * docs/android.md names package ids of the same format and the workflow's NDK.

Each finding prints the file and what to do; the exit status is 1 when there is any.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP = ROOT / "src-tauri"
GEN = APP / "gen/android"
WORKFLOW = ROOT / ".github/workflows/android.yml"
DOC = ROOT / "docs/android.md"
A = "{http://schemas.android.com/apk/res/android}"
T = "{http://schemas.android.com/tools}"
TOOLS_NS = "http://schemas.android.com/tools"
PAGE_16K = 0x4000
ABI = "arm64-v8a"

findings = []


def rel(path):
    try:
        return str(pathlib.Path(path).relative_to(ROOT))
    except ValueError:
        return str(path)


def need(ok, where, problem, fix):
    if not ok:
        findings.append(f"{rel(where)}: {problem}. Fix: {fix}")
    return ok


# ---------------------------------------------------------------- tauri.conf.json resources


def merge_patch(target, patch):
    """RFC 7396 JSON merge patch, as Tauri merges tauri.<platform>.conf.json."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def resources():
    """(kept, removed): bundle.resources for Android ({source: target}) and the ones that
    tauri.android.conf.json removes."""
    base = json.loads((APP / "tauri.conf.json").read_text())
    android = APP / "tauri.android.conf.json"
    patch = json.loads(android.read_text()) if android.is_file() else {}
    merged = merge_patch(base, patch)
    def res(conf):
        r = conf.get("bundle", {}).get("resources", {}) or {}
        if isinstance(r, list):  # list form: the target is the source's path
            r = {s: s for s in r}
        return r
    before, after = res(base), res(merged)
    removed = {s: t for s, t in before.items() if s not in after}
    return after, removed


def asset_entries(source, target, expand_dirs):
    """APK entries for one resource: assets/<target>; a folder gives every file under it (or,
    with expand_dirs False, the folder prefix ending in /)."""
    if any(c in source for c in "*?["):
        raise SystemExit(f"lint_android: glob resource `{source}` is not supported here: list it as files")
    target = target.strip("/")
    src = (APP / source)
    if source.endswith("/") or src.is_dir():
        prefix = f"assets/{target}/"
        if not expand_dirs:
            return [prefix]
        if not src.is_dir():
            raise SystemExit(f"lint_android: resource folder {rel(src)} is missing (run `bash scripts/setup.sh` first)")
        return sorted(prefix + p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    return [f"assets/{target}"]


def app_library():
    text = (APP / "Cargo.toml").read_text()
    lib = re.search(r'^\[lib\][^\[]*?^name\s*=\s*"([^"]+)"', text, re.M | re.S)
    return f"lib{lib.group(1) if lib else 'lookalike_app_lib'}.so"


def expected_libraries():
    return [f"lib/{ABI}/libonnxruntime.so", f"lib/{ABI}/{app_library()}"]


# ---------------------------------------------------------------- SDK package ids


PKG = re.compile(r"\b(platforms|build-tools|ndk|cmake|system-images);([^\s\"'`,)|]+)")


def check_package_id(kind, value, where):
    """Checks one `kind;value` id against the SDK repository's id format (placeholders such as
    `android-NN` or `X.Y.Z` in prose are skipped: real ids have no capital letters)."""
    pid = f"{kind};{value}"
    if re.search(r"[A-Z]", value):
        return
    if kind == "platforms":
        m = re.fullmatch(r"android-(\d+)(?:\.(\d+))?", value)
        if not need(bool(m), where, f"`{pid}` is not a platform package id",
                    "use platforms;android-NN (API <= 36) or platforms;android-NN.M (API >= 37)"):
            return
        api, minor = int(m.group(1)), m.group(2)
        need(not (api >= 37 and minor is None), where,
             f"`{pid}` is not in the SDK repository (from API 37 on, platforms are `android-{api}.M`)",
             f"install platforms;android-{api}.0")
        need(not (api <= 35 and minor is not None), where,
             f"`{pid}` is not in the SDK repository (minor platforms start at 36)",
             f"install platforms;android-{api}")
    elif kind == "build-tools":
        need(bool(re.fullmatch(r"\d+\.\d+\.\d+(-rc\d+)?", value)), where,
             f"`{pid}` is not a build-tools package id", "use build-tools;MAJOR.MINOR.MICRO, e.g. build-tools;36.0.0")
    elif kind == "ndk":
        need(bool(re.fullmatch(r"\d+\.\d+\.\d+", value)), where,
             f"`{pid}` is not an NDK package id",
             "use ndk;MAJOR.MINOR.BUILD (source.properties Pkg.Revision), e.g. ndk;28.2.13676358 (r28c)")


def platform_for(compile_sdk):
    """The platforms;... id a compileSdk needs (AGP 9 maps compileSdk 37 to android-37.0)."""
    api, minor = compile_sdk
    if minor is not None:
        return f"android-{api}.{minor}"
    return f"android-{api}.0" if api >= 37 else f"android-{api}"


def gradle_sdk(text, key):
    """(api, minor) from `key = N` or `key { version = release(N) { minorApiLevel = M } }`."""
    m = re.search(rf"\b{key}\s*=\s*(\d+)", text)
    if m:
        minor = re.search(rf"\b{key}Minor\s*=\s*(\d+)", text)
        return int(m.group(1)), (minor.group(1) if minor else None)
    m = re.search(rf"\b{key}\s*\{{\s*version\s*=\s*release\((\d+)\)(?:\s*\{{\s*minorApiLevel\s*=\s*(\d+))?", text)
    if m:
        return int(m.group(1)), m.group(2)
    return None


# ---------------------------------------------------------------- the workflow


def workflow_env(text):
    env = {}
    for m in re.finditer(r"^\s+([A-Z][A-Z0-9_]*):\s*(.+?)\s*$", text, re.M):
        value = m.group(2).split(" #")[0].strip().strip("\"'")
        env.setdefault(m.group(1), value)
    return env


def expand(text, env):
    for k, v in env.items():
        text = re.sub(r"\$\{\{\s*env\." + k + r"\s*\}\}|\$\{" + k + r"\}|\$" + k + r"\b", lambda _: v, text)
    return text


def steps(text):
    """The workflow's steps as text chunks (each from its `- ` line to the next one at the same indent)."""
    lines = text.splitlines()
    out, cur, indent = [], None, None
    for line in lines:
        m = re.match(r"^(\s*)- (name|uses|run):", line)
        if m and (indent is None or len(m.group(1)) == indent):
            indent = len(m.group(1))
            if cur is not None:
                out.append("\n".join(cur))
            cur = [line]
        elif cur is not None:
            if line.strip() and not line.startswith(" " * (indent + 1)) and not line.startswith(" " * indent + "- "):
                out.append("\n".join(cur))
                cur = None
            else:
                cur.append(line)
    if cur is not None:
        out.append("\n".join(cur))
    return out


def registry_dir(crate):
    """The cargo registry's source folder of `crate` at Cargo.lock's version, or None."""
    lock = (ROOT / "Cargo.lock").read_text()
    m = re.search(rf'^name = "{re.escape(crate)}"\nversion = "([^"]+)"', lock, re.M)
    if not m:
        return None
    home = pathlib.Path(os.environ.get("CARGO_HOME", pathlib.Path.home() / ".cargo"))
    for d in sorted(home.glob(f"registry/src/*/{crate}-{m.group(1)}")):
        if d.is_dir():
            return d
    return None


def android_libraries():
    """(name, android folder) of :tauri-android and of every Tauri plugin in Cargo.lock that has
    an Android library, from the cargo registry (empty when the registry is not on this machine)."""
    lock = (ROOT / "Cargo.lock").read_text()
    out = []
    tauri = registry_dir("tauri")
    if tauri and (tauri / "mobile/android").is_dir():
        out.append((f":tauri-android ({tauri.name})", tauri / "mobile/android"))
    for name in sorted(set(re.findall(r'^name = "(tauri-plugin-[^"]+)"', lock, re.M))):
        d = registry_dir(name)
        if d and (d / "android/build.gradle.kts").is_file():
            out.append((d.name, d / "android"))
    return out


# ---------------------------------------------------------------- lint


def lint_project():
    """The generated project's own rules (ids, permissions, FileProvider, icons, AAR version, nothing
    machine-specific committed)."""
    ident = json.loads((APP / "tauri.conf.json").read_text())["identifier"]
    gradle_path = GEN / "app/build.gradle.kts"
    gradle = gradle_path.read_text()
    need(f'applicationId = "{ident}"' in gradle, gradle_path, f"applicationId is not {ident}", "set it to tauri.conf.json's identifier")
    need(f'namespace = "{ident}"' in gradle, gradle_path, f"namespace is not {ident}", "set it to tauri.conf.json's identifier")
    activity = GEN / "app/src/main/java" / ident.replace(".", "/") / "MainActivity.kt"
    need(activity.is_file() and f"package {ident}\n" in activity.read_text(), activity,
         "MainActivity.kt is missing or in another package", f"put it in package {ident}")

    for xml in sorted(GEN.glob("app/src/**/*.xml")):
        try:
            ET.parse(xml)
        except ET.ParseError as e:
            findings.append(f"{rel(xml)}: does not parse ({e}). Fix: repair the XML")

    manifest_path = GEN / "app/src/main/AndroidManifest.xml"
    manifest = ET.parse(manifest_path).getroot()
    perms = {p.get(A + "name") for p in manifest.iter("uses-permission")}
    need("android.permission.CAMERA" in perms, manifest_path, "no CAMERA permission",
         'add <uses-permission android:name="android.permission.CAMERA"/>')
    queries = {a.get(A + "name") for q in manifest.iter("queries") for a in q.iter("action")}
    need("android.media.action.IMAGE_CAPTURE" in queries, manifest_path,
         "no <queries> for IMAGE_CAPTURE (wry could not see the camera app on Android 11+)",
         "add <queries><intent><action android:name=\"android.media.action.IMAGE_CAPTURE\"/></intent></queries>")
    # the share sheet: the main activity takes one shared image (ACTION_SEND, image/*), and
    # MainActivity.kt hands it to Rust (shared.rs) through the JNI functions mobile.rs exports
    share = [
        f for act in manifest.iter("activity") if act.get(A + "name") == ".MainActivity"
        for f in act.iter("intent-filter")
        if {a.get(A + "name") for a in f.iter("action")} == {"android.intent.action.SEND"}
        and "android.intent.category.DEFAULT" in {c.get(A + "name") for c in f.iter("category")}
        and "image/*" in {d.get(A + "mimeType") for d in f.iter("data")}
    ]
    need(len(share) == 1, manifest_path, "MainActivity has no share intent filter for images (ACTION_SEND, DEFAULT, image/*)",
         "add <intent-filter> with action SEND, category DEFAULT and <data android:mimeType=\"image/*\"/> to .MainActivity")
    # tauri-build would add its own SEND/SEND_MULTIPLE/VIEW filters for the desktop's file
    # associations at build time; the Android config removes them, the one above is the phone's
    android_conf = json.loads((APP / "tauri.android.conf.json").read_text())
    need("fileAssociations" in android_conf.get("bundle", {}) and android_conf["bundle"]["fileAssociations"] is None,
         APP / "tauri.android.conf.json", "the desktop's fileAssociations would become Android intent filters",
         'set "bundle": {"fileAssociations": null} there')
    kt = activity.read_text() if activity.is_file() else ""
    mobile = (APP / "src/mobile.rs").read_text()
    for fn in ("shareImage", "shareRefused"):
        need(f"private external fun {fn}(" in kt and f"Java_{ident.replace('.', '_')}_MainActivity_{fn}" in mobile, activity,
             f"MainActivity.{fn} and its JNI export in src-tauri/src/mobile.rs do not match",
             f"declare `private external fun {fn}` in MainActivity.kt and export Java_..._MainActivity_{fn} in mobile.rs")
    need("Intent.ACTION_SEND" in kt and "onNewIntent" in kt, activity, "MainActivity does not read shared images (onCreate and onNewIntent)",
         "call receiveShare(intent) from onCreate and onNewIntent")
    providers = {p.get(A + "authorities") for p in manifest.iter("provider")}
    need("${applicationId}.fileprovider" in providers, manifest_path,
         "no FileProvider at ${applicationId}.fileprovider (wry's camera capture needs it)", "restore the template's <provider>")
    paths_xml = GEN / "app/src/main/res/xml/file_paths.xml"
    paths = ET.parse(paths_xml).getroot()
    need(any(p.tag == "external-files-path" and p.get("path", "").strip("/") == "Pictures" for p in paths), paths_xml,
         "getExternalFilesDir(Pictures), where wry saves captures, is not shared",
         '<external-files-path name="pictures" path="Pictures/"/>')

    cargo = (ROOT / "Cargo.toml").read_text()
    api = re.search(r'ort\s*=.*"api-(\d+)"', cargo)
    aar = re.search(r'onnxruntimeVersion\s*=\s*"1\.(\d+)\.(\d+)"', gradle)
    need(bool(aar) and "com.microsoft.onnxruntime:onnxruntime-android:$onnxruntimeVersion" in gradle, gradle_path,
         "no com.microsoft.onnxruntime:onnxruntime-android dependency", "add it (ONNX Runtime for the engine)")
    if api and aar:
        need(int(aar.group(1)) >= int(api.group(1)), gradle_path,
             f"onnxruntime-android 1.{aar.group(1)}.{aar.group(2)} is older than ort's api-{api.group(1)} needs",
             f"use onnxruntime-android >= 1.{api.group(1)}")
    need("useLegacyPackaging = true" in gradle, gradle_path,
         "native libraries are not extracted (mobile.rs ort_dylib needs nativeLibraryDir/libonnxruntime.so)",
         "set packaging.jniLibs.useLegacyPackaging = true")

    for density in ["mdpi", "hdpi", "xhdpi", "xxhdpi", "xxxhdpi"]:
        for icon in ["ic_launcher.png", "ic_launcher_round.png", "ic_launcher_foreground.png"]:
            p = GEN / f"app/src/main/res/mipmap-{density}/{icon}"
            need(p.is_file(), p, "launcher icon is missing", "regenerate the icons (scripts/make_icon.py)")

    # what `git add` would take: tracked files plus untracked ones that .gitignore lets through
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", rel(GEN)],
                           capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    bad = re.compile(r"(^|/)(local\.properties|keystore\.properties|key\.properties|tauri\.settings\.gradle|"
                     r"tauri\.build\.gradle\.kts|tauri\.properties|proguard-tauri\.pro)$|/assets/|/jniLibs/|"
                     r"/generated/|/build/|\.so$|\.jks$|\.keystore$|(^|/)\.tauri/")
    for f in files:
        need(not bad.search(f), f, "machine-specific or generated at build time", "do not commit it (git-ignore it)")
        p = ROOT / f
        if p.suffix in {".kts", ".gradle", ".properties", ".xml", ".kt"}:
            need(not re.search(r"(/home/|/Users/|/tmp/|/root/)", p.read_text(errors="replace")), f,
                 "holds an absolute path of this machine", "make it relative")
    return ident, files, aar, api


def lint_manifests():
    main_path = GEN / "app/src/main/AndroidManifest.xml"
    raw = main_path.read_text()
    main = ET.parse(main_path).getroot()
    need(f'xmlns:tools="{TOOLS_NS}"' in raw, main_path, "xmlns:tools is not declared",
         f'add xmlns:tools="{TOOLS_NS}" to <manifest> (the merge rules below need it)')
    features = {f.get(A + "name"): f for f in main.iter("uses-feature")}

    # features that libraries require but the app means as optional: the merge keeps the
    # stricter value unless the app replaces it
    required_by_libraries = {"android.hardware.camera.any": "tauri-plugin-barcode-scanner (its AndroidManifest.xml)"}
    for name, folder in android_libraries():
        lib_manifest = folder / "src/main/AndroidManifest.xml"
        if lib_manifest.is_file():
            for f in ET.parse(lib_manifest).getroot().iter("uses-feature"):
                if f.get(A + "required", "true") != "false" and f.get(A + "name"):
                    required_by_libraries[f.get(A + "name")] = f"{name} ({rel(lib_manifest)})"
    for feature, origin in sorted(required_by_libraries.items()):
        f = features.get(feature)
        ok = (f is not None and f.get(A + "required") == "false"
              and "android:required" in (f.get(T + "replace") or "").split(","))
        need(ok, main_path,
             f"{feature} is required by {origin} and the manifest merge keeps it required (phones "
             "without that camera could not install the app)",
             f'add <uses-feature android:name="{feature}" android:required="false" '
             'tools:replace="android:required"/>')

    internet = "android.permission.INTERNET"
    main_internet = [p for p in main.iter("uses-permission") if p.get(A + "name") == internet]
    need(not main_internet, main_path, "INTERNET is requested by every build, release included (an offline app)",
         "move it to app/src/debug/AndroidManifest.xml (Tauri's dev server needs it in debug builds only)")
    debug_path = GEN / "app/src/debug/AndroidManifest.xml"
    if need(debug_path.is_file(), debug_path, "missing: debug builds (`tauri android dev`) get no INTERNET",
            f'create it with <uses-permission android:name="{internet}"/>'):
        debug = ET.parse(debug_path).getroot()
        need(any(p.get(A + "name") == internet and p.get(T + "node") is None for p in debug.iter("uses-permission")),
             debug_path, "no INTERNET permission (the dev server's UI could not load)",
             f'add <uses-permission android:name="{internet}"/>')
    release_path = GEN / "app/src/release/AndroidManifest.xml"
    if need(release_path.is_file(), release_path,
            "missing: libraries (ML Kit's telemetry, com.google.android.datatransport) can merge INTERNET into the release APK",
            f'create it with <uses-permission android:name="{internet}" tools:node="remove"/>'):
        release = ET.parse(release_path).getroot()
        need(any(p.get(A + "name") == internet and p.get(T + "node") == "remove" for p in release.iter("uses-permission")),
             release_path, "INTERNET is not removed from the release merge",
             f'add <uses-permission android:name="{internet}" tools:node="remove"/>')


def lint_workflow():
    if not need(WORKFLOW.is_file(), WORKFLOW, "missing", "restore the hosted APK workflow"):
        return None, set()
    raw = WORKFLOW.read_text()
    env = workflow_env(raw)
    text = expand(raw, env)
    all_steps = steps(text)

    # setup-android: v3's default `packages` is `tools platform-tools`; `tools` is gone
    setup = [s for s in all_steps if "android-actions/setup-android@" in s]
    if need(bool(setup), WORKFLOW, "no android-actions/setup-android step", "add one (v4, packages: platform-tools)"):
        s = setup[0]
        ver = re.search(r"setup-android@v?(\d+)", s)
        major = int(ver.group(1)) if ver else 0
        pkgs = re.search(r"^\s+packages:\s*(.*)$", s, re.M)
        need(major >= 4 or pkgs is not None, WORKFLOW,
             f"android-actions/setup-android@v{major} with no `packages:` installs `tools`, which the SDK "
             "repository no longer serves (sdkmanager: Failed to find package 'tools')",
             "use android-actions/setup-android@v4 and pin `packages: platform-tools`")
        need(pkgs is not None, WORKFLOW, "setup-android's packages are not pinned (its default has changed before)",
             "pass `packages: platform-tools` (and the platform, build tools, NDK)")
        if pkgs:
            tokens = pkgs.group(1).strip().strip("\"'").split()
            need("tools" not in tokens, WORKFLOW, "setup-android is asked for the package `tools`, no longer served",
                 "remove `tools` (cmdline-tools is installed by the action)")

    ids = {}
    for m in PKG.finditer(text):
        ids.setdefault(m.group(1), set()).add(m.group(2))
        check_package_id(m.group(1), m.group(2), WORKFLOW)
    platforms = {f"platforms;{v}" for v in ids.get("platforms", ())}
    ndks = ids.get("ndk", set())
    need(bool(ndks), WORKFLOW, "no ndk;... package is installed (NDK_HOME would be unset)", "install ndk;28.2.13676358")
    page_flag = "max-page-size=16384" in text or any(
        "max-page-size=16384" in p.read_text() for p in [ROOT / ".cargo/config.toml", APP / ".cargo/config.toml"] if p.is_file())
    for v in ndks:
        m = re.fullmatch(r"(\d+)\.\d+\.\d+", v)
        if m:
            need(int(m.group(1)) >= 28 or page_flag, WORKFLOW,
                 f"NDK r{m.group(1)} links with 4 KB page alignment (16 KB-page phones, and Google Play for targetSdk 35+, need 16 KB)",
                 "install an NDK r28 or later (ndk;28.2.13676358) or pass -Wl,-z,max-page-size=16384")
    home = re.search(r"NDK_HOME=\S*/ndk/([^\s\"']+)", text)
    need(bool(home) and home.group(1) in ndks, WORKFLOW,
         "NDK_HOME does not point at the installed NDK", "set NDK_HOME=${ANDROID_HOME}/ndk/<the ndk;... version>")

    # the platforms that the app and the Android libraries compile against
    gradle_path = GEN / "app/build.gradle.kts"
    gradle = gradle_path.read_text()
    compile_sdk, target_sdk = gradle_sdk(gradle, "compileSdk"), gradle_sdk(gradle, "targetSdk")
    if need(compile_sdk is not None, gradle_path, "no compileSdk", "set compileSdk"):
        pid = f"platforms;{platform_for(compile_sdk)}"
        need(pid in platforms, WORKFLOW, f"compileSdk {compile_sdk[0]} ({rel(gradle_path)}) needs `{pid}`, which is not installed",
             f"install `{pid}`")
        if target_sdk:
            need(target_sdk[0] <= compile_sdk[0], gradle_path, f"targetSdk {target_sdk[0]} > compileSdk {compile_sdk[0]}",
                 "raise compileSdk or lower targetSdk")
    libraries = android_libraries()
    wanted = {}
    for name, folder in libraries:
        lib_sdk = gradle_sdk((folder / "build.gradle.kts").read_text(), "compileSdk")
        if lib_sdk:
            wanted.setdefault(f"platforms;{platform_for(lib_sdk)}", []).append(name)
    for pid, names in sorted(wanted.items()):
        need(pid in platforms, WORKFLOW,
             f"`{pid}` is not installed, and Android libraries of the build compile against it "
             f"(compileSdk in their build.gradle.kts, cargo registry): {', '.join(names)}",
             f"install `{pid}` too")

    # the APK check comes from tauri.conf.json, and the .so alignment is checked
    kept, removed = resources()
    expected = set(expected_libraries())
    for s, t in kept.items():
        expected.update(asset_entries(s, t, expand_dirs=False))
    need("lint_android.py check-apk" in text, WORKFLOW,
         "the APK content check does not derive its list from tauri.conf.json's bundle.resources",
         "run `python3 scripts/lint_android.py check-apk \"$apk\"` after the build")
    for m in re.finditer(r"\bassets/[\w./-]+", raw):
        entry = m.group(0).rstrip("/.")
        ok = any(entry == e.rstrip("/") or entry.startswith(e) or e.startswith(entry + "/") for e in expected)
        gone = [s for s, t in removed.items()
                if any(entry.startswith(x.rstrip("/")) or x.startswith(entry + "/") for x in asset_entries(s, t, False))]
        need(ok or gone, WORKFLOW,
             f"the APK check names `{entry}`, which tauri.conf.json's bundle.resources (less "
             "tauri.android.conf.json's removals) does not package",
             "derive the list with `lint_android.py check-apk` instead of naming files")
    readelf_step = [s for s in all_steps if "check-so-align" in s or "readelf -lW" in s]
    need(bool(readelf_step), WORKFLOW, "no step checks the 16 KB page alignment of the APK's .so files",
         "add a step running `python3 scripts/lint_android.py check-so-align \"$apk\"` (readelf -lW, LOAD Align >= 0x4000)")
    need(any("dump permissions" in s and "INTERNET" in s for s in all_steps), WORKFLOW,
         "no step checks that the release APK does not request INTERNET",
         "add a step with `aapt2 dump permissions \"$apk\"` that fails on android.permission.INTERNET")
    return (ids, platforms, compile_sdk, libraries)


def lint_doc(ndks):
    if not need(DOC.is_file(), DOC, "missing", "restore docs/android.md"):
        return
    text = DOC.read_text()
    for m in PKG.finditer(text):
        check_package_id(m.group(1), m.group(2), DOC)
    named = {m.group(2) for m in PKG.finditer(text) if m.group(1) == "ndk" and re.fullmatch(r"[\d.]+", m.group(2))}
    for v in set(re.findall(r"\bndk/(\d+\.\d+\.\d+)", text)) | named:
        need(v in ndks, DOC, f"names NDK {v}, the workflow installs {', '.join(sorted(ndks)) or 'none'}",
             "name the workflow's NDK")
    need("What only a phone can prove" in text, DOC, "no section \"What only a phone can prove\"",
         "add it (bionic, the AAR, execution providers, thermals, the camera, 16 KB pages, Play services' download)")
    need(not re.search(r"[Nn]othing is downloaded", text) or "Play services" in text, DOC,
         "says nothing is downloaded, but the barcode plugin's ML Kit model comes from Google Play services",
         "say that Play services downloads the barcode model on first use")


def lint():
    ident, files, aar, api = lint_project()
    lint_manifests()
    result = lint_workflow()
    ids = result[0] if result and result[0] else {}
    lint_doc(ids.get("ndk", set()))
    for f in dict.fromkeys(findings):
        print("  -", f)
    if findings:
        print(f"lint_android: {len(set(findings))} finding(s)")
        return 1
    libs = ", ".join(f"{n}" for n, _ in result[3]) or "none found in the cargo registry"
    print(f"  ok: {len(files)} files, id {ident}, onnxruntime-android 1.{aar.group(1)}.{aar.group(2)} "
          f"(ort api-{api.group(1) if api else '?'}), compileSdk {result[2][0]} -> "
          f"{' '.join(sorted(result[1]))}, ndk {' '.join(sorted(ids.get('ndk', [])))}; libraries checked: {libs}")
    return 0


# ---------------------------------------------------------------- the APK (hosted workflow)


def check_apk(apk):
    z = zipfile.ZipFile(apk)
    names = set(z.namelist())
    fail = 0
    print(f"APK: {apk} ({os.path.getsize(apk) / 1e6:.1f} MB, {len(names)} entries)")
    kept, removed = resources()
    for entry in expected_libraries():
        ok = entry in names
        fail |= not ok
        print(f"  {'ok' if ok else 'MISSING'}  {entry}")
    for source, target in kept.items():
        entries = asset_entries(source, target, expand_dirs=True)
        missing = [e for e in entries if e not in names]
        fail |= bool(missing) or not entries
        print(f"  {'ok' if entries and not missing else 'MISSING'}  {source} -> assets/{target.strip('/')} "
              f"({len(entries) - len(missing)}/{len(entries)} files)")
        for e in missing[:20]:
            print(f"      missing {e}")
    for source, target in removed.items():
        prefix = asset_entries(source, target, expand_dirs=False)[0]
        unwanted = sorted(n for n in names if n == prefix or n.startswith(prefix.rstrip("/") + "/"))
        fail |= bool(unwanted)
        print(f"  {'UNWANTED' if unwanted else 'ok'}  {prefix} removed by tauri.android.conf.json"
              + (f": {', '.join(unwanted)}" if unwanted else " is absent"))
    for cat in sorted(n for n in names if n.startswith("assets/") and n.endswith("/catalog.json")):
        folder = cat[: -len("catalog.json")]
        products = json.loads(z.read(cat)).get("products")
        if products is None:  # catalog format 4: one product a line in products.jsonl
            records = folder + "products.jsonl"
            lines = z.read(records).decode().splitlines() if records in names else []
            fail |= records not in names
            products = [json.loads(line) for line in lines]
        missing = [p["thumbnail"] for p in products if folder + p["thumbnail"] not in names]
        fail |= bool(missing)
        print(f"  {'ok' if not missing else 'MISSING'}  {len(products) - len(missing)}/{len(products)} thumbnails of {cat}")
    for lib in sorted(n for n in names if n.startswith(f"lib/{ABI}/") and n.endswith(".so")):
        head = z.read(lib)[:20]
        arm64 = head[:4] == b"\x7fELF" and head[4] == 2 and int.from_bytes(head[18:20], "little") == 183
        fail |= not arm64
        print(f"  {'ok' if arm64 else 'NOT ARM64'}  {lib} {'is' if arm64 else 'is not'} a 64-bit AArch64 ELF")
    print("check-apk:", "FAILED" if fail else "ok")
    return 1 if fail else 0


def readelf_tool():
    exe = shutil.which("readelf") or shutil.which("llvm-readelf")
    if exe:
        return exe
    ndk = os.environ.get("NDK_HOME")
    if ndk:
        for p in pathlib.Path(ndk).glob("toolchains/llvm/prebuilt/*/bin/llvm-readelf"):
            return str(p)
    raise SystemExit("check-so-align: no readelf (binutils) or llvm-readelf (NDK_HOME) found")


def load_aligns(readelf, path):
    out = subprocess.run([readelf, "-lW", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or f"readelf failed on {path}")
    return [int(line.split()[-1], 16) for line in out.stdout.splitlines() if line.split()[:1] == ["LOAD"]]


def check_so_align(args):
    readelf = readelf_tool()
    fail, checked = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        libs = []
        for arg in args:
            if arg.endswith(".so") or ".so." in arg:
                libs.append((arg, pathlib.Path(arg)))
                continue
            z = zipfile.ZipFile(arg)
            for n in sorted(z.namelist()):
                if n.startswith("lib/") and n.endswith(".so"):
                    if n.split("/")[1] in {"armeabi-v7a", "x86"}:
                        print(f"  skip  {n} (32-bit ABI: 16 KB pages concern 64-bit devices)")
                        continue
                    p = pathlib.Path(tmp) / n.replace("/", "_")
                    p.write_bytes(z.read(n))
                    libs.append((n, p))
        for name, path in libs:
            checked += 1
            try:
                aligns = load_aligns(readelf, path)
            except RuntimeError as e:
                print(f"  FAIL  {name}: {e}")
                fail = 1
                continue
            ok = bool(aligns) and min(aligns) >= PAGE_16K
            fail |= not ok
            shown = " ".join(hex(a) for a in aligns) or "no LOAD segment"
            print(f"  {'ok' if ok else 'FAIL'}  {name}: LOAD Align {shown}"
                  + ("" if ok else " (needs >= 0x4000: link with NDK r28+ or -Wl,-z,max-page-size=16384)"))
    if not checked:
        print("  FAIL  no .so files found")
        fail = 1
    print("check-so-align:", "FAILED" if fail else f"ok ({checked} libraries)")
    return fail


def main(argv):
    if not argv:
        return lint()
    cmd, rest = argv[0], argv[1:]
    if cmd == "expected-assets" and not rest:
        kept, _ = resources()
        for e in expected_libraries():
            print(e)
        for s, t in kept.items():
            for e in asset_entries(s, t, expand_dirs=False):
                print(e)
        return 0
    if cmd == "check-apk" and len(rest) == 1:
        return check_apk(rest[0])
    if cmd == "check-so-align" and rest:
        return check_so_align(rest)
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
