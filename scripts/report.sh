#!/usr/bin/env bash
# Every number in README's Performance and Quality sections: the race against the Python
# reference and rembg, the retrieval scan against memory bandwidth, and the quality evaluation on
# every labelled query set; results in bench/results/, then README's tables are rewritten from them.
# Run it on a quiet machine (about 15 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p bench/results
bash scripts/race.sh --json bench/results/race.json
bash scripts/bench-scan.sh --json bench/results/scan.json
bash scripts/eval.sh
python3 bench/render_readme.py
