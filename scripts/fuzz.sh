#!/usr/bin/env bash
# Fuzzes the engine with cargo-fuzz/libFuzzer (issue "Hardening", item 2). NOT part of CI: it
# needs a nightly toolchain and takes minutes. See fuzz/README.md.
#
#   bash scripts/fuzz.sh                 # every target, FUZZ_SECONDS (60) each
#   bash scripts/fuzz.sh decode catalog  # only these targets
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh
#   FUZZ_SECONDS=0 bash scripts/fuzz.sh  # no fuzzing: replay seeds + fuzz/regressions/ only
#   bash scripts/fuzz.sh --minimise decode  # merge fuzz/corpus/ into the committed fuzz/corpora/
#
# Targets: decode, pipeline, catalog, matrix, index_files, bundle, products, search (slow: real models and ONNX Runtime; skipped
# with a note when `scripts/setup.sh core` has not fetched them; `cargo xtask fuzz` runs that
# first). Per-target time: FUZZ_SECONDS_<TARGET> (e.g. FUZZ_SECONDS_SEARCH=20); per-target execution budget: FUZZ_RUNS_<TARGET> (-runs=N, time still caps it); parallel processes:
# FUZZ_JOBS_<TARGET> (N processes sharing the corpus, executions summed). Other knobs: FUZZ_TIMEOUT (seconds one input may take, 30),
# FUZZ_RSS_MB (2048), FUZZ_CODEGEN_UNITS (16: faster builds), FUZZ_MIN_SECONDS (time to minimise
# a crash, 60).
#
# Prints, per target, the executions run (libFuzzer's `stat::number_of_executed_units`) and the
# crashes found. A crash (panic, abort, sanitizer report, OOM, timeout) leaves its input in
# fuzz/artifacts/<target>/; panics are minimised into fuzz/regressions/<target>/, which every later
# run replays first. Exits 1 if any target crashed.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# ORT_DYLIB_PATH (absolute), for the search target
. scripts/env.sh
FUZZ=fuzz
ALL_TARGETS=(decode pipeline catalog matrix index_files bundle products search)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-30}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}
FUZZ_CODEGEN_UNITS=${FUZZ_CODEGEN_UNITS:-16}
FUZZ_MIN_SECONDS=${FUZZ_MIN_SECONDS:-60}

say() { printf '\n== %s\n' "$*"; }
die() { printf 'fuzz.sh: %s\n' "$*" >&2; exit 2; }

MINIMISE=0
if [ "${1:-}" = --minimise ]; then
  MINIMISE=1
  shift
fi
# committed corpora: what earlier campaigns found, minimised (`--minimise`); read, never written
FUZZ_CORPUS_MAX_BYTES=${FUZZ_CORPUS_MAX_BYTES:-16384}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "unknown target '$t' (known: ${ALL_TARGETS[*]})"
done

# ---- tools -----------------------------------------------------------------------------------
cargo +nightly --version >/dev/null 2>&1 \
  || die "needs a nightly toolchain: rustup toolchain install nightly"
if [ "$(cargo fuzz --version 2>/dev/null | head -1)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
HOST=$(rustc +nightly -vV | sed -n 's/^host: //p')

# ---- seeds -----------------------------------------------------------------------------------
say "seed corpora (fuzz/seedgen -> $FUZZ/seeds)"
rm -rf "$FUZZ/seeds"
cargo run --release --quiet --manifest-path "$FUZZ/seedgen/Cargo.toml" -- \
  "$FUZZ/seeds" catalog/demo tests/fixtures

# ---- build -----------------------------------------------------------------------------------
say "cargo +nightly fuzz build (AddressSanitizer, debug assertions, overflow checks)"
cargo +nightly fuzz build --codegen-units "$FUZZ_CODEGEN_UNITS"
BIN_DIR="$FUZZ/target/$HOST/release"

# ---- run -------------------------------------------------------------------------------------
max_len() {
  case "$1" in
    catalog) echo 1048576 ;;  # the whole demo catalog is a ~600 KB bundle
    bundle) echo 262144 ;;    # over the target's 192 KiB bundle limit (seeds: 1-75 KB)
    matrix) echo 524288 ;;    # the demo's embeddings.bin is 435 KB
    products) echo 65536 ;;   # the demo's products as CSV are ~20 KB
    *) echo 262144 ;;         # 256 KB images
  esac
}

declare -A EXECS CRASHES STATUS COV
failed=0
mkdir -p "$FUZZ/logs"
for t in "${targets[@]}"; do
  var="FUZZ_SECONDS_${t^^}"
  secs=${!var:-$FUZZ_SECONDS}
  if [ "$t" = search ]; then
    if [ ! -e "$ORT_DYLIB_PATH" ] || [ ! -f models/u2netp.onnx ] || [ ! -f "${LOOKALIKE_FUZZ_CATALOG:-catalog/demo}/catalog.json" ]; then
      STATUS[$t]="skipped (run \`bash scripts/setup.sh core\`: needs ONNX Runtime, u2netp.onnx, catalog/demo)"
      EXECS[$t]=-; CRASHES[$t]=-; COV[$t]=-
      continue
    fi
  fi
  art="$FUZZ/artifacts/$t"
  mkdir -p "$FUZZ/corpus/$t" "$art" "$FUZZ/regressions/$t"
  corpora=("$FUZZ/corpus/$t" "$FUZZ/seeds/$t")
  [ -d "$FUZZ/corpora/$t" ] && corpora+=("$FUZZ/corpora/$t")
  if [ "$MINIMISE" = 1 ]; then
    # the smallest set of inputs (of at most FUZZ_CORPUS_MAX_BYTES each) that keeps the coverage
    # of everything found so far; the seeds are regenerated on every run, so they are left out
    say "$t: minimising ${corpora[*]} -> $FUZZ/corpora/$t"
    small=$(mktemp -d); merged=$(mktemp -d)
    find "$FUZZ/corpus/$t" "$FUZZ/corpora/$t" -maxdepth 1 -type f -size -"$((FUZZ_CORPUS_MAX_BYTES + 1))"c \
      -exec cp -t "$small" {} + 2>/dev/null || true
    asan="detect_odr_violation=0"
    [ "$t" = search ] && asan="$asan:detect_leaks=0"
    # the seeds go in first: libFuzzer keeps them and adds only inputs with coverage they lack
    cp -t "$merged" "$FUZZ/seeds/$t"/*
    ASAN_OPTIONS="$asan:${ASAN_OPTIONS:-}" "$BIN_DIR/$t" -set_cover_merge=1 "-rss_limit_mb=$FUZZ_RSS_MB" \
      "-timeout=$FUZZ_TIMEOUT" "-max_len=$(max_len "$t")" "$merged" "$small" >"$FUZZ/logs/$t.merge.log" 2>&1 \
      || { tail -5 "$FUZZ/logs/$t.merge.log"; die "$t: merge failed (log: $FUZZ/logs/$t.merge.log)"; }
    for f in "$FUZZ/seeds/$t"/*; do rm -f "$merged/$(basename "$f")"; done
    rm -rf "$FUZZ/corpora/$t" && mkdir -p "$FUZZ/corpora/$t"
    find "$merged" -maxdepth 1 -type f -exec cp -t "$FUZZ/corpora/$t" {} +
    rm -rf "$small" "$merged"
    EXECS[$t]=-; COV[$t]=$(grep -oE 'cov: [0-9]+' "$FUZZ/logs/$t.merge.log" | tail -1 | awk '{print $2}' || true)
    CRASHES[$t]=-
    STATUS[$t]="corpora/$t: $(find "$FUZZ/corpora/$t" -type f | wc -l) files, $(du -sk "$FUZZ/corpora/$t" | cut -f1) KiB"
    continue
  fi
  # replayed on start-up, never written to (new inputs go to the first folder)
  [ -n "$(ls -A "$FUZZ/regressions/$t" 2>/dev/null | grep -v '^README')" ] && corpora+=("$FUZZ/regressions/$t")
  flags=(-print_final_stats=1 "-rss_limit_mb=$FUZZ_RSS_MB" "-timeout=$FUZZ_TIMEOUT"
         "-max_len=$(max_len "$t")" "-artifact_prefix=$art/")
  dict="$FUZZ/dicts/$t.dict"
  [ "$t" = pipeline ] || [ "$t" = search ] && dict="$FUZZ/dicts/decode.dict"
  [ -f "$dict" ] && flags+=("-dict=$dict")
  if [ "$secs" = 0 ]; then flags+=(-runs=0); else flags+=("-max_total_time=$secs"); fi
  # execution budget (FUZZ_RUNS_<TARGET>): libFuzzer -runs=N, FUZZ_SECONDS_<TARGET> stays the cap
  rvar="FUZZ_RUNS_${t^^}"
  [ "$secs" = 0 ] || [ -z "${!rvar:-}" ] || flags+=("-runs=${!rvar}")
  log="$FUZZ/logs/$t.log"
  before=$(find "$art" -maxdepth 1 -type f | sort)
  bomb_rc=0
  if [ "$t" = decode ] && [ -n "$(ls -A "$FUZZ/seeds/decode-bombs" 2>/dev/null)" ]; then
    # real decompression bombs: each replayed once (seconds under ASan), never mutated
    say "decode: replaying $FUZZ/seeds/decode-bombs (time and memory per bomb)"
    ASAN_OPTIONS="detect_odr_violation=0:${ASAN_OPTIONS:-}" \
      "$BIN_DIR/decode" "-rss_limit_mb=$FUZZ_RSS_MB" -timeout=120 "-artifact_prefix=$art/" \
      "$FUZZ"/seeds/decode-bombs/* >"$FUZZ/logs/decode-bombs.log" 2>&1 || bomb_rc=$?
    grep -E '^Executed' "$FUZZ/logs/decode-bombs.log" | sed 's/^/  /' || true
  fi
  say "$t: ${secs}s (log: $log)"
  rc=$bomb_rc
  asan="detect_odr_violation=0"
  # ONNX Runtime keeps allocations alive past the end of the process on purpose
  [ "$t" = search ] && asan="$asan:detect_leaks=0"
  # FUZZ_JOBS_<TARGET>=N: N processes on one corpus folder (libFuzzer re-reads it every second,
  # so each sees what the others found); each gets the whole -runs budget and the time cap
  jvar="FUZZ_JOBS_${t^^}"
  jobs=${!jvar:-1}
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "$jvar must be a positive whole number, not '$jobs'"
  logs=("$log")
  for ((j = 2; j <= jobs; j++)); do logs+=("$FUZZ/logs/$t.$j.log"); done
  pids=()
  for l in "${logs[@]}"; do
    ASAN_OPTIONS="$asan:${ASAN_OPTIONS:-}" \
      timeout --kill-after=30 $((secs + FUZZ_TIMEOUT + 300)) \
      "$BIN_DIR/$t" "${flags[@]}" "${corpora[@]}" >"$l" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { [ "$rc" != 0 ] || rc=$?; }; done
  # the catalog and bundle targets' scratch folders live in a static, which libFuzzer never drops
  case "$t" in
    catalog | bundle | products) rm -rf /dev/shm/lookalike-fuzz-"$t"-* "${TMPDIR:-/tmp}"/lookalike-fuzz-"$t"-* ;;
  esac
  # executions summed over the jobs; coverage: the highest of any job's last status line
  EXECS[$t]=0
  covs=""
  for l in "${logs[@]}"; do
    e=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$l" | tail -1 | awk '{print $2}' || true)
    [ -n "$e" ] || e=$(grep -o '^#[0-9]*' "$l" | tail -1 | tr -d '#' || true)
    EXECS[$t]=$((EXECS[$t] + ${e:-0}))
    # libFuzzer's `cov:` (edges) and `ft:` (features)
    covs+="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$l" | tail -1 | awk '{print $2 "/" $4}' || true)"$'\n'
  done
  COV[$t]=$(printf '%s' "$covs" | grep . | sort -t/ -k1,1n | tail -1 || true)
  [ -n "${COV[$t]}" ] || COV[$t]=-
  new=$(comm -13 <(echo "$before") <(find "$art" -maxdepth 1 -type f | sort) | grep -v '^$' || true)
  CRASHES[$t]=$(printf '%s' "$new" | grep -c . || true)
  if [ "$rc" = 0 ] && [ "${CRASHES[$t]}" = 0 ]; then
    STATUS[$t]=ok
    for l in "${logs[@]}"; do grep -E '^(Done|INFO: fuzzed|#[0-9]+ *DONE)' "$l" | tail -1 || true; done
    continue
  fi
  failed=1
  [ "${CRASHES[$t]}" != 0 ] || CRASHES[$t]="1 (exit $rc, no artifact)"
  STATUS[$t]="CRASH"
  for l in "${logs[@]}"; do
    { grep -E -m1 -A1 "panicked at" "$l"; grep -E -m2 "ERROR: (libFuzzer|AddressSanitizer)|^SUMMARY" "$l"; } \
      || tail -20 "$l"
  done
  for a in $new; do
    case "$(basename "$a")" in
      crash-*)
        sum=$(sha1sum "$a" | cut -c1-40)
        known=$(find "$FUZZ/regressions/$t" -maxdepth 1 -type f -exec sha1sum {} + 2>/dev/null \
          | awk -v s="$sum" '$1 == s {print $2; exit}' || true)
        if [ -n "$known" ]; then
          echo "  known regression $known still crashes (not fixed yet)"
          continue
        fi
        dest="$FUZZ/regressions/$t/crash-${sum:0:12}"
        say "$t: minimising $a -> $dest"
        ASAN_OPTIONS="detect_odr_violation=0:${ASAN_OPTIONS:-}" "$BIN_DIR/$t" -minimize_crash=1 "-max_total_time=$FUZZ_MIN_SECONDS" "-timeout=$FUZZ_TIMEOUT" \
          "-rss_limit_mb=$FUZZ_RSS_MB" -exact_artifact_path="$dest" "$a" >"$FUZZ/logs/$t.minimise.log" 2>&1 || true
        [ -s "$dest" ] || cp "$a" "$dest"
        echo "  $dest ($(wc -c <"$dest") bytes); reproduce: $BIN_DIR/$t $dest"
        ;;
      *) echo "  $a (OOM/timeout/leak: kept in artifacts; reproduce: $BIN_DIR/$t $a)" ;;
    esac
  done
done

say "summary (${FUZZ_SECONDS}s a target; logs in $FUZZ/logs/)"
printf '%-10s %14s  %-15s %-8s %s\n' target executions 'cov/ft' crashes status
for t in "${targets[@]}"; do
  printf '%-10s %14s  %-15s %-8s %s\n' "$t" "${EXECS[$t]:-?}" "${COV[$t]:-?}" "${CRASHES[$t]:-?}" "${STATUS[$t]:-?}"
done
exit $failed
