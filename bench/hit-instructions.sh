#!/usr/bin/env bash
# A hit of pantheon_get_secret() next to ini_get() and constant(), in instructions per call
# (callgrind, loop included and the loop alone beside it) under the CLI and in one php-cgi request,
# and in time (bench/hit.php, a few rounds), on the PHP given. Prints one JSON line; `make matrix` runs it on every PHP build.
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
# The same loops as one request of php-cgi (a SAPI that serves requests: the TTL is checked at the
# request's first call, not at every call as under the CLI).
minor=$("$PHP" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
CGI=${PHP_CGI:-$(command -v "php-cgi$minor" || command -v php-cgi || true)}
cgi_json='null'
if [ -n "$CGI" ]; then
  declare -A cgi_per_call
  for case in loop ini_get pantheon_get_secret; do
    a=$(IR_CLEAN_ENV=1 ir "$CGI" -n -q "${php_args[@]:1}" -d register_argc_argv=1 bench/hit-loop.php "$case" "$CALLS")
    b=$(IR_CLEAN_ENV=1 ir "$CGI" -n -q "${php_args[@]:1}" -d register_argc_argv=1 bench/hit-loop.php "$case" $((2 * CALLS)))
    cgi_per_call[$case]=$(per_unit "$a" "$b" "$CALLS")
  done
  cgi_json="{\"loop\": ${cgi_per_call[loop]}, \"ini_get()\": ${cgi_per_call[ini_get]}, \"pantheon_get_secret()\": ${cgi_per_call[pantheon_get_secret]}}"
fi
time_json=$(BENCH_SMOKE=${BENCH_SMOKE:-} "$PHP" "${php_args[@]}" bench/hit.php "$DOC" "$ROUNDS" "$TIME_CALLS")
"$PHP" -n -r '
[, $loop, $ini, $constant, $hit, $time, $cgi] = $argv;
$cgi = json_decode($cgi, true);
$t = json_decode($time, true)["per_call"];
echo json_encode([
    "php" => PHP_VERSION . (PHP_ZTS ? " ZTS" : " NTS"),
    "instructions_per_call" => ["loop" => (float) $loop, "ini_get()" => (float) $ini, "constant()" => (float) $constant, "pantheon_get_secret()" => (float) $hit],
    "ratio" => $hit / $ini,
    "ratio_without_loop" => ($hit - $loop) / ($ini - $loop),
    "ns_per_call" => ["ini_get()" => $t["ini_get()"]["ns"], "pantheon_get_secret()" => $t["pantheon_get_secret()"]["ns"]],
    "time_ratio" => $t["pantheon_get_secret()"]["ratio"],
    "cgi" => $cgi ? ["instructions_per_call" => $cgi, "ratio" => $cgi["pantheon_get_secret()"] / $cgi["ini_get()"],
        "ratio_without_loop" => ($cgi["pantheon_get_secret()"] - $cgi["loop"]) / ($cgi["ini_get()"] - $cgi["loop"])] : null,
]), "\n";' "${per_call[loop]}" "${per_call[ini_get]}" "${per_call[constant]}" "${per_call[pantheon_get_secret]}" "$time_json" "$cgi_json"
