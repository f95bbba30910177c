#!/usr/bin/env bash
# Fetch the real test photos used by `export_efficientnet_lite0.py --check` from PyPI scikit-image==0.26.0
# (skimage/data/*), verify their sha256, and unpack them to ${1:-/tmp/skimage_data}.
set -euo pipefail
DEST="${1:-/tmp/skimage_data}"
PY="${PYTHON:-python3}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PY" -m pip download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.11 \
  --implementation cp scikit-image==0.26.0 -d "$TMP" -q
mkdir -p "$DEST"
"$PY" - "$TMP" "$DEST" <<'PY'
import glob, hashlib, os, sys, zipfile
tmp, dest = sys.argv[1:]
want = {
    "coffee.png": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
    "chelsea.png": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "rocket.jpg": "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
}
(whl,) = glob.glob(os.path.join(tmp, "scikit_image-0.26.0-*.whl"))
with zipfile.ZipFile(whl) as z:
    for name, sha in want.items():
        data = z.read("skimage/data/" + name)
        got = hashlib.sha256(data).hexdigest()
        if got != sha:
            sys.exit(f"{name}: sha256 {got} != {sha}")
        with open(os.path.join(dest, name), "wb") as f:
            f.write(data)
        print(f"{dest}/{name} ok")
PY
