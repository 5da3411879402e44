#!/usr/bin/env bash
# Installs the server's .deb on this machine, starts the server as its systemd unit would, checks
# /healthz and an administrative command as the service's user, stops it gracefully (SIGTERM,
# exit 0), then removes (data kept) and purges (data, user gone) the package. Must run as root.
#
#   scripts/test-server-deb.sh BINARY      package BINARY first (crates/zhisu-server/tests/deb.rs
#                                          passes the debug build)
#   scripts/test-server-deb.sh --deb FILE  test a package already built
#
# Where systemd runs (PID 1), the unit itself is started with systemctl; elsewhere (containers,
# CI sandboxes) the unit's ExecStart runs as its User with its UMask and WorkingDirectory, and the
# unit file is checked with systemd-analyze verify.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "test-server-deb: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (it installs a package)"
work=$(mktemp -d)
cleanup() {
  if [ -n "${server_pid:-}" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  dpkg -P zhisu-server >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ "${1:-}" = --deb ]; then
  deb=$2
else
  ZHISU_DEB_COMPRESSION="gzip -z1" "$root/scripts/package-server.sh" --binary "$1" --out "$work"
  deb=$(ls "$work"/zhisu-server_*.deb)
fi
if dpkg-query -W -f='${Status}' zhisu-server 2>/dev/null | grep "install ok" >/dev/null; then
  trap - EXIT
  fail "a zhisu-server package is installed here already: not touching it"
fi
getent passwd zhisu >/dev/null && { trap - EXIT; fail "a user zhisu exists already: not touching it"; }

echo "== install"
dpkg -i "$deb" >/dev/null
getent passwd zhisu >/dev/null || fail "no user zhisu"
[ "$(stat -c '%U %a' /var/lib/zhisu)" = "zhisu 700" ] || fail "/var/lib/zhisu: $(stat -c '%U %a' /var/lib/zhisu)"
[ "$(stat -c '%U:%G %a' /etc/zhisu/server.toml)" = "root:zhisu 640" ] || fail "server.toml: $(stat -c '%U:%G %a' /etc/zhisu/server.toml)"
unit=/lib/systemd/system/zhisu-server.service
[ -f "$unit" ] || fail "no unit"
if command -v systemd-analyze >/dev/null; then
  # only problems of this unit count (the host's other units are not ours)
  verify=$(systemd-analyze verify "$unit" 2>&1 | grep -i zhisu || true)
  [ -z "$verify" ] || fail "systemd-analyze verify: $verify"
  echo "systemd-analyze verify: clean"
fi
for key in Restart=on-failure KillSignal=SIGTERM UMask=0077 NoNewPrivileges=true ProtectSystem=strict User=zhisu; do
  grep -qx "$key" "$unit" || fail "the unit lacks $key"
done

echo "== start as the service"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
log="$work/server.log"
if [ -d /run/systemd/system ]; then
  mkdir -p /etc/systemd/system/zhisu-server.service.d
  printf '[Service]\nEnvironment=ZHISU_LISTEN=127.0.0.1:%s\n' "$port" > /etc/systemd/system/zhisu-server.service.d/test.conf
  systemctl daemon-reload
  systemctl restart zhisu-server
else
  echo "(systemd is not PID 1 here: ExecStart runs as User=zhisu with UMask=0077)"
  # the unit's environment: its user, umask and folder; the log to a file, as journald gets it
  (cd /var/lib/zhisu && exec setpriv --reuid=zhisu --regid=zhisu --init-groups -- env -i PATH=/usr/bin:/bin ZHISU_LISTEN="127.0.0.1:$port" \
     sh -c "umask 0077; exec $exec_start") >/dev/null 2>"$log" &
  server_pid=$!
fi
for _ in $(seq 1 100); do
  health=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
  [ -n "$health" ] && break
  sleep 0.2
done
case "$health" in ok\ sqlite*) echo "/healthz: $health" ;; *) cat "$log" >&2 || true; fail "/healthz answered '$health'" ;; esac

echo "== administrative commands as the service's user, from anywhere"
added=$(cd / && ZHISU_PASSWORD="a long password for the test" runuser -u zhisu -- \
  /usr/bin/zhisu-server add-person --username admin --display-name 市疾控 --role city_admin)
[ "$added" = "added admin" ] || fail "add-person: $added"
if (cd / && ZHISU_PASSWORD=x /usr/bin/zhisu-server devices) 2>"$work/root.err"; then
  fail "root may not write the service's data"
fi
grep -q "sudo -u zhisu" "$work/root.err" || fail "root is not told what to do: $(cat "$work/root.err")"
bad=$(find /var/lib/zhisu -type f ! -perm 0600 -printf '%p %m\n')
[ -z "$bad" ] || fail "files not 0600: $bad"

echo "== graceful stop"
if [ -d /run/systemd/system ]; then
  systemctl stop zhisu-server
  journalctl -u zhisu-server --no-pager > "$log"
  rm -rf /etc/systemd/system/zhisu-server.service.d
else
  kill -TERM "$server_pid"
  status=0; wait "$server_pid" || status=$?
  server_pid=""
  [ "$status" = 0 ] || { cat "$log" >&2; fail "exit status $status after SIGTERM"; }
fi
grep -q "zhisu-server stopped" "$log" || { cat "$log" >&2; fail "no 'stopped' in the log"; }
if grep -q $'\e' "$log"; then fail "colour codes in the log"; fi

echo "== remove (data kept), purge (data and user gone)"
dpkg -r zhisu-server >/dev/null 2>"$work/remove.err"
[ -f /var/lib/zhisu/zhisu-server.sqlite3 ] || fail "remove deleted the data"
[ ! -e /usr/bin/zhisu-server ] || fail "remove left the binary"
dpkg -P zhisu-server >/dev/null
[ ! -e /var/lib/zhisu ] || fail "purge left /var/lib/zhisu"
[ ! -e /etc/zhisu/server.toml ] || fail "purge left the configuration"
if getent passwd zhisu >/dev/null; then fail "purge left the user zhisu"; fi
echo "test-server-deb: 1 passed, 0 failed"
