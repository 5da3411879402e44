#!/usr/bin/env bash
# The loading step of `scripts/run.sh --demo`: into a new data folder, the first city
# administrator (username and password printed once) and a demonstration round (three districts,
# a sample plan, about 375 synthetic interviews, some reviewed), so every dashboard page, the
# report and the item analysis have something to show. Needs the server built.
#
#   scripts/load-demo.sh DATA_DIR
# The server binary: $ZHISU_SERVER_BIN, else target/debug/zhisu-server (under $CARGO_TARGET_DIR
# when set).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: scripts/load-demo.sh DATA_DIR" >&2; exit 2; }
dir="$1"
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  echo "$dir is not empty: demonstration data goes only into a new folder" >&2
  exit 1
fi
bin="${ZHISU_SERVER_BIN:-${CARGO_TARGET_DIR:-target}/debug/zhisu-server}"
"$bin" --data-dir "$dir" --questionnaires questionnaires first-sign-in
"$bin" --data-dir "$dir" --questionnaires questionnaires load-demo
