#!/usr/bin/env bash
# Installs whatever is missing, then runs the product: the central server on embedded SQLite
# (data in ./data/server, listening on 127.0.0.1:8470) and the desktop app pointed at it.
# Stop with Ctrl-C (or by closing the app window): the server stops with it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PATH="$PWD/node_modules/.bin:$PATH"

listen="${ZHISU_LISTEN:-127.0.0.1:8470}"
frontend/build.sh
cargo build -p zhisu-server -p zhisu-app

mkdir -p data/server
target/debug/zhisu-server --listen "$listen" --data-dir data/server --questionnaires questionnaires &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "zhisu-server: http://$listen (data in data/server)"

# A one-time code to enrol the app (the first screen asks for it), valid for a day.
code=$(target/debug/zhisu-server --data-dir data/server --questionnaires questionnaires \
  enrolment-code --round "$(date +%Y)" --district demo --valid-days 1 2>/dev/null)
echo
echo "  Enrol the app with this code: $code"
echo "  (add a person who signs in to the server: target/debug/zhisu-server add-person --help)"
echo

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "no display found: starting the app under a virtual X server (xvfb-run)" >&2
  ZHISU_SERVER_URL="http://$listen" xvfb-run -a -s "-screen 0 1280x800x24" target/debug/zhisu-app
else
  ZHISU_SERVER_URL="http://$listen" target/debug/zhisu-app
fi
