"""Makes models/random-init/ a complete models folder for the `full` profile on random weights.

The random-init export (scripts/export-full-random.sh) leaves its graphs in models/random-init/ and
their manifest entries in models/export/full_manifest.toml. This writes models/random-init/manifest.toml
= models/manifest.toml with its `full`-profile entries replaced by those, and links the models the
full profile shares with lite (U2Netp INT8 for searches, U2Netp FP32 / U2Net where fetched for
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
entries = (models / "export" / "full_manifest.toml").read_text()
if 'weights = "random-init"' not in entries:
    sys.exit("models/export/full_manifest.toml is not a random-init export: run scripts/export-full-random.sh")
replaced = set(re.findall(r"^\[models\.([A-Za-z0-9_]+)\]", entries, flags=re.M))

# drop the committed blocks of the replaced models (a block runs to the next table header or comment rule)
kept, skipping = [], False
for line in (models / "manifest.toml").read_text().splitlines(keepends=True):
    header = re.match(r"^\[(?:models\.([A-Za-z0-9_]+)(?:\.[a-z]+)?|[^\]]+)\]", line)
    if header:
        skipping = header.group(1) in replaced
    elif line.startswith("# ----"):
        skipping = False
    if not skipping:
        kept.append(line)
text = "".join(kept) + "\n# ---- full profile, RANDOM weights (models/export/full_manifest.toml) ----\n"
text += entries.replace('file = "random-init/', 'file = "').replace('tokenizer = "random-init/', 'tokenizer = "')
out.mkdir(parents=True, exist_ok=True)
(out / "manifest.toml").write_text(text)
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
