#!/usr/bin/env bash
# Lookalike: set up (idempotent) and search the demo catalog from the terminal.
#
#   bash scripts/demo.sh              # a few shopper-style photos of demo products
#   bash scripts/demo.sh PHOTO...     # your own photos
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then
  # other views of demo products (not in the catalog) and a photo the catalog does not hold
  set -- .cache/demo-sources/queries/saleor-code-division-t-shirt--view2.png \
         .cache/demo-sources/queries/saleor-yellow-plimsolls--view2.png \
         tests/fixtures/coffee.png
fi
exec target/release/lookalike search --catalog catalog/demo "$@"
