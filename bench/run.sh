#!/usr/bin/env bash
# `make bench`: runs the benchmarks in one go and writes bench/REPORT.md (figures, machine, date,
# and the exact commands). Figures are ratios measured side by side in one run: the machines
# are shared and noisy, so absolute times vary from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
PHP=${PHP:-php}
EXT=${EXT:-$PWD/target/release/pantheon_secrets.so}
DOC=$PWD/examples/secrets.json
# PHP loads the build named above, also where `make install` put a copy in its configuration.
scan=$(mktemp -d)
trap 'rm -rf "$scan"' EXIT
. tools/php-env.sh
php_without_installed "$scan"

hit_cmd="$PHP -d extension=$EXT -d pantheon_secrets.backend=file://$DOC bench/hit.php $DOC 15 200000"
mem_cmd="$PHP -d extension=$EXT bench/memory.php 1000 1024"
SERVER=${SERVER:-$PWD/target/release/pantheon-secrets}
https_cmd="$PHP bench/https.php $EXT 15 $SERVER"
web_cmd="bench/web.sh $EXT 5 4"
echo "+ $hit_cmd" >&2
hit=$($hit_cmd)
echo "+ $mem_cmd" >&2
mem=$($mem_cmd)
echo "+ $https_cmd" >&2
https=$($https_cmd)
echo "+ $web_cmd" >&2
web=$($web_cmd)

report=$(HIT="$hit" MEM="$mem" HTTPS="$https" WEB="$web" "$PHP" -r '
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
$https = json_decode(getenv("HTTPS"), true);
$rows = "";
foreach ($https["cold"] as $n => $c) {
    $rows .= sprintf("| %d | %.2f | %s | %.1f | %.1f | %.2f× |\n", $n, $c["first_call_ms"], $c["curl_ms"] === null ? "-" : sprintf("%.2f", $c["curl_ms"]), $c["process_ms"], $c["process_without_extension_ms"], $c["ratio"]);
}
printf("## Cold fetch over mutual TLS from %s (loopback; first call in a fresh process, handshake included; medians)\n\n", $https["peer"]);
printf("| secrets | first call (ms) | curl, same fetch (ms) | process with it (ms) | process without the extension (ms) | ratio |\n|---|---|---|---|---|---|\n%s\ncurl making the same request shows how much of the time is the peer\x27s.\n\n", $rows);
$goal4 = $https["cold"][100]["first_call_ms"] < 5 ? "met" : "not met";
printf("- Goal: a cold fetch of 100 secrets under 5 ms on loopback: **%s** (%.2f ms).\n\n", $goal4, $https["cold"][100]["first_call_ms"]);
$up = $https["service_up"]; $down = $https["service_hanging"];
printf("## A service that hangs (PHP-FPM, 4 static workers, 200 requests, timeout 1 s)\n\n| service | median request (ms) | worst (ms) | requests over 100 ms | fetch attempts seen |\n|---|---|---|---|---|\n| up | %.3f | %.1f | %d | %d |\n| hanging | %.3f | %.1f | %d | %d |\n\n",
    $up["median_ms"], $up["worst_ms"], $up["slow_requests"], $up["server_requests"], $down["median_ms"], $down["worst_ms"], $down["slow_requests"], $down["server_requests"]);
$goal5 = $down["median_ms"] < 1 ? "met" : "not met";
printf("(Request time is measured inside the page around the secret read.)\n\n- Goal: while the service is down, the median request is unaffected: **%s**.\n\n", $goal5);
$web = json_decode(getenv("WEB"), true);
if (isset($web["median_rps"])) {
    $w = $web["median_rps"];
    printf("## A PHP-FPM page reading 10 secrets (nginx, 4 static workers, opcache; wrk -t2 -c16 on loopback; medians of %d interleaved rounds)\n\n| page | requests/s | ratio to the extension |\n|---|---|---|\n| pantheon_get_secret() | %.0f | 1.00× |\n| hard-coded constants | %.0f | %.3f× |\n| userland: decode the document per request | %.0f | %.3f× |\n\nFetches by a worker during the run: %d.\n\n",
        $web["rounds"], $w["extension"], $w["constants"], $w["constants"] / $w["extension"], $w["userland"], $w["userland"] / $w["extension"], $web["fetches_by_a_worker"]);
    printf("- Goal: the extension within 2%% of hard-coded constants: **%s** (%.1f%%; round by round the extension ran at %.3f× to %.3f× the constants\x27 rate, so this machine\x27s noise is larger than the goal).\n- Goal: at least 5× the userland way: **%s** (%.2f×; with a 10-secret document the request itself costs far more than decoding it).\n\n",
        $web["extension_vs_constants"] >= 0.98 ? "met" : "not met", 100 * (1 - $web["extension_vs_constants"]), $web["extension_vs_constants_per_round"][0], $web["extension_vs_constants_per_round"][1], $web["extension_vs_userland"] >= 5 ? "met" : "not met", $web["extension_vs_userland"]);
}
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
  bench/replicas.sh "$SERVER"; echo
  echo "## Commands"
  echo
  echo '```'
  echo "$hit_cmd" | sed "s|$PWD/|\$PWD/|g"
  echo "$mem_cmd" | sed "s|$PWD/|\$PWD/|g"
  echo "$https_cmd" | sed "s|$PWD/|\$PWD/|g"
  echo "$web_cmd" | sed "s|$PWD/|\$PWD/|g"
  echo '```'
} > bench/REPORT.md
cat bench/REPORT.md
