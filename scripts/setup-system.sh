#!/usr/bin/env bash
# Debian packages the desktop app needs to build (Tauri 2 / WebKitGTK) and to be tested
# (Xvfb, WebKitWebDriver), plus tauri-driver from crates.io. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PKGS=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev
      libsoup-3.0-dev libjavascriptcoregtk-4.1-dev build-essential pkg-config file patchelf
      xvfb xauth webkit2gtk-driver)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "system: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
else
  echo "system: Tauri build and test packages present"
fi

# tauri-driver (WebDriver bridge for the desktop end-to-end test), pinned
TAURI_DRIVER_VERSION=2.1.0
# (tauri-driver has no --version: ask cargo which version it installed)
if command -v tauri-driver >/dev/null \
   && cargo install --list 2>/dev/null | grep -qx "tauri-driver v$TAURI_DRIVER_VERSION:"; then
  echo "system: tauri-driver $TAURI_DRIVER_VERSION present"
else
  echo "system: cargo install tauri-driver@$TAURI_DRIVER_VERSION"
  cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked
fi
