#!/usr/bin/env bash
# Lookalike: set up (idempotent), build the desktop app with its front end, and start it on the
# demo catalog. The first build takes several minutes; later runs start in seconds.
#
#   bash scripts/app.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
npm run tauri -- build --no-bundle
exec target/release/lookalike-app
