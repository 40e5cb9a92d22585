#!/usr/bin/env bash
# `make dist`: the pre-packaged binary archive PIE's `pre-packaged-binary` download method looks for
# in a release, for the PHP the extension was built against (the `php` on PATH, or $PHP):
#   target/dist/php_pantheon_secrets-VERSION_phpX.Y-ARCH-linux-LIBC[-debug]-nts.zip
# holding pantheon_secrets.so at its root. VERSION is the workspace version in Cargo.toml (the
# release tag), ARCH as PIE names it (x86_64, arm64), LIBC glibc or musl. One PHP build, one
# archive: run it once per PHP of the matrix. Then tools/dist-test.sh checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
ext=target/release/pantheon_secrets.so
out=target/dist

fail() { echo "tools/dist.sh: $*" >&2; exit 1; }

[ -f "$ext" ] || fail "$ext is missing: run make build"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
[ -n "$version" ] || fail "no version in Cargo.toml's [workspace.package]"
read -r php_version zts debug < <("$PHP" -n -r \
  'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION, " ", (int) PHP_ZTS, " ", (int) PHP_DEBUG, "\n";')
[ "$zts" = 0 ] || fail "$PHP is thread-safe (ZTS); composer.json says support-zts: false"
"$PHP" -n -d "extension=$PWD/$ext" -r 'extension_loaded("pantheon_secrets") or exit(1);' \
  || fail "$ext does not load into $PHP ($php_version): build it with that PHP"
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "no PIE name for the architecture $(uname -m)" ;;
esac
if ldd --version 2>&1 | grep -i musl > /dev/null; then libc=musl; else libc=glibc; fi
flavour=$libc
[ "$debug" = 1 ] && flavour=$libc-debug

name=php_pantheon_secrets-${version}_php${php_version}-${arch}-linux-${flavour}-nts.zip
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0644 "$ext" "$stage/pantheon_secrets.so"
mkdir -p "$out"
rm -f "$out/$name"
(cd "$stage" && zip -q -X archive.zip pantheon_secrets.so)
mv "$stage/archive.zip" "$out/$name"
echo "made $out/$name"
