#!/usr/bin/env bash
# Lookalike: every check and test, after the (idempotent) set-up: `cargo xtask test` (see
# `cargo xtask test --help`). Kept so that `bash scripts/test.sh` works as it always did.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo xtask test "$@"
