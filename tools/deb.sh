#!/usr/bin/env bash
# `make deb`: the two Debian packages, made with cargo-deb from the release builds of `make build`
# and `make server` (cargo-deb does not build again):
#   pantheon-secrets_VERSION-1_ARCH.deb          the service: binary, systemd unit, maintainer scripts
#   phpX.Y-pantheon-secrets_VERSION-1_ARCH.deb   the extension for the PHP it was built against (the
#                                                `php` on PATH, or $PHP): the variant phpX.Y of
#                                                Cargo.toml's [package.metadata.deb]
# into target/debian/, and target/debian/packages.env naming them (SERVER_DEB, PHP_DEB, PHP_VERSION)
# for tools/package-test.sh. cargo-deb is installed with `cargo install --locked` when missing (it
# is a cargo subcommand, not a Debian package; a few minutes to compile). Checks that the package puts
# the extension where that PHP loads extensions from.
set -euo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
CARGO_DEB_VERSION=${CARGO_DEB_VERSION:-3.8.0}
ext=target/release/pantheon_secrets.so
server=target/release/pantheon-secrets
out=target/debian

fail() { echo "tools/deb.sh: $*" >&2; exit 1; }

if ! cargo deb --version > /dev/null 2>&1; then
  echo "Installing cargo-deb $CARGO_DEB_VERSION (cargo install --locked; this takes a few minutes)"
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi
[ -f "$ext" ] || fail "$ext is missing: run make build"
[ -x "$server" ] || fail "$server is missing: run make server"

read -r version extdir zts < <("$PHP" -n -r \
  'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION, " ", PHP_EXTENSION_DIR, " ", (int) PHP_ZTS, "\n";')
[ "$zts" = 0 ] || fail "$PHP is a thread-safe (ZTS) build; the packages are for NTS PHP only"
"$PHP" -n -d "extension=$PWD/$ext" -r 'extension_loaded("pantheon_secrets") or exit(1);' \
  || fail "$ext does not load into $PHP ($version): build it with that PHP (make build PHP=$PHP)"
variant=php$version
grep -qF "[package.metadata.deb.variants.\"$variant\"]" Cargo.toml \
  || fail "no Debian package for PHP $version: add [package.metadata.deb.variants.\"$variant\"] to Cargo.toml"

mkdir -p "$out"
rm -f "$out"/pantheon-secrets_*.deb "$out/$variant"-pantheon-secrets_*.deb "$out/packages.env"
server_deb=$(cargo deb --no-build -p pantheon-secrets-server --output "$out/" | tail -n 1)
php_deb=$(cargo deb --no-build -p pantheon_secrets --variant "$variant" --output "$out/" | tail -n 1)
for deb in "$server_deb" "$php_deb"; do
  [ -f "$deb" ] || fail "cargo deb did not say where it wrote the package (got '$deb')"
done
# The maintainer scripts as cargo-deb wrote them (with its systemd lines in place of #DEBHELPER#) parse.
scripts=$(mktemp -d)
trap 'rm -rf "$scripts"' EXIT
for deb in "$server_deb" "$php_deb"; do
  rm -rf "${scripts:?}"/*
  dpkg-deb -e "$deb" "$scripts"
  for script in preinst postinst prerm postrm; do
    [ ! -f "$scripts/$script" ] || sh -n "$scripts/$script" || fail "$deb: its $script does not parse"
  done
done
dpkg-deb -c "$php_deb" | grep " \./${extdir#/}/pantheon_secrets\.so$" > /dev/null \
  || fail "$php_deb does not put pantheon_secrets.so in $extdir, where PHP $version loads extensions from: fix the variant's assets in Cargo.toml"
printf 'SERVER_DEB=%s\nPHP_DEB=%s\nPHP_VERSION=%s\n' "$PWD/$server_deb" "$PWD/$php_deb" "$version" > "$out/packages.env"
echo "made $server_deb"
echo "made $php_deb"
