#!/usr/bin/env bash
# Cold start: the first pantheon_get_secret() in a fresh PHP-FPM worker (pm.max_requests = 1, so
# every request is served by a newly forked worker, which fetches), from a file and from the secrets
# service over mutual TLS, for 10, 100 and 1,000 secrets; the time of that first call, of the second
# (a hit), and of the whole request as PHP sees it (from REQUEST_TIME_FLOAT to the end of the page),
# and the share of the request the first call is. Medians of ROUNDS requests each.
# usage: bench/cold.sh EXTENSION.so PANTHEON_SECRETS_BINARY [rounds]   — prints JSON
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=$1 BIN=$2 ROUNDS=${3:-9} PHP=${PHP:-php}
COUNTS=(10 100 1000)
if [ -n "${BENCH_SMOKE:-}" ]; then ROUNDS=2 COUNTS=(10); fi
command -v cgi-fcgi > /dev/null || { echo "cgi-fcgi is not installed (tools/deps.sh test installs libfcgi-bin)" >&2; exit 1; }
STACK_NAME=cold
. e2e/lib.sh
. bench/lib.sh
bench_service "$BIN" 0

cat > "$work/page.php" <<'PHP'
<?php
$t = hrtime(true);
$first = pantheon_get_secret('SECRET_0');
$t1 = hrtime(true);
pantheon_get_secret('SECRET_1');
$t2 = hrtime(true);
echo json_encode(['ok' => $first !== null, 'first_ms' => ($t1 - $t) / 1e6, 'second_ms' => ($t2 - $t1) / 1e6,
    'request_ms' => (microtime(true) - $_SERVER['REQUEST_TIME_FLOAT']) * 1000]), "\n";
PHP
pool() { # name, then setting value pairs (php_admin_value)
  local name=$1; shift
  printf '[%s]\nlisten = %s\nlisten.mode = 0666\npm = static\npm.max_children = 1\npm.max_requests = 1\n%s\n' \
    "$name" "$work/$name.sock" "$(fpm_pool_user)"
  printf 'php_admin_value[%s] = %s\n' "$@"
}
: > "$work/pools.conf"
for n in "${COUNTS[@]}"; do
  "$PHP" -n -r '[, $n, $path] = $argv; $s = [];
    for ($i = 0; $i < $n; $i++) { $s["SECRET_$i"] = ["Type" => "runtime", "Value" => str_pad("value-$i-", 64, "x"), "Scopes" => ["web"]]; }
    file_put_contents($path, json_encode(["SiteID" => "bench", "Secrets" => $s]));' "$n" "$work/secrets-$n.json"
  chmod 0644 "$work/secrets-$n.json"
  pool "file$n" pantheon_secrets.backend "file://$work/secrets-$n.json" >> "$work/pools.conf"
done
pool tls pantheon_secrets.backend "$SERVICE_URL" pantheon_secrets.client_cert "$SERVICE_CERT" \
  pantheon_secrets.ca_file "$SERVICE_CA" >> "$work/pools.conf"
fpm_start "$EXT" -d zend_extension=opcache -d opcache.enable=1
wait_for "[ -S '$work/tls.sock' ]" || { cat "$work/fpm.log" >&2; exit 1; }

ask() { # pool
  [ -z "${BENCH_DEBUG:-}" ] || { SCRIPT_FILENAME=$work/page.php REQUEST_METHOD=GET cgi-fcgi -bind -connect "$work/$1.sock" >&2; cat "$work/pools.conf" >&2; }
  SCRIPT_FILENAME=$work/page.php REQUEST_METHOD=GET cgi-fcgi -bind -connect "$work/$1.sock" | sed -n '/^{/p'
}
have=0
for n in "${COUNTS[@]}"; do
  bench_add_secrets "$have" "$n"
  have=$n
  for backend in file tls; do
    name=$backend; [ "$backend" = file ] && name=file$n
    ask "$name" > /dev/null # the first worker of a pool may have started before the site was filled
    for _ in $(seq "$ROUNDS"); do echo "$backend $n $(ask "$name")" >> "$work/runs"; done
  done
done
"$PHP" -n -r '$r = [];
  foreach (file($argv[1]) as $l) { [$b, $n, $json] = explode(" ", trim($l), 3); $x = json_decode($json, true);
      if (!($x["ok"] ?? false)) { fwrite(STDERR, "a cold request read no secret: $l\n"); exit(1); } $r[$b][$n][] = $x; }
  $median = function (array $xs) { sort($xs); return $xs[intdiv(count($xs), 2)]; };
  $out = ["rounds" => (int) $argv[2]];
  foreach ($r as $b => $ns) {
      foreach ($ns as $n => $xs) {
          $first = $median(array_column($xs, "first_ms"));
          $request = $median(array_column($xs, "request_ms"));
          $out[$b === "tls" ? "mtls" : "file"][$n] = ["first_call_ms" => $first, "second_call_ms" => $median(array_column($xs, "second_ms")),
              "request_ms" => $request, "share" => $median(array_map(fn ($x) => $x["first_ms"] / $x["request_ms"], $xs))];
      }
  }
  echo json_encode($out, JSON_PRETTY_PRINT), "\n";' "$work/runs" "$ROUNDS"
