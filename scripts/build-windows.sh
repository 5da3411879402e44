#!/usr/bin/env bash
# Builds the surveyor's app for Windows (x86_64) on this Debian/Ubuntu machine, with Debian's
# mingw-w64: the SQLCipher store with a vendored OpenSSL (no OpenSSL on a Windows tablet), the
# webview embedded by WebView2 (Edge's runtime, on every Windows 10/11), the frontend embedded.
# Not part of the test command (a cold build takes 20+ minutes on 2 cores); docs/windows.md says
# how it was checked and how to make the installer on Windows.
#
#   scripts/build-windows.sh [--release]
#
# Needs what scripts/install-deps.sh installs: rustup target x86_64-pc-windows-gnu,
# gcc-mingw-w64-x86-64, perl and make (OpenSSL's build).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
profile=debug
args=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  args+=(--release)
fi
frontend/build.sh "${args[@]}"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
cargo build -p zhisu-app --bin zhisu-app --target x86_64-pc-windows-gnu \
  --features zhisu-store/vendored-openssl "${args[@]}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
out="$target_dir/x86_64-pc-windows-gnu/$profile"
# the WebView2 loader goes beside the program (webview2-com-sys's build unpacks it)
loader=$(find "$target_dir/x86_64-pc-windows-gnu/$profile/build" -path '*webview2-com-sys*/out/x64/WebView2Loader.dll' | head -n 1)
cp "$loader" "$out/"
echo "built $out/zhisu-app.exe (with WebView2Loader.dll beside it)"
