#!/usr/bin/env bash
# `make bench`: runs every benchmark once and writes bench/REPORT.md from their JSON (bench/report.php):
# each table with the command that made it, each goal marked met or not.
# Figures that count instructions (callgrind) do not move with the machine's load; wall-clock
# figures are ratios measured side by side in one run, since the machines are shared and noisy.
# BENCH_SMOKE=1 runs every figure at tiny sizes and writes the report elsewhere (BENCH_REPORT, by
# default a temporary file), printing `ok - …` / `not ok - …` per figure: `make test` runs that, so
# the benchmarks cannot rot. Figures are never asserted on.
set -euo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
EXT=${EXT:-$PWD/target/release/pantheon_secrets.so}
SERVER=${SERVER:-$PWD/target/release/pantheon-secrets}
DOC=$PWD/examples/secrets.json
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The figures of the last full run stay in target/bench/ (JSON and commands), so that the report
# can be written again from them (with bench/closing.md as it is then):
#   BENCH_MACHINE="…" php -n bench/report.php target/bench > bench/REPORT.md
if [ -n "${BENCH_SMOKE:-}" ]; then
  export BENCH_SMOKE
  REPORT=${BENCH_REPORT:-$out/REPORT.md}
else
  REPORT=${BENCH_REPORT:-bench/REPORT.md}
fi
# PHP loads the build named above, also where `make install` put a copy in its configuration.
. tools/php-env.sh
php_without_installed "$out/conf.d"
export PATH=$PATH:/usr/sbin

failed=0
date -u '+%Y-%m-%d %H:%M UTC' > "$out/made"
# Runs one figure: its JSON goes to $out/NAME.json, its command (with $PWD for this directory) to
# $out/NAME.cmd, for the report to show beside the table.
figure() { # name command…
  local name=$1 t; shift
  printf '%s\n' "$*" | sed "s|$PWD/|\$PWD/|g" > "$out/$name.cmd"
  echo "+ $*" | sed "s|$PWD/|\$PWD/|g" >&2
  t=$(date +%s)
  if "$@" > "$out/$name.json" 2> "$out/$name.err" && "$PHP" -n -r 'exit(is_array(json_decode(file_get_contents($argv[1]), true)) ? 0 : 1);' "$out/$name.json"; then
    [ -z "${BENCH_SMOKE:-}" ] || echo "ok - figure $name runs ($(( $(date +%s) - t )) s)"
  else
    failed=$((failed + 1))
    echo "not ok - figure $name runs"; tail -n 20 "$out/$name.err" "$out/$name.json" >&2
    rm -f "$out/$name.json"
  fi
}

figure hit_instructions bench/hit-instructions.sh "$EXT"
figure page_instructions bench/page-instructions.sh "$EXT"
figure hit "$PHP" -d "extension=$EXT" -d "pantheon_secrets.backend=file://$DOC" bench/hit.php "$DOC" 15 200000
figure memory "$PHP" bench/memory.php "$EXT" 1024 100 1000
figure cold bench/cold.sh "$EXT" "$SERVER"
figure service bench/service.sh "$SERVER" 100 7 2
figure growth bench/growth.sh "$EXT" "$SERVER"
figure https "$PHP" bench/https.php "$EXT" 15 "$SERVER"
figure web bench/web.sh "$EXT" 5 4
# The runtime API on its storage engines (SQLite, PostgreSQL, two replicas behind HAProxy): a
# Markdown section of its own, added to the report.
printf '%s\n' "bench/replicas.sh $SERVER" | sed "s|$PWD/|\$PWD/|g" > "$out/replicas.cmd"
if bench/replicas.sh "$SERVER" > "$out/replicas.md" 2> "$out/replicas.err"; then
  [ -z "${BENCH_SMOKE:-}" ] || echo "ok - figure replicas runs"
else
  failed=$((failed + 1)); echo "not ok - figure replicas runs"; tail -n 20 "$out/replicas.err" >&2
  : > "$out/replicas.md"
fi

# The growth plot, beside the report.
svg=bench/growth.svg
[ -z "${BENCH_SMOKE:-}" ] || svg=$out/growth.svg
if [ -e "$out/growth.json" ] && python3 bench/plot.py "$out/growth.json" "$svg"; then
  [ -z "${BENCH_SMOKE:-}" ] || echo "ok - the growth plot is drawn"
else
  failed=$((failed + 1)); echo "not ok - the growth plot is drawn"
fi

if BENCH_MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)" \
  "$PHP" -n bench/report.php "$out" > "$out/report.md" 2> "$out/report.err"; then
  cat "$out/report.md" "$out/replicas.md" > "$REPORT"
  if [ -z "${BENCH_SMOKE:-}" ]; then rm -rf target/bench && mkdir -p target/bench && cp "$out"/*.json "$out"/*.cmd "$out/made" target/bench/; fi
  if [ -n "${BENCH_SMOKE:-}" ]; then echo "ok - the report is written"; else cat "$REPORT"; fi
else
  failed=$((failed + 1))
  echo "not ok - the report is written"; cat "$out/report.err" >&2
fi
[ "$failed" -eq 0 ]
