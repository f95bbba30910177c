#!/usr/bin/env bash
# End-to-end test of the real desktop app under Xvfb: builds the Tauri binary with the bundled
# front end (tauri build --debug --no-bundle), then drives it with tauri-driver + WebKitWebDriver.
# Screenshots land in tests/desktop/artifacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run tauri -- build --debug --no-bundle
TAURI_DRIVER="$(command -v tauri-driver)" LOOKALIKE_APP="$PWD/target/debug/lookalike-app" \
  xvfb-run -a node --test --test-timeout=240000 tests/desktop/e2e.mjs
