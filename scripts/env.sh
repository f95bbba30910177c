# Lookalike: what the scripts share. Source it (`. scripts/env.sh`); it changes no directory.
#
# ORT_LIB is THE place that names the ONNX Runtime library set-up unpacks (relative to the repo
# root). bench/race.py and xtask read this line as text, so keep it a plain KEY=value: no quotes,
# no $, no spaces. It must be what scripts/checksums.toml extracts (`setup.sh core` checks that);
# when ONNX Runtime is bumped, also bump the literals listed in README ("What set-up does").
ORT_LIB=models/runtime/libonnxruntime.so.1.31.1

LOOKALIKE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# the engine loads ONNX Runtime at run time (ort load-dynamic) from $ORT_DYLIB_PATH; one set by
# the caller (or by cargo's [env], .cargo/config.toml) wins; a relative one is taken from the root
ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$ORT_LIB}"
case "$ORT_DYLIB_PATH" in
  /*) ;;
  *) ORT_DYLIB_PATH="$LOOKALIKE_ROOT/$ORT_DYLIB_PATH" ;;
esac
export ORT_DYLIB_PATH

# The standard benchmark photos (`cargo xtask bench`, bench/race.py): every 6th Vendure JPEG of the
# demo sources, as paths relative to the root, one a line.
bench_photos() {
  (cd "$LOOKALIKE_ROOT" && ls .cache/demo-sources/images/vendure-*.jpg | sort | awk 'NR % 6 == 1')
}
