#!/usr/bin/env bash
# Runs every suite (Rust units, the .phpt suite on the built extension, PHPUnit suites) and ends
# with one line that counts them all: `N passed, N failed[, N skipped]`.
set -uo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
EXT=${EXT:-$PWD/target/release/pantheon_secrets.so}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0 failed=0 skipped=0 status=0

count() { # name file passed failed skipped
  echo "== $1: $3 passed, $4 failed, $5 skipped"
  passed=$((passed + $3)) failed=$((failed + $4)) skipped=$((skipped + $5))
}

# Rust: every crate but the extension itself (which is tested through PHP below).
echo "== cargo test"
cargo test --workspace --exclude pantheon_secrets 2>&1 | tee "$log/cargo" | grep -E "^test result|FAILED|panicked" || true
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
read -r p f i < <(awk '/^test result:/ { for (k = 1; k <= NF; k++) { if ($k ~ /^passed/) p += $(k-1); if ($k ~ /^failed/) f += $(k-1); if ($k ~ /^ignored/) i += $(k-1) } } END { print p+0, f+0, i+0 }' "$log/cargo")
count "cargo test" "$log/cargo" "$p" "$f" "$i"

# The extension, with PHP's own run-tests.php.
echo "== run-tests.php (php-tests/)"
run_tests=$(ls /usr/lib/php/*/build/run-tests.php | head -n1)
NO_INTERACTION=1 TEST_PHP_EXECUTABLE=$(command -v "$PHP") "$PHP" "$run_tests" -q -j2 --show-diff \
  -d "extension=$EXT" php-tests/ > "$log/phpt" 2>&1
rc=$?
grep -E "^(FAIL|SKIP|BORK|LEAK)|^Tests (passed|failed|skipped)" "$log/phpt"
field() { awk -v k="$1" '$0 ~ "^Tests " k { for (n = 1; n <= NF; n++) if ($n ~ /^[0-9]+$/) { print $n; exit } }' "$log/phpt"; }
p=$(field passed) f=$(field failed) s=$(field skipped)
if [ -z "$p" ]; then cat "$log/phpt"; f=1; fi
[ "$rc" -eq 0 ] && [ "${f:-0}" -eq 0 ] || { status=1; sed -n '/^=\+$/,$p' "$log/phpt" | grep -v "^$" | head -200; }
count "phpt" "$log/phpt" "${p:-0}" "${f:-0}" "${s:-0}"

# PHPUnit suites of the sample applications, if any.
for suite in php-tests/phpunit/*/phpunit.xml; do
  [ -f "$suite" ] || continue
  echo "== phpunit $(dirname "$suite")"
  "$PHP" -d "extension=$EXT" -d pantheon_secrets.allow_mock=1 "$(command -v phpunit)" -c "$suite" > "$log/phpunit" 2>&1
  rc=$?
  tail -n 30 "$log/phpunit"
  read -r p f s < <(awk '/^OK \(/ { gsub(/[(,]/, " "); print $2, 0, 0; found = 1 }
    /^Tests: / { gsub(/[,.]/, ""); t = 0; fl = 0; e = 0; sk = 0
      for (n = 1; n < NF; n++) { if ($n == "Tests:") t = $(n+1); if ($n == "Failures:") fl = $(n+1); if ($n == "Errors:") e = $(n+1); if ($n == "Skipped:") sk = $(n+1) }
      print t - fl - e - sk, fl + e, sk; found = 1 }
    END { if (!found) print 0, 1, 0 }' "$log/phpunit")
  [ "$rc" -eq 0 ] || status=1
  count "phpunit" "$log/phpunit" "$p" "$f" "$s"
done

# The whole system on loopback, when its tools are here (make deps installs them).
SERVER=${SERVER:-$PWD/target/release/pantheon-secrets}
run_e2e() { # name script needs…
  local name=$1 script=$2 tool
  shift 2
  for tool in "$@"; do
    if ! PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null 2>&1 && [ ! -e "$tool" ]; then
      echo "== $name skipped: $tool is not installed (make deps installs it)"
      count "$name" /dev/null 0 0 1
      return
    fi
  done
  echo "== $name"
  PATH=$PATH:/usr/sbin "$script" "$EXT" "$SERVER" > "$log/$name" 2>&1
  local rc=$?
  grep -E "^(ok|not ok|#) " "$log/$name"
  local p f
  p=$(grep -c "^ok " "$log/$name") f=$(grep -c "^not ok " "$log/$name")
  if [ "$rc" -ne 0 ]; then status=1; [ "$f" -gt 0 ] || { tail -n 30 "$log/$name"; f=1; }; fi
  count "$name" "$log/$name" "$p" "$f" 0
}
# The commands bench/REPORT.md lists must run (BENCH_SMOKE makes them small; the figures are not checked).
echo "== bench/REPORT.md commands"
p=0 f=0
while read -r cmd; do
  cmd=${cmd//\$PWD/$PWD}
  if BENCH_SMOKE=1 PATH=$PATH:/usr/sbin bash -c "$cmd" > "$log/bench" 2>&1 && grep -q '[{]' "$log/bench"; then
    p=$((p + 1)); echo "ok - runs: ${cmd//$PWD\//}"
  else
    f=$((f + 1)); status=1; echo "not ok - runs: ${cmd//$PWD\//}"; tail -n 5 "$log/bench"
  fi
done < <(sed -n '/^## Commands/,$p' bench/REPORT.md | sed -n '/^```$/,/^```$/p' | grep -v '^```')
count "bench commands" /dev/null "$p" "$f" 0

run_e2e "e2e (service, nginx, PHP-FPM)" e2e/run.sh nginx
run_e2e "e2e (WordPress, headless Chromium)" e2e/wordpress.sh nginx mariadbd chromium node /usr/share/wordpress/wp-load.php

[ "$failed" -eq 0 ] || status=1
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
