#!/bin/sh
# Builds the Yew frontend into frontend/dist without trunk: cargo (wasm32) + wasm-bindgen + static files.
# Usage: frontend/build.sh [--release]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
profile=debug
flag=""
if [ "${1:-}" = "--release" ]; then profile=release; flag=--release; fi
cd "$root"
cargo build -p zhisu-frontend --target wasm32-unknown-unknown $flag
out="$root/frontend/dist"
mkdir -p "$out.tmp"
wasm-bindgen --target web --no-typescript --out-dir "$out.tmp" \
  "${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/$profile/zhisu-frontend.wasm"
cp "$root"/frontend/static/* "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "frontend: built $out ($profile)"
