#!/usr/bin/env bash
# Installs whatever is missing, builds everything and runs every test, end-to-end tests included
# (under a virtual X server). Safe to run again; fast when everything is installed and built.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PATH="$PWD/node_modules/.bin:$PATH"

step() {
  local start=$SECONDS
  echo "=== $*"
  "$@"
  echo "=== $((SECONDS - start))s: $*"
}

# 1. The webview's frontend (wasm). The app embeds frontend/dist, so it comes first.
step frontend/build.sh
# 2. Every native crate and test target in one build (the app binary included), so the test run
#    below compiles nothing new.
step cargo build --workspace --exclude zhisu-frontend --all-targets
# 3. Unit, integration and end-to-end tests. The end-to-end tests drive the real app through
#    tauri-driver and WebKitWebDriver, so they need an X display: xvfb-run provides one.
step xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test --workspace --exclude zhisu-frontend
# 4. Windows: the key file's DPAPI protection, cross-compiled and run under Wine.
step scripts/test-windows.sh
# 5. The fuzz targets (questionnaire files, expressions, uploads), 20 s each from the committed
#    corpora; long runs: scripts/fuzz.sh --seconds N.
step scripts/fuzz.sh
