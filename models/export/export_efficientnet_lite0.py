#!/usr/bin/env python3
"""Export EfficientNet-Lite0 (real ImageNet-1k weights) to ONNX: the old entry point, kept as a thin wrapper.

Everything lives in export_efficientnet_lite.py (`--variant lite0|lite2`, `--gem`, `--check`); this name
defaults to lite0, whose output is byte-identical to what this script wrote before (models/efficientnet_lite0.onnx,
sha256 6b7b61de59c15a6ee12e40b39050533e998d1fa5a811a8272be07350d5aa79d8).

Usage:
  python export_efficientnet_lite0.py                 # export to models/efficientnet_lite0.onnx, print sha256
  python export_efficientnet_lite0.py --check         # compare torch vs onnxruntime on real photos, coffee top-5
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export_efficientnet_lite import main  # noqa: E402

if __name__ == "__main__":
    main()
