#!/usr/bin/env bash
# The runtime API's throughput on its storage engines: one replica on SQLite, one on PostgreSQL, and
# two on that PostgreSQL behind HAProxy (TCP mode, TLS ending at the replicas), all on this machine,
# driven by the same wrk settings over mutual TLS (a binding as client certificate:
# bench/wrk-client-cert.c, loaded with LD_PRELOAD, gives wrk one). Interleaved rounds, medians; also
# the CPU time one fetch costs the replica and the database, measured from /proc over the runs.
# Prints a Markdown section (table, the command that made it, what the machine limits) for
# bench/REPORT.md.
# usage: bench/replicas.sh PANTHEON_SECRETS_BINARY [secrets] [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1") SECRETS=${2:-10} ROUNDS=${3:-3} SECONDS_EACH=${4:-5}
if [ -n "${BENCH_SMOKE:-}" ]; then SECRETS=2 ROUNDS=1 SECONDS_EACH=1; fi
command -v wrk > /dev/null || { echo "wrk is not installed (tools/deps.sh test installs it)" >&2; exit 1; }
command -v haproxy > /dev/null || { echo "haproxy is not installed (tools/deps.sh test installs it)" >&2; exit 1; }
STACK_NAME=bench-replicas
. e2e/lib.sh
. e2e/postgres.sh
tick=$(getconf CLK_TCK)

# A data directory in $work/NAME/data with one site holding SECRETS web secrets of 64 bytes (set
# through the API) and a dev binding for it in $work/NAME/binding.pem; `serve` of it on a free port,
# without rate limit or access log: $port and $pid are set. On PostgreSQL when
# PANTHEON_SECRETS_DATABASE is set, else on SQLite.
store() { # name
  local d=$work/$1/data
  mkdir -p "$work/$1"
  "$BIN" init --data-dir "$d" > "$work/$1/admin.token" 2>> "$work/cli.log"
  "$BIN" org:create --data-dir "$d" bench > /dev/null 2>> "$work/cli.log"
  "$BIN" site:create --data-dir "$d" bench --org bench > /dev/null 2>> "$work/cli.log"
  "$BIN" binding:issue --data-dir "$d" bench.dev --out "$work/$1/binding.pem" > /dev/null 2>> "$work/cli.log"
}
serve() { # name data-dir
  port=$(free_port)
  spawn "$1" "$BIN" serve --data-dir "$2" --listen "127.0.0.1:$port" --rate-limit 0
  pid=${pids[-1]}
  wait_for "grep -qs '^listening on' '$work/$1.out'" || { cat "$work/$1.out" >&2; return 1; }
}
fill() { # name port
  local i
  for i in $(seq "$SECRETS"); do
    printf 'value-%s-%058d' "$i" 0 | PANTHEON_SECRETS_URL="https://127.0.0.1:$2" PANTHEON_SECRETS_CA_FILE="$work/$1/data/ca.pem" \
      PANTHEON_SECRETS_TOKEN=$(cat "$work/$1/admin.token") "$BIN" secret:site:set bench "SECRET_$i" --scope=web > /dev/null 2>> "$work/cli.log"
  done
}

declare -A url binding replica_pids
path=/customer-secrets/v1/runtime/secrets
# SQLite first, before PANTHEON_SECRETS_DATABASE names the PostgreSQL database.
store sqlite
serve sqlite "$work/sqlite/data"
fill sqlite "$port"
url[sqlite]=https://127.0.0.1:$port$path binding[sqlite]=$work/sqlite/binding.pem replica_pids[sqlite]=$pid
pg_init
store pg
serve pg-a "$work/pg/data"
fill pg "$port"
url[postgres]=https://127.0.0.1:$port$path binding[postgres]=$work/pg/binding.pem replica_pids[postgres]=$pid
pg_a_port=$port
# The second replica serves the same data directory (one key file), on its own port.
serve pg-b "$work/pg/data"
pg_b_port=$port
replica_pids[haproxy]="${replica_pids[postgres]} $pid"
haproxy_port=$(free_port)
haproxy_tcp_conf "$haproxy_port" "127.0.0.1:$pg_a_port" "127.0.0.1:$pg_b_port" > "$work/haproxy.cfg"
spawn haproxy haproxy -db -f "$work/haproxy.cfg"
wait_for "curl -sf -o /dev/null --cacert '$work/pg/data/ca.pem' --cert '$work/pg/binding.pem' https://127.0.0.1:$haproxy_port$path"

gcc -shared -fPIC -O2 -o "$work/wrk-client-cert.so" bench/wrk-client-cert.c -ldl
wrk_args=(-t2 -c16 "-d${SECONDS_EACH}s" --latency)
# One wrk run; prints "requests/s p99_ms errors requests".
load() { # url binding [wrk option]…
  local url=$1 cert=$2; shift 2
  LD_PRELOAD=$work/wrk-client-cert.so BENCH_CLIENT_CERT=$cert wrk "${wrk_args[@]}" "$@" "$url" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
    /^Requests\/sec/ { rps = $2 } $1 == "99%" { p99 = ms($2) } /Non-2xx|Socket errors/ { errors += $NF }
    / requests in / { n = $1 } END { printf "%s %s %d %d\n", rps, p99, errors, n }'
}
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # a process's CPU time so far, in ticks
url[haproxy]=https://127.0.0.1:$haproxy_port$path binding[haproxy]=$work/pg/binding.pem
# A PHP worker opens a new connection for each fetch (once per TTL), so each setup runs twice: over
# keep-alive connections (the API's own cost) and with a new TLS handshake per request.
for setup in sqlite postgres haproxy; do load "${url[$setup]}" "${binding[$setup]}" > /dev/null; done # warm-up
for round in $(seq "$ROUNDS"); do
  for setup in sqlite postgres haproxy; do
    for mode in keepalive new; do
      header=()
      [ "$mode" = keepalive ] || header=(-H 'Connection: close')
      before=0; for p in ${replica_pids[$setup]}; do before=$((before + $(cpu "$p"))); done
      pg_before=$(pg_cpu_ticks)
      read -r rps p99 errors n < <(load "${url[$setup]}" "${binding[$setup]}" "${header[@]}")
      after=0; for p in ${replica_pids[$setup]}; do after=$((after + $(cpu "$p"))); done
      echo "$setup-$mode $rps $p99 $errors $n $((after - before)) $(($(pg_cpu_ticks) - pg_before))" >> "$work/runs"
    done
  done
done

command="bench/replicas.sh BINARY $SECRETS $ROUNDS $SECONDS_EACH"
php -n -r '[, $runs, $tick, $cmd, $secrets, $rounds, $cores] = $argv;
  $r = [];
  foreach (file($runs) as $l) { $f = explode(" ", trim($l)); $r[$f[0]][] = $f; }
  $median = function (array $xs) { sort($xs); return $xs[intdiv(count($xs), 2)]; };
  $per = fn (array $x, int $col) => $median(array_map(fn ($f) => $f[4] > 0 ? 1e6 * $f[$col] / $tick / $f[4] : 0, $x));
  $label = ["sqlite" => "one replica, SQLite", "postgres" => "one replica, PostgreSQL", "haproxy" => "two replicas, PostgreSQL, HAProxy (TCP)"];
  printf("## The runtime API by storage engine (%d secrets of 64 bytes; wrk -t2 -c16 over mutual TLS; medians of %d interleaved rounds)\n\n", $secrets, $rounds);
  echo "| setup | connection | requests/s | p99 (ms) | errors | replica CPU per fetch (µs) | PostgreSQL CPU per fetch (µs) |\n|---|---|---|---|---|---|---|\n";
  $cost = [];
  foreach ($label as $k => $name) {
      foreach (["keepalive" => "keep-alive", "new" => "new per request"] as $mode => $how) {
          if (!isset($r["$k-$mode"])) continue;
          $x = $r["$k-$mode"];
          $cost["$k-$mode"] = [$per($x, 5), $per($x, 6)];
          printf("| %s | %s | %.0f | %.2f | %d | %.0f | %s |\n", $name, $how, $median(array_column($x, 1)), $median(array_column($x, 2)), array_sum(array_column($x, 3)),
              $cost["$k-$mode"][0], $k === "sqlite" ? "-" : sprintf("%.0f", $cost["$k-$mode"][1]));
      }
  }
  printf("\nCommand: `%s` (made by `make bench`). CPU per fetch: the processes\x27 CPU time (/proc, user + system) over a run divided by the requests wrk completed in it; \"new per request\" sends `Connection: close`, so each request pays a full TLS handshake, as a PHP worker\x27s fetch does.\n\n", $cmd);
  printf("All of it runs on one machine (%d cores): wrk, HAProxy, PostgreSQL and the replicas share the cores, so the two replicas here show what HAProxy and a second process cost, not what a second host adds; on separate hosts the replicas\x27 rates add up until PostgreSQL (its CPU per fetch above) is the limit.\n", $cores);
  if (isset($cost["postgres-new"])) {
      [$rep, $db] = $cost["postgres-new"];
      printf("\nSizing from these figures (ARCHITECTURE §7): a worker fetches at most once per TTL, so one core of a replica sustains %.0f fetches/s (10⁶ / %.0f µs), %.0f workers at a TTL of 60 s and %.0f at the default 900 s; one core of PostgreSQL %.0f fetches/s (10⁶ / %.0f µs).\n",
          1e6 / max($rep, 1), $rep, 60e6 / max($rep, 1), 900e6 / max($rep, 1), 1e6 / max($db, 1), $db);
  }' "$work/runs" "$tick" "$command" "$SECRETS" "$ROUNDS" "$(nproc)"
