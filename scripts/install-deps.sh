#!/usr/bin/env bash
# Installs whatever is missing to build, run and test Zhisu on Debian/Ubuntu.
# Idempotent: every step checks first, so a second run takes a few seconds.
# Versions are pinned so every machine gets the same tools (see ../shared/toolchain.md).
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate pinned in frontend/Cargo.toml
TAURI_DRIVER_VERSION=2.1.0
CARGO_FUZZ_VERSION=0.13.2      # scripts/fuzz.sh: the fuzz targets, on the stable toolchain

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_packages=(
  # Tauri v2 build (pulls gtk-3, soup-3, javascriptcoregtk)
  libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev
  # headless run and end-to-end tests: X server, WebKitWebDriver, screenshots
  xvfb xauth webkit2gtk-driver imagemagick
  # Chinese text in the webview and in screenshots
  fonts-wqy-zenhei
  # PostgreSQL server binaries: the server's tests start their own PostgreSQL from them
  postgresql
  # the dashboard's browser tests: headless Chromium driven through chromedriver
  chromium chromium-driver
  # the annual report's test renders the DOCX as PDF (LibreOffice Writer, no GUI) and its first
  # pages as PNG (pdftoppm); the report's charts use the CJK font above
  libreoffice-writer-nogui poppler-utils
  # python3: the sync protocol's reference client (clients/python, standard library only), run
  # by `cargo test`; the P4 benchmark times the same report in pandas (pandas from pip)
  python3 python3-venv
  # Node for the Tauri CLI (npm package)
  nodejs npm
  curl ca-certificates
  # the server package's tests: certificates for PostgreSQL over TLS (openssl), the guide's
  # SQLite backup (sqlite3), the .deb's user and unprivileged start (adduser, util-linux)
  openssl sqlite3 adduser util-linux
  # the Windows key protection (DPAPI) cross-compiled and run under Wine (scripts/test-windows.sh)
  gcc-mingw-w64-x86-64-win32 wine wine64
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere (nodesource, nvm): do not ask apt for it then.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  read -r -a missing <<<"${missing[*]}"
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "install-deps: installing Rust (rustup)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  # no --locked: its lockfile pins a crate version the registry no longer serves
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! command -v tauri-driver >/dev/null || [ "$(tauri-driver --version 2>/dev/null | awk '{print $2}')" != "$TAURI_DRIVER_VERSION" ]; then
  cargo install --locked tauri-driver --version "$TAURI_DRIVER_VERSION"
fi

if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

if [ "$(node_modules/.bin/tauri --version 2>/dev/null)" != "tauri-cli 2.12.5" ] || [ ! -f node_modules/axe-core/axe.min.js ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "install-deps: all present"
