#!/usr/bin/env bash
# Lookalike: export the `full` profile's models (SigLIP2 image + text, Marqo-FashionSigLIP image + text,
# DINOv2-small, and SAM 2.1 Hiera-tiny where the sam2 package is installed) with RANDOM weights, end to end, on a machine without a model hub: architecture-faithful
# ONNX graphs, INT8-quantized and measured exactly like the real export, for exercising the full-profile
# code paths. Nothing here is a trained model (every manifest entry says weights = "random-init").
#
# NOT part of CI: it needs the ~5.5 GB torch export environment (CUDA wheel from PyPI, CPU used), e.g.
#   python3.11 -m venv /work/venv-export
#   /work/venv-export/bin/pip install -r models/export/requirements-seed.txt
# Takes ~15-25 min on 2 cores and ~1.5 GB of disk (~4 GB with --keep-fp32).
#
#   bash scripts/export-full-random.sh [--out DIR] [--keep-fp32] [--only siglip2,fashion_siglip,dinov2_small] ...
#   (any export_seed_models.py option; PYTHON=... picks the interpreter, default /work/venv-export/bin/python)
# With a model hub, the real (pretrained) export is:
#   /work/venv-export/bin/python models/export/export_seed_models.py        # -> models/full/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-/work/venv-export/bin/python}"
[ -x "$PY" ] || { echo "error: $PY not found: create the export venv (see models/export/README-seed.md)" >&2; exit 1; }
"$PY" -c 'import torch, transformers, open_clip, onnxruntime, tokenizers' 2>/dev/null \
  || { echo "error: $PY lacks torch/transformers/open_clip/onnxruntime/tokenizers: pip install -r models/export/requirements-seed.txt" >&2; exit 1; }

OUT="models/random-init"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--out" ] && OUT="${args[$((i + 1))]}"
done

echo "== torch-free test graphs (models/generated/, committed)"
"$PY" models/generated/make_test_graphs.py --check

echo "== random-init export (offline: HF_HUB_OFFLINE=1 + socket guard) -> $OUT"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$PY" models/export/export_seed_models.py --random-init "$@"

echo "== SAM 2.1 Hiera-tiny, random-init (models/export/README-sam2.md) -> $OUT"
if "$PY" -c 'import sam2' 2>/dev/null; then
  "$PY" models/generated/make_sam2_test_graphs.py --check
  HF_HUB_OFFLINE=1 "$PY" models/export/export_sam2.py --random-init --out "$OUT"
else
  echo "   skipped: $PY lacks the sam2 package (pip install -r models/export/requirements-sam2.txt)"
fi

echo
echo "== where the files went"
echo "models (random weights, gitignored):        $OUT/"
ls -l "$OUT" | sed 's/^/   /'
echo "proposed manifest entries (for the lead):    models/export/full_manifest.toml"
echo "measurements:                               $OUT/export_report.md, $OUT/export_report.json"
echo "torch-free test graphs + manifest snippet:  models/generated/"
