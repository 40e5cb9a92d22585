#!/usr/bin/env bash
# The runtime API next to its ceiling: the same answer (the document of a site's SECRETS secrets)
# served by the secrets service and by nginx as a static file, both over mutual TLS on loopback with
# the same server certificate, CA and client certificate (a binding the service issued), driven by
# the same wrk settings. wrk has no client-certificate option: bench/wrk-client-cert.c, built here and
# loaded with LD_PRELOAD, gives it one. Keep-alive requests/s and p99, and requests/s with a new TLS
# connection per request (`Connection: close`), in interleaved rounds; medians.
# usage: bench/service.sh PANTHEON_SECRETS_BINARY [secrets] [rounds] [seconds]   — prints JSON
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1 SECRETS=${2:-100} PHP=${PHP:-php} ROUNDS=${3:-7} SECONDS_EACH=${4:-2}
if [ -n "${BENCH_SMOKE:-}" ]; then SECRETS=5 ROUNDS=1 SECONDS_EACH=1; fi
command -v wrk > /dev/null || { echo "wrk is not installed (tools/deps.sh test installs it)" >&2; exit 1; }
STACK_NAME=service
. e2e/lib.sh

. bench/lib.sh
bench_service "$BIN" "$SECRETS"
data=$SERVICE_DATA

path=/customer-secrets/v1/runtime/secrets
mkdir -p "$work/www${path%/*}"
curl -sf --cacert "$data/ca.pem" --cert "$SERVICE_CERT" "$SERVICE_URL$path" > "$work/www$path"
[ "$("$PHP" -n -r 'echo count(json_decode(file_get_contents($argv[1]), true)["Secrets"]);' "$work/www$path")" = "$SECRETS" ] \
  || { echo "the service's document does not hold $SECRETS secrets" >&2; exit 1; }
nport=$(free_port)
cat > "$work/servers.conf" <<CONF
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $data/server.pem;
    ssl_certificate_key $data/server.key;
    ssl_client_certificate $data/ca.pem;
    ssl_verify_client on;
    keepalive_requests 1000000;
    root $work/www;
    default_type application/json;
  }
CONF
NGINX_WORKERS=$(nproc) nginx_start
wait_for "curl -sf --cacert '$data/ca.pem' --cert '$SERVICE_CERT' 'https://127.0.0.1:$nport$path' -o /dev/null" \
  || { cat "$work/nginx-error.log" >&2; exit 1; }
cmp -s <(curl -sf --cacert "$data/ca.pem" --cert "$SERVICE_CERT" "https://127.0.0.1:$nport$path") "$work/www$path" \
  || { echo "nginx does not answer the document" >&2; exit 1; }

load() { # url [wrk option]…
  local url=$1; shift
  bench_wrk "$url" -t2 -c16 -d"${SECONDS_EACH}s" "$@"
}
service_url=$SERVICE_URL$path nginx_url=https://127.0.0.1:$nport$path
load "$service_url" -d1s > /dev/null; load "$nginx_url" -d1s > /dev/null  # warm-up
for round in $(seq "$ROUNDS"); do
  for target in nginx service; do
    url=${target}_url
    echo "$target keepalive $(load "${!url}")" >> "$work/runs"
    echo "$target new $(load "${!url}" -H 'Connection: close')" >> "$work/runs"
  done
done
"$PHP" -n -r '[, $runs, $n, $bytes] = $argv; $r = [];
  foreach (file($runs) as $l) { [$t, $mode, $rps, $p99, $err] = explode(" ", trim($l)); $r[$t][$mode][] = [(float) $rps, (float) $p99, (int) $err]; }
  $median = function (array $xs) { sort($xs); return $xs[intdiv(count($xs), 2)]; };
  $out = ["secrets" => (int) $n, "document_bytes" => (int) $bytes, "rounds" => count($r["nginx"]["keepalive"]), "wrk" => "wrk -t2 -c16 --latency"];
  foreach ($r as $t => $modes) {
      foreach ($modes as $mode => $xs) {
          $out[$t][$mode] = ["rps" => $median(array_column($xs, 0)), "p99_ms" => $median(array_column($xs, 1)), "errors" => array_sum(array_column($xs, 2))];
      }
  }
  foreach (["keepalive", "new"] as $mode) { // the service next to nginx in the same round
      $ratios = array_map(fn ($s, $n) => $s[0] / $n[0], $r["service"][$mode], $r["nginx"][$mode]);
      $out["ratio_per_round"][$mode] = ["median" => $median($ratios), "min" => min($ratios), "max" => max($ratios)];
  }
  echo json_encode($out, JSON_PRETTY_PRINT), "\n";' "$work/runs" "$SECRETS" "$(stat -c %s "$work/www$path")"
