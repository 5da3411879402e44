#!/usr/bin/env bash
# The Windows parts that can be tested on this machine: the key file's DPAPI protection
# (crates/zhisu-keyguard), cross-compiled for x86_64-pc-windows-gnu with Debian's mingw-w64 and
# run under Wine. Wine 8 lacks bcryptprimitives.dll (Rust's random source on Windows): a
# stand-in built from crates/zhisu-keyguard/wine/ goes into the test's own Wine prefix.
# Needs: rustup target x86_64-pc-windows-gnu, gcc-mingw-w64-x86-64, wine (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
export WINEPREFIX="$target_dir/wine-prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine)
if [ ! -f "$WINEPREFIX/drive_c/windows/system32/kernel32.dll" ]; then
  mkdir -p "$WINEPREFIX"
  # the first start makes the prefix; it may complain about a missing display
  DISPLAY= "$wine" cmd /c exit >/dev/null 2>&1 || true
fi
x86_64-w64-mingw32-gcc -O2 -shared \
  -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  crates/zhisu-keyguard/wine/bcryptprimitives.c crates/zhisu-keyguard/wine/bcryptprimitives.def \
  -ladvapi32
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
DISPLAY= cargo test -p zhisu-keyguard --target x86_64-pc-windows-gnu
# the Windows-only module (the DPAPI calls) is not compiled on Linux: lint it for Windows too
cargo clippy -p zhisu-keyguard --target x86_64-pc-windows-gnu --all-targets -- -D warnings
