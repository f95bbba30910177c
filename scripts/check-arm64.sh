#!/usr/bin/env bash
# Lookalike on ARM64, the phone's CPU, under user-mode emulation (issue 16, item 1). See README,
# "What is and is not verified here".
#
#   bash scripts/check-arm64.sh            # or: cargo xtask check-arm64
#
#   1. tools: Debian's aarch64 cross linker and libc (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross)
#      and qemu-user >= 8.1, installed with apt when missing (as root). qemu 7.2 (Debian 12's own)
#      does not emulate /proc/cpuinfo for aarch64, and ONNX Runtime's cpuinfo then dereferences
#      NULL while it reads the host's x86 one: on Debian 12 qemu-user comes from bookworm-backports
#      (this adds that suite to apt's sources, in its own file, only for that).
#   2. the Rust target aarch64-unknown-linux-gnu (rustup; not a package registry: when it cannot be
#      had the check says "NOT RUN" and exits 0, or 1 with ARM64_REQUIRED=1)
#   3. onnxruntime==1.31.1's manylinux aarch64 wheel from PyPI, sha256-checked like the x86-64 one
#      (scripts/checksums.toml, group runtime-arm64) -> models/runtime-aarch64/
#   4. cross-builds the CLI and the tests, and runs under qemu-aarch64: the engine's unit tests and
#      tests/golden_models.rs's checks of the real models' outputs (EfficientNet-Lite0's classes,
#      U2Netp's and its INT8 copy's masks against the gift box's alpha)
#   5. `lookalike search --json --cutouts` on the bench photos against catalog/demo, on x86-64
#      natively and on aarch64 under qemu, twice: as shipped (INT8 U2Netp segments the query) and
#      with the FP32 U2Netp in its place; and every file of tests/bad-inputs/ that the engine
#      refuses (expected.toml), on both. scripts/compare_arm64.py compares the top-10 ids, order,
#      scores, verdicts, cut-out masks and the error messages, writes bench/results/arm64.json and
#      fails when they are outside the tolerances it states.
#
# Emulation proves results, not speed: nothing here is timed. Needs `scripts/setup.sh core`
# (models, catalog/demo, the host CLI, the bench photos in .cache/demo-sources).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/env.sh

TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
ARM_ORT=models/runtime-aarch64/libonnxruntime.so.1.31.1
WORK=${ARM64_WORK:-target/arm64-check}
RESULT=bench/results/arm64.json
say() { printf '\n== %s\n' "$*"; }
die() { echo "check-arm64: error: $*" >&2; exit 1; }
not_run() {
  echo "check-arm64: NOT RUN: $*"
  [ "${ARM64_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
}

for f in models/manifest.toml models/u2netp.onnx models/u2netp_int8.onnx catalog/demo/catalog.json target/release/lookalike; do
  [ -e "$f" ] || die "$f is missing: run \`bash scripts/setup.sh core\` first"
done

# ---- 1. tools ----------------------------------------------------------------------------------
say "1/5 cross linker, aarch64 libc, qemu-user >= 8.1"
qemu_ok() {
  command -v qemu-aarch64 >/dev/null || return 1
  local v
  v=$(qemu-aarch64 --version | sed -n 's/^qemu-aarch64 version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  set -- $v
  [ -n "${1:-}" ] && { [ "$1" -gt 8 ] || { [ "$1" -eq 8 ] && [ "$2" -ge 1 ]; }; }
}
apt_install() {
  [ "$(id -u)" = 0 ] || die "missing $*; install as root: apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; } \
    || die "apt-get install $* failed"
}
command -v aarch64-linux-gnu-gcc >/dev/null && [ -e "$SYSROOT/lib/libc.so.6" ] \
  || apt_install gcc-aarch64-linux-gnu libc6-dev-arm64-cross
if ! qemu_ok; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ "$codename" = bookworm ]; then
    [ "$(id -u)" = 0 ] || die "qemu-user >= 8.1 is needed (Debian 12: apt-get install -t bookworm-backports qemu-user)"
    src=/etc/apt/sources.list.d/lookalike-bookworm-backports.sources
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$src"
    fi
    apt-get update -q >/dev/null || die "apt-get update failed (for bookworm-backports)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t bookworm-backports qemu-user >/dev/null \
      || die "apt-get install -t bookworm-backports qemu-user failed"
  else
    apt_install qemu-user
  fi
  qemu_ok || die "qemu-aarch64 is $(qemu-aarch64 --version | head -1); 8.1 or later is needed (/proc/cpuinfo emulation)"
fi
echo "  $(aarch64-linux-gnu-gcc --version | head -1); $(qemu-aarch64 --version | head -1)"

# ---- 2. Rust target ----------------------------------------------------------------------------
say "2/5 Rust target $TARGET"
command -v rustup >/dev/null || not_run "no rustup to add the $TARGET target"
if ! rustup target list --installed | grep -qx "$TARGET"; then
  # not a package registry: may be unreachable
  timeout 300 rustup target add "$TARGET" || not_run "rustup could not add $TARGET (no network to static.rust-lang.org?)"
fi
echo "  installed"

# ---- 3. ONNX Runtime for aarch64 ---------------------------------------------------------------
say "3/5 onnxruntime 1.31.1 (manylinux aarch64 wheel, PyPI)"
python3 scripts/fetch.py --only runtime-arm64 -q || die "fetching the aarch64 ONNX Runtime failed (see above)"
ARM_ORT_ABS="$ROOT/$ARM_ORT"

# ---- 4. build, and the tests under qemu --------------------------------------------------------
say "4/5 cross-build and run the tests under qemu-aarch64"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT"
cargo build --release --target "$TARGET" -p lookalike-cli
# the cross-crate tests take the library from ORT_DYLIB_PATH, which must be the aarch64 one
# (the real-model tests are slow under emulation: U2Netp takes ~300x its native time; the ones
# here take minutes, tests/bad_input_corpus.rs would take most of an hour, so step 5 puts the
# corpus's refused files through the CLI instead)
ORT_DYLIB_PATH="$ARM_ORT_ABS" cargo test --release --target "$TARGET" -p lookalike-engine --lib
ORT_DYLIB_PATH="$ARM_ORT_ABS" cargo test --release --target "$TARGET" -p lookalike-tests --test golden_models -- \
  --exact efficientnet_lite0_sees_coffee_as_a_cup_or_espresso efficientnet_lite0_tells_a_cat_from_coffee \
  u2netp_mask_matches_the_gift_box_alpha
ARM_CLI=target/$TARGET/release/lookalike
file -b "$ARM_CLI" | grep -q "ARM aarch64" || die "$ARM_CLI is not an aarch64 executable"

# ---- 5. the same searches on both CPUs ---------------------------------------------------------
say "5/5 the same searches on x86-64 and on aarch64 (bench photos, catalog/demo)"
mapfile -t PHOTOS < <(bench_photos)
[ "${#PHOTOS[@]}" -gt 0 ] || die "no bench photos in .cache/demo-sources/images (run scripts/setup.sh core)"
rm -rf "$WORK" && mkdir -p "$WORK"
# the FP32 variant: the same model files, the lite profile's query segmenter swapped for FP32 U2Netp
mkdir -p "$WORK/models-fp32"
for f in models/*; do
  [ "$(basename "$f")" = manifest.toml ] || ln -s "$ROOT/$f" "$WORK/models-fp32/"
done
python3 - "$WORK/models-fp32/manifest.toml" <<'PY'
import re, sys
text = open("models/manifest.toml").read()
lite = text.index("[profiles.lite]")
end = text.index("\n[", lite + 1)
body, n = re.subn(r'(?m)^segmenter = "u2netp_int8"$', 'segmenter = "u2netp"', text[lite:end])
assert n == 1, "models/manifest.toml: [profiles.lite] has no segmenter = \"u2netp_int8\" line"
open(sys.argv[1], "w").write(text[:lite] + body + text[end:])
PY
run_search() { # NAME MODELS [qemu]
  local name=$1 models=$2
  shift 2
  mkdir -p "$WORK/$name.cutouts"
  "$@" --catalog catalog/demo --models "$models" --json --cutouts "$WORK/$name.cutouts" \
    "${PHOTOS[@]}" > "$WORK/$name.jsonl" || die "$name: lookalike search failed"
}
run_search x86_64-int8 models target/release/lookalike search
run_search x86_64-fp32 "$WORK/models-fp32" target/release/lookalike search
# the hostile files the engine refuses: the same message for each on both CPUs
mapfile -t REFUSED < <(python3 -c '
import tomllib
for name, v in tomllib.load(open("tests/bad-inputs/expected.toml", "rb")).items():
    if v["outcome"] != "ok":
        print("tests/bad-inputs/" + name)')
[ "${#REFUSED[@]}" -gt 0 ] || die "tests/bad-inputs/expected.toml lists no refused file"
printf '%s\n' "${REFUSED[@]}" > "$WORK/refused.txt"
target/release/lookalike search --catalog catalog/demo --json "${REFUSED[@]}" \
  > /dev/null 2> "$WORK/x86_64-refused.stderr" && die "x86-64: the refused files were accepted"
env ORT_DYLIB_PATH="$ARM_ORT_ABS" qemu-aarch64 -L "$SYSROOT" "$ARM_CLI" search --catalog catalog/demo --json \
  "${REFUSED[@]}" > /dev/null 2> "$WORK/aarch64-refused.stderr" && die "aarch64: the refused files were accepted"
# two emulated processes at once: the check's slow half, on both cores
run_search aarch64-int8 models env ORT_DYLIB_PATH="$ARM_ORT_ABS" qemu-aarch64 -L "$SYSROOT" "$ARM_CLI" search &
int8=$!
run_search aarch64-fp32 "$WORK/models-fp32" env ORT_DYLIB_PATH="$ARM_ORT_ABS" qemu-aarch64 -L "$SYSROOT" "$ARM_CLI" search &
fp32=$!
wait "$int8" || die "the aarch64 search (INT8 segmenter) failed"
wait "$fp32" || die "the aarch64 search (FP32 segmenter) failed"
python3 scripts/compare_arm64.py "$WORK" "$RESULT"
echo "== check-arm64: ok"
