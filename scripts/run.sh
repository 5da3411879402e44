#!/usr/bin/env bash
# Installs whatever is missing, then runs the product: the central server on embedded SQLite
# (data in ./data/server, listening on 127.0.0.1:8470) and the desktop app pointed at it.
# Stop with Ctrl-C (or by closing the app window): the server stops with it.
#
#   scripts/run.sh          the product; on the first run it prints the dashboard's first sign-in
#   scripts/run.sh --demo   the same on a demonstration round (data in ./data/demo, loaded afresh
#                           each time: scripts/load-demo.sh), so every page has figures
set -euo pipefail
demo=false
case "${1:-}" in
  --demo) demo=true ;;
  "") ;;
  *) echo "usage: scripts/run.sh [--demo]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PATH="$PWD/node_modules/.bin:$PATH"

listen="${ZHISU_LISTEN:-127.0.0.1:8470}"
frontend/build.sh
cargo build -p zhisu-server -p zhisu-app

data=data/server
district=demo
if $demo; then
  data=data/demo
  district=yuzhong
  rm -rf data/demo
  echo
  echo "  演示数据 Demonstration round (synthetic interviews, not real people):"
  scripts/load-demo.sh "$data"
else
  mkdir -p "$data"
  # the first sign-in of a new server (printed once; nothing when people exist)
  target/debug/zhisu-server --data-dir "$data" --questionnaires questionnaires first-sign-in
fi
# the round's key pair, before the server starts (it loads the keys then); made once
[ -f "$data/round-keys/$(date +%Y).key" ] ||
  target/debug/zhisu-server --data-dir "$data" --questionnaires questionnaires \
    round-key --round "$(date +%Y)"
target/debug/zhisu-server --listen "$listen" --data-dir "$data" --questionnaires questionnaires &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "zhisu-server: http://$listen (data in $data)"
echo "  监测看板 Dashboard: http://$listen/dashboard (sign in as admin with the password printed on the first run,"
echo "  or a person added with: target/debug/zhisu-server --data-dir $data add-person --help)"

# A one-time code to enrol the app (the first screen asks for it), valid for a day.
code=$(target/debug/zhisu-server --data-dir "$data" --questionnaires questionnaires \
  enrolment-code --round "$(date +%Y)" --district "$district" --valid-days 1 2>/dev/null)
echo
echo "  Enrol the app with this code: $code"
echo

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "no display found: starting the app under a virtual X server (xvfb-run)" >&2
  ZHISU_SERVER_URL="http://$listen" xvfb-run -a -s "-screen 0 1280x800x24" target/debug/zhisu-app
else
  ZHISU_SERVER_URL="http://$listen" target/debug/zhisu-app
fi
