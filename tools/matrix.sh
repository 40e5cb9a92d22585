#!/usr/bin/env bash
# `make matrix`: the extension's suites on every PHP build the README's support table lists, one
# line per build and server, then the total as `N passed, N failed`:
#   PHP 8.2 (this Debian 12 machine, the build of `make build`): the .phpt suite (CLI, PHP-FPM, the
#     stubs check), the PHPUnit suites, the stack behind nginx, and Apache prefork with mod_php;
#   PHP 8.4 (a brand-new Debian 13 root, made by tools/fresh.sh from the committed HEAD): the same,
#     built there against PHP 8.4's headers, with clippy on that build too, and its PIE archive
#     (make dist), copied out to target/matrix/php8.4/.
# No thread-safe (ZTS) PHP can be had on these machines, so ZTS is listed as not tested.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=$repo/target/matrix
mkdir -p "$out"
passed=0 failed=0 lines=()
suites='phpt phpunit e2e apache'

# Adds one matrix line from a tools/test.sh log: the `== NAME: N passed, N failed` lines of the
# suites whose names match PATTERN.
line() { # label log pattern
  local p f
  read -r p f < <(grep -E "^== ($3): [0-9]+ passed" "$2" | awk '{ for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }')
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi # a build that ran nothing did not pass
  passed=$((passed + p)) failed=$((failed + f))
  lines+=("$1: $p passed, $f failed")
}

echo "== matrix: PHP $(php -n -r 'echo PHP_VERSION;') on this machine"
start=$(date +%s)
SUITES=$suites tools/test.sh > "$out/php8.2.log" 2>&1
grep -E '^== ' "$out/php8.2.log"
line "php 8.2 nts cli+fpm" "$out/php8.2.log" 'phpt|phpunit|e2e \(service, nginx, PHP-FPM\)'
line "php 8.2 nts apache-prefork" "$out/php8.2.log" 'e2e \(Apache prefork, mod_php\)'
# A hit next to ini_get(), in instructions (callgrind) and in time, from bench/hit-instructions.sh's line.
hit_line() { # the JSON line, on stdin
  php -n -r '$r = json_decode(stream_get_contents(STDIN), true); if (!$r) { echo "no figure\n"; exit; }
    printf("hit %.0f instructions = %.2fx ini_get() (%.0f); %.1f ns = %.2fx in time\n", $r["instructions_per_call"]["pantheon_get_secret()"], $r["ratio"],
      $r["instructions_per_call"]["ini_get()"], $r["ns_per_call"]["pantheon_get_secret()"], $r["time_ratio"]);'
}
notes=("php 8.2: $(PHP=php bench/hit-instructions.sh "$repo/target/release/pantheon_secrets.so" | hit_line)")

echo "== matrix: PHP 8.4 in a new Debian 13 root"
steps='tools/deps.sh build test
make build server
cargo clippy -p pantheon_secrets --all-targets -- -D warnings
SUITES="'$suites'" EXT=$PWD/target/release/pantheon_secrets.so SERVER=$PWD/target/release/pantheon-secrets tools/test.sh
bench/hit-instructions.sh $PWD/target/release/pantheon_secrets.so
make dist'
FRESH_SUITE=trixie FRESH_OUT=$out/php8.4 FRESH_STEPS=$steps tools/fresh.sh > "$out/php8.4.log" 2>&1
rc=$?
grep -E '^== ' "$out/php8.4.log" | grep -v '^== fresh: step [0-9]*: '
if [ "$rc" -ne 0 ]; then tail -n 40 "$out/php8.4.log"; fi
line "php 8.4 nts cli+fpm" "$out/php8.4.log" 'phpt|phpunit|e2e \(service, nginx, PHP-FPM\)'
line "php 8.4 nts apache-prefork" "$out/php8.4.log" 'e2e \(Apache prefork, mod_php\)'
[ "$rc" -eq 0 ] || { failed=$((failed + 1)); lines+=("php 8.4 root: a step failed (see target/matrix/php8.4/)"); }

notes+=("php 8.4: $(cat "$out"/php8.4/fresh-5.log 2> /dev/null | tail -n 1 | hit_line)")
grep -E "== fresh: step [0-9]+ passed in [0-9]+ s: make build server" "$out/php8.4.log" | sed 's/^== fresh: /# php 8.4 build: /'

echo
for zip in "$out"/php8.4/*.zip; do [ -e "$zip" ] && notes+=("php 8.4: make dist made ${zip##*/}"); done
printf '%s\n' "${notes[@]}"
printf '%s\n' "${lines[@]}"
echo "php 8.2/8.4 zts: not tested (no thread-safe PHP can be had on these machines)"
echo "== matrix: $(( ($(date +%s) - start) / 60 )) min in all"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
