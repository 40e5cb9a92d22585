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
hit() { # php extension: a hit next to ini_get(), in time (bench/hit.php; noisy on a shared machine)
  "$1" -n -d "extension=$2" -d "pantheon_secrets.backend=file://$PWD/examples/secrets.json" bench/hit.php \
    "$PWD/examples/secrets.json" 5 200000 | php -r '$r = json_decode(stream_get_contents(STDIN), true)["per_call"];
      printf("hit %.1f ns = %.2fx ini_get() (%.1f ns)\n", $r["pantheon_get_secret()"]["ns"], $r["pantheon_get_secret()"]["ratio"], $r["ini_get()"]["ns"]);'
}
notes=("php 8.2: $(hit php "$repo/target/release/pantheon_secrets.so")")

echo "== matrix: PHP 8.4 in a new Debian 13 root"
steps='tools/deps.sh build test
make build server
cargo clippy -p pantheon_secrets --all-targets -- -D warnings
SUITES="'$suites'" EXT=$PWD/target/release/pantheon_secrets.so SERVER=$PWD/target/release/pantheon-secrets tools/test.sh
php -n -d extension=$PWD/target/release/pantheon_secrets.so -d pantheon_secrets.backend=file://$PWD/examples/secrets.json bench/hit.php $PWD/examples/secrets.json 5 200000
make dist'
FRESH_SUITE=trixie FRESH_OUT=$out/php8.4 FRESH_STEPS=$steps tools/fresh.sh > "$out/php8.4.log" 2>&1
rc=$?
grep -E '^== ' "$out/php8.4.log" | grep -v '^== fresh: step [0-9]*: '
if [ "$rc" -ne 0 ]; then tail -n 40 "$out/php8.4.log"; fi
line "php 8.4 nts cli+fpm" "$out/php8.4.log" 'phpt|phpunit|e2e \(service, nginx, PHP-FPM\)'
line "php 8.4 nts apache-prefork" "$out/php8.4.log" 'e2e \(Apache prefork, mod_php\)'
[ "$rc" -eq 0 ] || { failed=$((failed + 1)); lines+=("php 8.4 root: a step failed (see target/matrix/php8.4/)"); }

notes+=("php 8.4: $(cat "$out"/php8.4/fresh-5.log 2> /dev/null | php -r '$r = json_decode(stream_get_contents(STDIN), true); if (!$r) { echo "no figure\n"; exit; } $r = $r["per_call"];
    printf("hit %.1f ns = %.2fx ini_get() (%.1f ns)\n", $r["pantheon_get_secret()"]["ns"], $r["pantheon_get_secret()"]["ratio"], $r["ini_get()"]["ns"]);')")
grep -E "== fresh: step [0-9]+ passed in [0-9]+ s: make build server" "$out/php8.4.log" | sed 's/^== fresh: /# php 8.4 build: /'

echo
for zip in "$out"/php8.4/*.zip; do [ -e "$zip" ] && notes+=("php 8.4: make dist made ${zip##*/}"); done
printf '%s\n' "${notes[@]}"
printf '%s\n' "${lines[@]}"
echo "php 8.2/8.4 zts: not tested (no thread-safe PHP can be had on these machines)"
echo "== matrix: $(( ($(date +%s) - start) / 60 )) min in all"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
