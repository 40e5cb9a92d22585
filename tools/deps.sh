#!/usr/bin/env bash
# Installs the Debian packages that a target needs and this machine lacks, in one `apt-get install`.
#   tools/deps.sh SET…        SET is one of:
#     build  what `make build`, `make server`, `make install` and `make run` need
#     test   what `make test` adds (PHP-FPM, php-cgi, cgi-fcgi, phpunit, nginx, the TLS test server,
#            wrk, valgrind for the instruction counts, the PostgreSQL server the store's tests and
#            e2e/replicas.sh start a throwaway instance of, HAProxy in front of that script's replicas)
#     e2e    what the WordPress check of `make e2e` adds (a browser, a database, WordPress, Composer)
#     fresh  what `make fresh` and `make package-test` need on the host (mmdebstrap, git)
#     deb    what `make deb` adds (dpkg-shlibdeps, for cargo-deb's computed dependencies; cargo-deb
#            itself is a cargo subcommand, which tools/deb.sh installs with cargo)
#     dist   what `make dist` adds (zip, unzip, and Composer to validate composer.json)
#   tools/deps.sh --list SET…  prints the packages of those sets, one per line, and installs nothing
# A package counts as present only when dpkg says it is installed: files that happen to exist (say
# libclang-cpp14, which is not the libclang that bindgen loads) never stand in for a package.
# PHP_VERSION picks the PHP to build against (default: the one this Debian release ships).
set -euo pipefail

php_version() {
  if [ -n "${PHP_VERSION:-}" ]; then echo "$PHP_VERSION"; return; fi
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  case "$codename" in
    bookworm) echo 8.2 ;;
    trixie) echo 8.4 ;;
    *) echo "tools/deps.sh: unknown Debian release '$codename': set PHP_VERSION" >&2; exit 2 ;;
  esac
}

# The PostgreSQL server this Debian release ships (the tests find it in /usr/lib/postgresql/*/bin).
postgresql_version() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  case "$codename" in
    bookworm) echo 15 ;;
    trixie) echo 17 ;;
    *) echo "tools/deps.sh: unknown Debian release '$codename'" >&2; exit 2 ;;
  esac
}

packages() { # set
  local v pg
  v=$(php_version)
  pg=$(postgresql_version)
  case "$1" in
    # php-cli and its headers (php-config, run-tests.php), libclang for bindgen, a C compiler for
    # the crates that build C (ring, the bundled SQLite); curl shows the runtime answer in make run.
    build) echo "php$v-cli php$v-dev libclang-dev gcc libc6-dev curl" ;;
    # posix and pcntl come with php-cli; python3 runs the TLS test server of php-tests/tls.
    # Apache prefork with mod_php (and ab) for e2e/apache.sh. postgresql-NN for the store's tests on
    # PostgreSQL and e2e/replicas.sh (they start a server of their own; the package's cluster is not
    # used); haproxy in front of that script's two replicas.
    test) echo "php$v-fpm php$v-cgi valgrind libfcgi-bin phpunit nginx openssl python3 wrk procps apache2 libapache2-mod-php$v apache2-utils postgresql-$pg haproxy" ;;
    e2e) echo "mariadb-server wordpress chromium composer" ;;
    fresh) echo "mmdebstrap git" ;;
    deb) echo "dpkg-dev" ;;
    dist) echo "zip unzip composer" ;;
    *) echo "tools/deps.sh: unknown set '$1' (build, test, e2e, fresh, deb, dist)" >&2; exit 2 ;;
  esac
}

installed() { # package: dpkg's own record, not the presence of a file
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

list=0
if [ "${1:-}" = --list ]; then list=1; shift; fi
[ $# -gt 0 ] || set -- build
wanted=()
for set in "$@"; do
  read -r -a pkgs <<< "$(packages "$set")"
  wanted+=("${pkgs[@]}")
done
if [ "$list" = 1 ]; then printf '%s\n' "${wanted[@]}"; exit 0; fi

need=()
for pkg in "${wanted[@]}"; do
  installed "$pkg" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tools/deps.sh: missing Debian packages: ${need[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "Installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" < /dev/null > /dev/null
  for pkg in "${need[@]}"; do
    installed "$pkg" || { echo "tools/deps.sh: $pkg did not install" >&2; exit 1; }
  done
fi
command -v cargo > /dev/null || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
