#!/usr/bin/env bash
# Builds the server's Debian package: target/zhisu-server_VERSION_amd64.deb.
#
#   scripts/package-server.sh                 static build (musl): one binary for old and new
#                                             distributions (Kylin V10, UOS 20, CentOS 7-era too)
#   scripts/package-server.sh --gnu           release build against this machine's glibc
#   scripts/package-server.sh --binary FILE   package a binary already built (the CI test does,
#                                             with the debug build)
#   --out DIR                                 where the .deb goes [default: target]
#
# The package: /usr/bin/zhisu-server (the questionnaires are built into it), /etc/zhisu/server.toml
# (a conffile), the systemd unit, the deployment guide; its scripts create the system user zhisu
# and /var/lib/zhisu (0700). Measured: the cold static release build took 1,433 s (24 min) on 2
# cores shared with other builds; the binary is a 17 MiB static-pie, the package 8 MiB. Too long
# for every CI run: CI packages the debug build (crates/zhisu-server/tests/deb.rs) instead.
# Needs dpkg-deb; the musl build needs
# `rustup target add x86_64-unknown-linux-musl` and musl-tools (scripts/install-deps.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
mode=musl
binary=""
out="$target_dir"
while [ $# -gt 0 ]; do
  case "$1" in
    --gnu) mode=gnu ;;
    --binary) binary=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--gnu | --binary FILE] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$binary" ]; then
  start=$SECONDS
  if [ "$mode" = musl ]; then
    cargo build --release -p zhisu-server --target x86_64-unknown-linux-musl
    binary="$target_dir/x86_64-unknown-linux-musl/release/zhisu-server"
  else
    cargo build --release -p zhisu-server
    binary="$target_dir/release/zhisu-server"
  fi
  echo "package-server: $mode build in $((SECONDS - start)) s"
fi
# (no reader that stops early in a pipeline: under pipefail its writer's SIGPIPE fails the script)
version=$(sed -n 's/^version = "\(.*\)"/\1/p;T;q' Cargo.toml)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/zhisu-server"
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/etc/zhisu" "$pkg/lib/systemd/system" \
  "$pkg/usr/share/doc/zhisu-server"
install -m 0755 "$binary" "$pkg/usr/bin/zhisu-server"
strip "$pkg/usr/bin/zhisu-server" 2>/dev/null || true
install -m 0640 packaging/server/server.toml "$pkg/etc/zhisu/server.toml"
install -m 0644 packaging/server/zhisu-server.service "$pkg/lib/systemd/system/zhisu-server.service"
install -m 0644 docs/deployment.md "$pkg/usr/share/doc/zhisu-server/deployment.md"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/server/$script" "$pkg/DEBIAN/$script"
done
echo /etc/zhisu/server.toml > "$pkg/DEBIAN/conffiles"
# a static binary needs no library; a glibc one needs the glibc it was built against
depends="adduser"
if ldd "$binary" 2>/dev/null | grep "=>" >/dev/null; then
  glibc=$(ldd --version | awk 'NR == 1 {print $NF}')
  depends="$depends, libc6 (>= $glibc)"
fi
size=$(du -sk "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: zhisu-server
Version: $version
Architecture: amd64
Maintainer: Zhisu developers <zhisu@localhost>
Depends: $depends
Recommends: nginx | apache2
Suggests: postgresql, sqlite3
Installed-Size: $size
Section: science
Priority: optional
Description: Zhisu central server (职素 occupational health literacy monitoring)
 Enrols survey tablets, receives their interviews, checks and re-scores them,
 and serves the dashboard and reports by role. Runs as the service
 zhisu-server under the system user zhisu, with its data in /var/lib/zhisu.
CONTROL
mkdir -p "$out"
deb="$out/zhisu-server_${version}_amd64.deb"
# ZHISU_DEB_COMPRESSION: "gzip -z1" for a quick test package [default: xz]
# shellcheck disable=SC2086
dpkg-deb --root-owner-group -Z${ZHISU_DEB_COMPRESSION:-xz} --build "$pkg" "$deb" >/dev/null
echo "package-server: $deb ($(du -h "$deb" | cut -f1))"
