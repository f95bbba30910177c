#!/usr/bin/env bash
# Lookalike front end set-up (the app part of scripts/setup.sh; safe to run on its own and again).
#
#   bash scripts/setup-ui.sh
#
#   1. Debian's chromium for the headless UI tests, when /usr/bin/chromium is missing
#      (apt-get update + apt-get install --no-install-recommends chromium; root or sudo).
#      playwright-core drives it; `npx playwright install` is never used.
#   2. `npm ci` when node_modules is missing or older than package-lock.json.
#
# Set LOOKALIKE_SKIP_CHROMIUM=1 to skip step 1 (e.g. a machine that only builds the UI).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "setup-ui: $*"; }

# --- 1. chromium -------------------------------------------------------------------------------
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
case "${LOOKALIKE_SKIP_CHROMIUM:-0}" in
  1|true|yes|on) say "skipping chromium (LOOKALIKE_SKIP_CHROMIUM)" ;;
  *)
    if [ -x "$CHROMIUM" ]; then
      say "chromium present ($CHROMIUM)"
    else
      if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
      elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
      else
        say "$CHROMIUM is missing and this user cannot install packages: run as root, or" >&2
        say "  apt-get update && apt-get install -y --no-install-recommends chromium" >&2
        exit 1
      fi
      say "installing Debian chromium (for the UI tests)"
      export DEBIAN_FRONTEND=noninteractive
      "${SUDO[@]}" apt-get update -qq
      # wait for another apt-get (e.g. a parallel set-up step) instead of failing on the lock
      "${SUDO[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends chromium
      [ -x "$CHROMIUM" ] || { say "chromium installed but $CHROMIUM is missing" >&2; exit 1; }
    fi
    ;;
esac

# --- 2. npm packages ---------------------------------------------------------------------------
command -v npm >/dev/null 2>&1 || { say "npm is missing (Node.js >= 20.19 is needed)" >&2; exit 1; }
NODE_VERSION="$(node -p 'process.versions.node')"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || say "warning: Node.js $NODE_VERSION is older than 20.19 (Vite 7 needs 20.19+ or 22.12+)" >&2

STAMP=node_modules/.package-lock.json # npm rewrites it on every install
if [ ! -d node_modules ] || [ ! -f "$STAMP" ] || [ package-lock.json -nt "$STAMP" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
  touch "$STAMP"
else
  say "node_modules up to date"
fi
