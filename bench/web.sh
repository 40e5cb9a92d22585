#!/usr/bin/env bash
# Requests per second of a PHP-FPM page (nginx in front, 4 static workers, opcache on) that reads
# 10 secrets: with the extension, with the values hard-coded as constants, and the way a userland
# client does it (decode the secrets document per request). wrk from Debian drives it on
# loopback; the three pages are measured in interleaved rounds and the medians compared.
# The extension reads a file backend here: one fetch per worker, then every read is a hit, as with
# the service (make e2e checks the service path).
# usage: bench/web.sh EXTENSION.so [rounds] [seconds]   — prints JSON
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=$1 ROUNDS=${2:-3} SECONDS_EACH=${3:-4}
if [ -n "${BENCH_SMOKE:-}" ]; then ROUNDS=1 SECONDS_EACH=1; fi
command -v wrk >/dev/null || { echo '{"skipped": "wrk is not installed"}'; exit 0; }
STACK_NAME=web
. e2e/lib.sh

php -r '$s = []; for ($i = 0; $i < 10; $i++) $s["SECRET_$i"] = ["Type" => "runtime", "Value" => str_repeat(chr(97 + $i), 32), "Scopes" => ["web"]];
  file_put_contents($argv[1], json_encode(["SiteID" => "bench", "Secrets" => $s]));' "$work/secrets.json"
chmod 0644 "$work/secrets.json"
cat > "$work/extension.php" <<'PHP'
<?php
$out = '';
for ($i = 0; $i < 10; $i++) { $out .= pantheon_get_secret("SECRET_$i")[0]; }
echo $out;
PHP
php -r '$c = "<?php\n"; for ($i = 0; $i < 10; $i++) $c .= "const SECRET_$i = \"" . str_repeat(chr(97 + $i), 32) . "\";\n";
  $c .= "\$out = \"\";\nforeach ([" . implode(", ", array_map(fn ($i) => "SECRET_$i", range(0, 9))) . "] as \$v) { \$out .= \$v[0]; }\necho \$out;\n";
  file_put_contents($argv[1], $c);' "$work/constants.php"
cat > "$work/userland.php" <<PHP
<?php
\$doc = json_decode(file_get_contents('$work/secrets.json'), true);
\$out = '';
for (\$i = 0; \$i < 10; \$i++) { \$out .= \$doc['Secrets']["SECRET_\$i"]['Value'][0]; }
echo \$out;
PHP

cat > "$work/pools.conf" <<CONF
[bench]
listen = $work/bench.sock
listen.mode = 0666
listen.backlog = 1024
pm = static
pm.max_children = 4
$(fpm_pool_user)
php_admin_value[pantheon_secrets.backend] = file://$work/secrets.json
CONF
fpm_start "$EXT" -d zend_extension=opcache -d opcache.enable=1 -d opcache.validate_timestamps=0
port=$(free_port)
cat > "$work/servers.conf" <<CONF
  upstream fpm { server unix:$work/bench.sock; keepalive 8; }
  server {
    listen 127.0.0.1:$port;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $work\$uri;
      fastcgi_keep_conn on;
      fastcgi_pass fpm;
    }
  }
CONF
nginx_start
for _ in $(seq 100); do [ "$(curl -s "http://127.0.0.1:$port/extension.php")" = "abcdefghij" ] && break; sleep 0.1; done
for page in extension constants userland; do
  [ "$(curl -s "http://127.0.0.1:$port/$page.php")" = "abcdefghij" ] || { echo "page $page does not answer right" >&2; exit 1; }
  wrk -t1 -c8 -d1s "http://127.0.0.1:$port/$page.php" > /dev/null  # warm-up
done
for round in $(seq "$ROUNDS"); do
  for page in extension constants userland; do
    rps=$(wrk -t2 -c16 -d"${SECONDS_EACH}s" "http://127.0.0.1:$port/$page.php" | awk '/^Requests\/sec/ {print $2}')
    echo "$page $rps" >> "$work/rps"
  done
done
fetches=$(curl -s "http://127.0.0.1:$port/extension.php" > /dev/null; echo "<?php echo Pantheon\\Secrets\\status()['fetch_count'];" > "$work/fetches.php"; curl -s "http://127.0.0.1:$port/fetches.php")
php -r '$r = []; foreach (file($argv[1]) as $l) { [$p, $v] = explode(" ", trim($l)); $r[$p][] = (float) $v; }
  $m = fn ($xs) => (sort($xs) ? $xs[intdiv(count($xs), 2)] : 0);
  $out = ["rounds" => count($r["extension"]), "median_rps" => array_map($m, $r), "fetches_by_a_worker" => (int) $argv[2]];
  $out["extension_vs_constants"] = $out["median_rps"]["extension"] / $out["median_rps"]["constants"];
  $rounds = array_map(fn ($e, $c) => $e / $c, $r["extension"], $r["constants"]);
  $out["extension_vs_constants_per_round"] = [min($rounds), max($rounds)];
  $out["extension_vs_userland"] = $out["median_rps"]["extension"] / $out["median_rps"]["userland"];
  echo json_encode($out, JSON_PRETTY_PRINT), "\n";' "$work/rps" "$fetches"
