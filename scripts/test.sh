#!/usr/bin/env bash
# Lookalike: run every check and test. Safe on a fresh clone: it runs the (idempotent) set-up first,
# because the tests use the real models, fixtures and demo catalog that set-up fetches and builds.
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== set-up (idempotent)"
bash scripts/setup.sh

echo "== format"
cargo fmt --all -- --check

echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== python syntax of the committed tools"
python3 -m py_compile scripts/*.py catalog/recipe/*.py models/export/*.py models/generated/*.py \
  bench/*.py bench/reference/*.py bench/queries/*.py tests/bad-inputs/*.py

echo "== cargo test"
cargo test --workspace

echo "== UI tests (headless Chromium, Tauri IPC mocked)"
npm run test:ui

echo "== desktop end to end (the real app under Xvfb, tauri-driver)"
bash scripts/test-desktop.sh

echo "== Android cross-check (cargo check --target aarch64-linux-android; skipped if the target is unavailable)"
bash scripts/check-android.sh
