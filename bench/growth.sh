#!/usr/bin/env bash
# Growth: how the hit, the cold fetch and the service's answer grow with the number of secrets a
# site holds (10 → 10,000) and with the number of sites in the service's store (10 → 100,000).
#   hit: instructions per call (callgrind, as bench/hit-instructions.sh), file backend of N secrets;
#   cold fetch: the first call in a fresh CLI process, from a file and from the service over mutual
#     TLS (median of ROUNDS processes);
#   answer: the service's runtime answer at one keep-alive connection (wrk -t1 -c1), mean time and p99.
# Sites beyond the first are written into the store by bench/fill-sites.py (one secret each); the
# site read holds 100 secrets in that sweep. Prints JSON; bench/plot.py draws it.
# usage: bench/growth.sh EXTENSION.so PANTHEON_SECRETS_BINARY [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=$1 BIN=$2 ROUNDS=${3:-5} PHP=${PHP:-php}
SECRETS=(10 100 1000 10000) SITES=(10 100 1000 10000 100000) CALLS=20000 SECONDS_EACH=2
if [ -n "${BENCH_SMOKE:-}" ]; then SECRETS=(10 20) SITES=(10 20) CALLS=200 ROUNDS=1 SECONDS_EACH=1; fi
STACK_NAME=growth
. e2e/lib.sh
. bench/lib.sh
. bench/callgrind.sh

# One JSON line per point: {"sweep", "n", figure: value…}
point() { echo "$*" >> "$work/points"; }
cold() { # backend ini… : median ms of the first call in a fresh process
  for _ in $(seq "$ROUNDS"); do
    "$PHP" -n -d "extension=$EXT" "$@" -r '$t = hrtime(true); $v = pantheon_get_secret("SECRET_0"); if ($v === null) exit(1); echo (hrtime(true) - $t) / 1e6, "\n";'
  done | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
answer() { # : "mean_ms p99_ms" of the runtime answer at one connection
  bench_wrk "$SERVICE_URL/customer-secrets/v1/runtime/secrets" -t1 -c1 -d"${SECONDS_EACH}s" | awk '{ printf "%.3f %.3f\n", 1000 / $1, $2 }'
}
tls=() # the extension's settings for the current service
use_service() { tls=(-d "pantheon_secrets.backend=$SERVICE_URL" -d "pantheon_secrets.client_cert=$SERVICE_CERT" -d "pantheon_secrets.ca_file=$SERVICE_CA"); }

bench_service "$BIN" 0 secrets
use_service
have=0
for n in "${SECRETS[@]}"; do
  "$PHP" -n -r '[, $n, $path] = $argv; $s = ["STRIPE_KEY" => ["Type" => "runtime", "Value" => "sk_bench", "Scopes" => ["web"]]];
    for ($i = 0; $i < $n - 1; $i++) { $s["SECRET_$i"] = ["Type" => "runtime", "Value" => str_pad("value-$i-", 64, "x"), "Scopes" => ["web"]]; }
    file_put_contents($path, json_encode(["SiteID" => "bench", "Secrets" => $s]));' "$n" "$work/secrets-$n.json"
  file=(-d "pantheon_secrets.backend=file://$work/secrets-$n.json")
  a=$(ir "$PHP" -n -d "extension=$EXT" "${file[@]}" bench/hit-loop.php pantheon_get_secret "$CALLS")
  b=$(ir "$PHP" -n -d "extension=$EXT" "${file[@]}" bench/hit-loop.php pantheon_get_secret $((2 * CALLS)))
  bench_add_secrets "$have" "$n"
  have=$n
  read -r mean p99 < <(answer)
  point secrets "$n" hit_instructions "$(per_unit "$a" "$b" "$CALLS")" cold_file_ms "$(cold "${file[@]}")" \
    cold_mtls_ms "$(cold "${tls[@]}")" answer_ms "$mean" answer_p99_ms "$p99"
done

bench_service "$BIN" 100 sites
use_service
for n in "${SITES[@]}"; do
  python3 bench/fill-sites.py "$SERVICE_DATA/secrets.db" "$n"
  read -r mean p99 < <(answer)
  point sites "$n" cold_mtls_ms "$(cold "${tls[@]}")" answer_ms "$mean" answer_p99_ms "$p99"
done
"$PHP" -n -r '$out = ["rounds" => (int) $argv[2]];
  foreach (file($argv[1]) as $l) { $f = explode(" ", trim($l)); [$sweep, $n] = $f; $row = [];
      for ($i = 2; $i + 1 < count($f); $i += 2) { $row[$f[$i]] = (float) $f[$i + 1]; }
      $out[$sweep][$n] = $row; }
  echo json_encode($out, JSON_PRETTY_PRINT), "\n";' "$work/points" "$ROUNDS"
