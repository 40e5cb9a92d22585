#!/usr/bin/env bash
# Installs what the build and the tests need, when it is missing. Debian 12, as root.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have php || need+=(php8.2-cli)
have php-config || need+=(php8.2-dev)
[ -n "$(ls /usr/lib/php/*/build/run-tests.php 2>/dev/null)" ] || need+=(php8.2-dev)
[ -n "$(ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/x86_64-linux-gnu/libclang*.so* 2>/dev/null)" ] || need+=(libclang-dev)
have php-fpm8.2 || [ -x /usr/sbin/php-fpm8.2 ] || need+=(php8.2-fpm)
have cgi-fcgi || need+=(libfcgi-bin)
have phpunit || need+=(phpunit)
have openssl || need+=(openssl)
have curl || need+=(curl)
have nginx || [ -x /usr/sbin/nginx ] || need+=(nginx)
have wrk || need+=(wrk)
have composer || need+=(composer)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
[ -f /usr/share/wordpress/wp-load.php ] || need+=(wordpress)
have chromium || need+=(chromium)
[ -x /usr/bin/python3 ] || have python3 || need+=(python3)
php -m 2>/dev/null | grep -qx posix || need+=(php8.2-common)
php -m 2>/dev/null | grep -qx pcntl || need+=(php8.2-cli)

if [ ${#need[@]} -gt 0 ]; then
  echo "Installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
have cargo || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
