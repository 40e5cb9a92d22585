#!/usr/bin/env bash
# Runs every suite (Rust units, the .phpt suite on the built extension, PHPUnit suites, every figure
# of make bench at tiny sizes, the stack on loopback, and the runner's own self-test) and ends with one line
# that counts them all: `N passed, N failed[, N skipped]`.
# A suite counts as failed when it fails, when it does not build, when it crashes, and when it runs
# no test at all: a pass is only counted where one was seen.
# Environment: EXT, SERVER, PHP (what to test); SUITES (a subset of: cargo phpt phpunit bench e2e
# apache wordpress selftest; default all); PHPT (the .phpt files or folders, default php-tests/);
# CARGO_TEST_ARGS (default: the workspace but the extension, which is tested through PHP).
set -uo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
EXT=${EXT:-$PWD/target/release/pantheon_secrets.so}
SERVER=${SERVER:-$PWD/target/release/pantheon-secrets}
SUITES=" ${SUITES:-cargo phpt phpunit bench e2e replicas apache wordpress selftest} "
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0 failed=0 skipped=0 status=0

count() { # name passed failed skipped
  echo "== $1: $2 passed, $3 failed, $4 skipped"
  passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
  [ "$3" -eq 0 ] || status=1
}
wanted() { [[ "$SUITES" == *" $1 "* ]]; }
# A suite that exited non-zero, or saw no test, has failed at least once.
at_least_one_failure() { # exit-status passed failed
  if [ "$1" -ne 0 ] && [ "$3" -eq 0 ]; then echo 1; elif [ "$2" -eq 0 ] && [ "$3" -eq 0 ]; then echo 1; else echo "$3"; fi
}

# Every PHP started below loads the build under test, also where `make install` put a copy in PHP's
# configuration; the .phpt suite checks that the extension it runs is $EXT.
. tools/php-env.sh
php_without_installed "$log/conf.d" || exit 1
export PANTHEON_SECRETS_EXT_UNDER_TEST=$EXT

if wanted cargo; then
  echo "== cargo test"
  read -r -a cargo_args <<< "${CARGO_TEST_ARGS:---workspace --exclude pantheon_secrets}"
  cargo test "${cargo_args[@]}" --no-fail-fast > "$log/cargo" 2>&1
  rc=$?
  grep -E "^test result|FAILED|panicked|^error" "$log/cargo"
  read -r p f i < <(awk '/^test result:/ { for (k = 1; k <= NF; k++) { if ($k ~ /^passed/) p += $(k-1); if ($k ~ /^failed/) f += $(k-1); if ($k ~ /^ignored/) i += $(k-1) } } END { print p+0, f+0, i+0 }' "$log/cargo")
  f=$(at_least_one_failure "$rc" "$p" "$f")
  [ "$rc" -eq 0 ] || tail -n 40 "$log/cargo"
  count "cargo test" "$p" "$f" "$i"
fi

if wanted phpt; then
  echo "== run-tests.php (${PHPT:-php-tests/})"
  run_tests=$(ls /usr/lib/php/*/build/run-tests.php 2> /dev/null | head -n1)
  read -r -a phpt <<< "${PHPT:-php-tests/}"
  if [ -z "$run_tests" ]; then
    echo "run-tests.php is missing (make deps installs the PHP headers package that has it)" > "$log/phpt"
    rc=1
  else
    NO_INTERACTION=1 TEST_PHP_EXECUTABLE=$(command -v "$PHP") "$PHP" "$run_tests" -q -j2 --show-diff \
      -d "extension=$EXT" "${phpt[@]}" > "$log/phpt" 2>&1
    rc=$?
  fi
  grep -E "^(FAIL|SKIP|BORK|LEAK)|^Tests (passed|failed|skipped)" "$log/phpt"
  field() { awk -v k="$1" '$0 ~ "^Tests " k { for (n = 1; n <= NF; n++) if ($n ~ /^[0-9]+$/) { print $n; exit } }' "$log/phpt"; }
  p=$(field passed) f=$(field failed) s=$(field skipped)
  borked=$(grep -c "^BORK" "$log/phpt")
  p=${p:-0} f=$((${f:-0} + borked)) s=${s:-0}
  f=$(at_least_one_failure "$rc" "$p" "$f")
  [ "$f" -eq 0 ] || { sed -n '/^=\+$/,$p' "$log/phpt" | grep -v "^$" | head -200; [ -n "$(field passed)" ] || tail -n 30 "$log/phpt"; }
  count "phpt" "$p" "$f" "$s"
fi

# PHPUnit suites of the sample applications.
if wanted phpunit; then
  for suite in php-tests/phpunit/*/phpunit.xml; do
    [ -f "$suite" ] || continue
    echo "== phpunit $(dirname "$suite")"
    if command -v phpunit > /dev/null; then
      "$PHP" -d "extension=$EXT" -d pantheon_secrets.allow_mock=1 "$(command -v phpunit)" -c "$suite" > "$log/phpunit" 2>&1
      rc=$?
    else
      echo "phpunit is missing (make deps installs it)" > "$log/phpunit"
      rc=1
    fi
    tail -n 30 "$log/phpunit"
    read -r p f s < <(awk '/^OK \(/ { gsub(/[(,]/, " "); print $2, 0, 0; found = 1 }
      /^Tests: / { gsub(/[,.]/, ""); t = 0; fl = 0; e = 0; sk = 0
        for (n = 1; n < NF; n++) { if ($n == "Tests:") t = $(n+1); if ($n == "Failures:") fl = $(n+1); if ($n == "Errors:") e = $(n+1); if ($n == "Skipped:") sk = $(n+1) }
        print t - fl - e - sk, fl + e, sk; found = 1 }
      END { if (!found) print 0, 1, 0 }' "$log/phpunit")
    f=$(at_least_one_failure "$rc" "$p" "$f")
    count "phpunit" "$p" "$f" "$s"
  done
fi

# Every figure of `make bench` runs, at tiny sizes (BENCH_SMOKE; the figures are never checked).
if wanted bench; then
  echo "== bench (smoke: every figure at tiny sizes)"
  BENCH_SMOKE=1 BENCH_REPORT="$log/bench-report.md" EXT=$EXT SERVER=$SERVER PHP=$PHP bench/run.sh > "$log/bench" 2>&1
  rc=$?
  grep -E "^(ok|not ok) " "$log/bench"
  p=$(grep -c "^ok " "$log/bench") f=$(grep -c "^not ok " "$log/bench")
  [ "$rc" -eq 0 ] || tail -n 30 "$log/bench"
  f=$(at_least_one_failure "$rc" "$p" "$f")
  count "bench (smoke)" "$p" "$f" 0
fi

# A script that prints `ok - …` / `not ok - …` lines, run when the tools it needs are installed.
run_checks() { # name script needs…
  local name=$1 script=$2 tool
  shift 2
  for tool in "$@"; do
    if ! PATH=$PATH:/usr/sbin command -v "$tool" > /dev/null 2>&1 && [ ! -e "$tool" ]; then
      echo "== $name skipped: $tool is not installed (make e2e installs it)"
      count "$name" 0 0 1
      return
    fi
  done
  echo "== $name"
  PATH=$PATH:/usr/sbin "$script" "$EXT" "$SERVER" > "$log/$name" 2>&1
  local rc=$? p f
  grep -E "^(ok|not ok|#) " "$log/$name"
  p=$(grep -c "^ok " "$log/$name") f=$(grep -c "^not ok " "$log/$name")
  [ "$rc" -eq 0 ] || tail -n 30 "$log/$name"
  f=$(at_least_one_failure "$rc" "$p" "$f")
  count "$name" "$p" "$f" 0
}
wanted e2e && run_checks "e2e (service, nginx, PHP-FPM)" e2e/run.sh nginx
wanted replicas && run_checks "e2e (two replicas on PostgreSQL, HAProxy)" e2e/replicas.sh nginx haproxy ab \
  "$(ls -d /usr/lib/postgresql/*/bin/initdb 2> /dev/null | sort -V | tail -n1)"
wanted apache && run_checks "e2e (Apache prefork, mod_php)" e2e/apache.sh /usr/sbin/apache2 ab \
  "/usr/lib/apache2/modules/libphp$("$PHP" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;').so"
wanted wordpress && run_checks "e2e (WordPress, headless Chromium)" e2e/wordpress.sh nginx mariadbd chromium node /usr/share/wordpress/wp-load.php
wanted selftest && run_checks "runner self-test" tools/test-selftest.sh

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] || status=1
exit "$status"
