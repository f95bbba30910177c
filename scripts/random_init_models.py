"""Makes models/random-init/ a complete models folder for the `full` profile on random weights.

The random-init exports (scripts/export-full-random.sh: export_seed_models.py and export_sam2.py
with --random-init) leave their graphs in models/random-init/ with a manifest overlay each
(seed.manifest.toml, sam2.manifest.toml). This writes models/random-init/manifest.toml =
models/manifest.toml with its `overlays` pointing at those two, and links the models the full
profile shares with lite (U2Netp INT8 for searches, U2Netp FP32 / U2Net where fetched for
indexing, EfficientNet-Lite0) and the ONNX Runtime library beside them, so that
    lookalike --models models/random-init index --profile full --allow-random-weights ...
runs the seed's whole architecture here. Stdlib only.
"""
import os
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
models = root / "models"
out = models / "random-init"
overlays = ["seed.manifest.toml", "sam2.manifest.toml"]
present = [name for name in overlays if (out / name).is_file()]
if "seed.manifest.toml" not in present:
    sys.exit("models/random-init/seed.manifest.toml not found: run scripts/export-full-random.sh")
for name in present:
    if 'weights = "random-init"' not in (out / name).read_text():
        sys.exit(f"models/random-init/{name} is not a random-init export: run scripts/export-full-random.sh")
base = (models / "manifest.toml").read_text()
text, n = re.subn(r"^overlays = .*$", "overlays = " + str(overlays).replace("'", '"'), base, count=1, flags=re.M)
if n != 1:
    sys.exit("models/manifest.toml has no `overlays = [...]` line")
out.mkdir(parents=True, exist_ok=True)
(out / "manifest.toml").write_text(text)
replaced = sorted(set(re.findall(r"^\[models\.([A-Za-z0-9_]+)\]", "".join((out / n).read_text() for n in present), flags=re.M)))
# what the full profile shares with lite: the segmenters (searches use u2netp_int8, the indexer the
# first of index_segmenters that is present: u2net only where --with-u2net fetched it, else u2netp),
# EfficientNet-Lite0 (the lite entries stay in the manifest) and the ONNX Runtime folder
shared = ["u2netp_int8.onnx", "u2netp.onnx", "efficientnet_lite0.onnx", "runtime"]
if (models / "u2net.onnx").exists():
    shared.append("u2net.onnx")
missing = [name for name in shared if not (models / name).exists()]
if missing:
    sys.exit(f"models/ lacks {', '.join(missing)}: run `bash scripts/setup.sh core` first")
for name in shared:
    link = out / name
    if link.is_symlink() and not link.exists():
        link.unlink()  # dangling: its target was moved or deleted
    if not link.exists():
        os.symlink(os.path.join("..", name), link)
print(f"wrote {out / 'manifest.toml'} ({len(replaced)} random-init models: {', '.join(sorted(replaced))})")
