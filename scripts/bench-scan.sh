#!/usr/bin/env bash
# Retrieval scan speed: exact top-50 over 1k..1M rows of 768-d f32, one query and a batch of 8,
# against this machine's memory read bandwidth (criterion: crates/engine/benches/scan.rs).
# Needs ~3.5 GB of free memory for the 1M-row matrix.
#
#   bash scripts/bench-scan.sh [--json OUT]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo bench -p lookalike-engine --bench scan -- --warm-up-time 2 --measurement-time 6 >&2
exec python3 bench/scan_report.py "$@"
