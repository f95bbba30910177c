#!/usr/bin/env bash
# Lookalike vs the Python reference pipeline (bench/reference) vs rembg, on scripts/bench.sh's photos.
# Set-up (idempotent), the bench venv, then bench/race.py with the venv's Python.
#
#   bash scripts/race.sh [--rounds 5] [--runs 5] [--json OUT]     # the race (agreement check first)
#   bash scripts/race.sh --check [--exact-resize] [--json OUT]    # agreement only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh >/dev/null
bash scripts/setup-bench.sh
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/models/runtime/libonnxruntime.so.1.31.1}"
exec .cache/bench-venv/bin/python bench/race.py "$@"
