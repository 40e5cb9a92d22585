#!/usr/bin/env bash
# `make package-test`: the packages of `make deb` (target/debian/packages.env names them), installed
# with `dpkg -i` into a brand-new Debian root (tools/root.sh; PHP CLI, adduser, init-system-helpers and
# curl are all it has besides the minimal system), and checked there by tools/package-check.sh (which
# says what it checks; `make fresh` runs the same checks as its last step, in its own root).
# Before that, where the host has systemd-analyze, `systemd-analyze verify` reads the unit.
# The root is always removed. Output: target/package-test/ (the log of the steps inside, mmdebstrap's).
# Environment: PACKAGE_TEST_SUITE (default bookworm), PACKAGE_TEST_MIRROR (http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/root.sh
. tools/root.sh
[ "$(id -u)" = 0 ] || { echo "make package-test runs as root (mmdebstrap, mount, chroot)" >&2; exit 1; }
[ -f target/debian/packages.env ] || { echo "no target/debian/packages.env: run make deb" >&2; exit 1; }
# shellcheck disable=SC1091
. target/debian/packages.env
suite=${PACKAGE_TEST_SUITE:-bookworm}
mirror=${PACKAGE_TEST_MIRROR:-http://deb.debian.org/debian}
out=$PWD/target/package-test
mkdir -p "$out"
rm -f "$out"/*.log
started=$(date +%s)

root_new package-test
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  root_remove "make package-test" || rc=1
  echo "== package-test: $(( $(date +%s) - started )) s; logs in target/package-test/"
  if [ "$rc" = 0 ]; then echo "package-test: passed"; else echo "package-test: FAILED"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The unit as systemd reads it, where the host has systemd-analyze (the root has no systemd).
if command -v systemd-analyze > /dev/null; then
  unpacked=$(mktemp -d)
  dpkg-deb -x "$SERVER_DEB" "$unpacked"
  unit=$unpacked/usr/lib/systemd/system/pantheon-secrets.service
  sed -i "s|/usr/bin/pantheon-secrets|$unpacked/usr/bin/pantheon-secrets|" "$unit"
  systemd-analyze verify "$unit" || { rm -rf "$unpacked"; echo "package-test: FAILED: systemd-analyze verify"; exit 1; }
  rm -rf "$unpacked"
  echo "package-test: ok: systemd-analyze verify accepts pantheon-secrets.service"
fi

echo "== package-test: a new Debian $suite root in $root, with php$PHP_VERSION-cli"
root_debootstrap "$suite" "$mirror" "php$PHP_VERSION-cli,adduser,init-system-helpers,curl" "$out/mmdebstrap.log" || exit 1
root_mount
mkdir -p "$root/root/debs"
cp "$SERVER_DEB" "$PHP_DEB" "$root/root/debs/"


echo "== package-test: installing $(basename "$SERVER_DEB") and $(basename "$PHP_DEB")"
install -m 0755 tools/package-check.sh "$root/root/package-check.sh"
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PHP_VERSION="$PHP_VERSION" \
  SERVER_DEB="/root/debs/$(basename "$SERVER_DEB")" PHP_DEB="/root/debs/$(basename "$PHP_DEB")" \
  /root/package-check.sh < /dev/null 2>&1 | tee "$out/package-test.log"
