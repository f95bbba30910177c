#!/usr/bin/env bash
# Lookalike: the standard latency benchmark behind README's Performance table.
# Real product photos (JPEG, no alpha, so U2Netp runs) searched against the demo catalog.
#
#   bash scripts/bench.sh [--runs N] [--json]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh >/dev/null
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/models/runtime/libonnxruntime.so.1.31.1}"
mapfile -t photos < <(ls .cache/demo-sources/images/vendure-*.jpg | sort | awk 'NR % 6 == 1')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >&2
exec target/release/lookalike bench --catalog catalog/demo --runs 10 "$@" "${photos[@]}"
