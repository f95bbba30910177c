#!/usr/bin/env bash
# Python environment for bench/ (reference pipeline, rembg race, query sets, INT8 calibration), the
# bench part of scripts/setup.sh:
# .cache/bench-venv with bench/requirements.txt. Idempotent: reinstalls only when the pins change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.cache/bench-venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum bench/requirements.txt | cut -d' ' -f1)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/requirements.txt
echo "$want" >"$stamp"
echo "bench venv ready: $venv" >&2
