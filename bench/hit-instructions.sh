#!/usr/bin/env bash
# A hit of pantheon_get_secret() next to ini_get() and constant(), in instructions per call
# (callgrind, loop included and the loop alone beside it) and in time (bench/hit.php, a few
# rounds), on the PHP given. Prints one JSON line; `make matrix` runs it on every PHP build.
# usage: bench/hit-instructions.sh EXTENSION.so [calls]   (PHP=… picks the PHP; BENCH_SMOKE=1: tiny)
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=$1 CALLS=${2:-20000} PHP=${PHP:-php}
ROUNDS=5 TIME_CALLS=200000
CASES=(loop ini_get constant pantheon_get_secret)
if [ -n "${BENCH_SMOKE:-}" ]; then CALLS=200 CASES=(loop ini_get pantheon_get_secret); fi
. bench/callgrind.sh
DOC=$PWD/examples/secrets.json
php_args=(-n -d "extension=$EXT" -d "pantheon_secrets.backend=file://$DOC")
declare -A per_call
per_call[constant]=0 # (not counted in smoke mode)
for case in "${CASES[@]}"; do
  a=$(ir "$PHP" "${php_args[@]}" bench/hit-loop.php "$case" "$CALLS")
  b=$(ir "$PHP" "${php_args[@]}" bench/hit-loop.php "$case" $((2 * CALLS)))
  per_call[$case]=$(per_unit "$a" "$b" "$CALLS")
done
time_json=$(BENCH_SMOKE=${BENCH_SMOKE:-} "$PHP" "${php_args[@]}" bench/hit.php "$DOC" "$ROUNDS" "$TIME_CALLS")
"$PHP" -n -r '
[, $loop, $ini, $constant, $hit, $time] = $argv;
$t = json_decode($time, true)["per_call"];
echo json_encode([
    "php" => PHP_VERSION . (PHP_ZTS ? " ZTS" : " NTS"),
    "instructions_per_call" => ["loop" => (float) $loop, "ini_get()" => (float) $ini, "constant()" => (float) $constant, "pantheon_get_secret()" => (float) $hit],
    "ratio" => $hit / $ini,
    "ratio_without_loop" => ($hit - $loop) / ($ini - $loop),
    "ns_per_call" => ["ini_get()" => $t["ini_get()"]["ns"], "pantheon_get_secret()" => $t["pantheon_get_secret()"]["ns"]],
    "time_ratio" => $t["pantheon_get_secret()"]["ratio"],
]), "\n";' "${per_call[loop]}" "${per_call[ini_get]}" "${per_call[constant]}" "${per_call[pantheon_get_secret]}" "$time_json"
