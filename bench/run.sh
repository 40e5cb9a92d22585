#!/usr/bin/env bash
# `make bench`: runs the benchmarks in one go and writes bench/REPORT.md (figures, machine, date,
# and the exact commands). Figures are ratios measured side by side in one run: the machines
# are shared and noisy, so absolute times vary from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
EXT=${EXT:-$PWD/target/release/pantheon_secrets.so}
DOC=$PWD/examples/secrets.json

hit_cmd="$PHP -d extension=$EXT -d pantheon_secrets.backend=file://$DOC bench/hit.php $DOC 15 200000"
mem_cmd="$PHP -d extension=$EXT bench/memory.php 1000 1024"
echo "+ $hit_cmd" >&2
hit=$($hit_cmd)
echo "+ $mem_cmd" >&2
mem=$($mem_cmd)

report=$(HIT="$hit" MEM="$mem" "$PHP" -r '
$hit = json_decode(getenv("HIT"), true);
$mem = json_decode(getenv("MEM"), true);
$rows = "";
foreach ($hit["per_call"] as $label => $r) {
    $rows .= sprintf("| %s | %.1f | %.2f× |\n", $label, $r["ns"], $r["ratio"]);
}
$secret = $hit["per_call"]["pantheon_get_secret()"];
$goal1 = $secret["ratio"] <= 1.5 ? "met" : "not met";
$goal2 = $secret["ns"] < $hit["per_call"]["getenv()"]["ns"] ? "met" : "not met";
$goal3 = $mem["within_budget"] ? "met" : "not met";
printf("## Hit path (PHP %s CLI, per call, loop included; median of %d interleaved rounds)\n\n| call | ns | ratio to ini_get() |\n|---|---|---|\n%s\n", PHP_VERSION, $hit["rounds"], $rows);
printf("Backend fetches during the run: %d.\n\n", $hit["fetches"]);
printf("- Goal: a hit costs at most 1.5× ini_get(): **%s** (%.2f×).\n- Goal: a hit costs less than getenv(): **%s**.\n\n", $goal1, $secret["ratio"], $goal2);
printf("## Memory\n\n%d secrets of %d bytes (%d bytes of names and values held): resident memory grew by %d bytes; the budget (2× the bytes held + 2 MiB) is %d bytes: **%s**.\n",
    $mem["secrets"], $mem["value_bytes"], $mem["bytes_held"], $mem["rss_growth"], $mem["budget"], $goal3);
')

{
  echo "# Benchmark report"
  echo
  echo "Made by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)."
  echo
  echo "$report"
  echo
  echo "## Commands"
  echo
  echo '```'
  echo "$hit_cmd" | sed "s|$PWD/|\$PWD/|g"
  echo "$mem_cmd" | sed "s|$PWD/|\$PWD/|g"
  echo '```'
} > bench/REPORT.md
cat bench/REPORT.md
