#!/usr/bin/env bash
# `make e2e`: the whole system on loopback. The secrets service; PHP-FPM with three pools (site A
# dev with 4 static workers, site A live, site B dev), each with its own binding; nginx in front;
# secrets set through the CLI; checks over HTTP. Everything runs from a temporary directory with
# its own configuration and is stopped and removed at the end, also on failure.
# usage: e2e/run.sh EXTENSION.so PANTHEON_SECRETS_BINARY
# Prints one line per check ("ok - …" / "not ok - …") and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
EXT=$1
BIN=$2
TTL=3
STACK_NAME=e2e
. e2e/lib.sh

# --- the service --------------------------------------------------------------------------------
service_with_sites "$BIN" e2e-org site-a site-b || exit 1
set_secret site-a API_KEY a-site-value --scope=web,user
set_secret site-a.live API_KEY a-live-value
set_secret site-b API_KEY b-site-value --scope=web,user
printf '%s' org-smtp | "$BIN" secret:org:set e2e-org ORG_SMTP --scope=web > /dev/null
for binding in site-a.dev site-a.live site-b.dev; do issue_binding "$binding" "$work/binding-$binding.pem"; done
chmod 0644 "$data/ca.pem"

# --- PHP-FPM: three pools, each its own binding --------------------------------------------------
for pool in a-dev:site-a.dev:4 a-live:site-a.live:2 b-dev:site-b.dev:2; do
  IFS=: read -r name binding workers <<< "$pool"
  fpm_service_pool "$name" "$workers" "$work/binding-$binding.pem"
done > "$work/pools.conf"
# A pool that reads a file and takes its environment from the environment PHP sees: the pool's
# env[] here, or a FastCGI parameter nginx sends (below), as getenv() reads them.
cat > "$work/env.json" <<'JSON'
{"Secrets": {"API_KEY": {"Type": "runtime", "Value": "env-dev", "Scopes": ["web"], "EnvValues": {"live": "env-live-from-pool", "test": "env-test-from-nginx"}}}}
JSON
chmod 0644 "$work/env.json"
{
  fpm_pool env 1
  echo "env[PANTHEON_ENVIRONMENT] = live"
  echo "php_admin_value[pantheon_secrets.backend] = file://$work/env.json"
} >> "$work/pools.conf"
fpm_start "$EXT"

# --- nginx: a port per pool ----------------------------------------------------------------------
cp e2e/page.php "$work/index.php"
declare -A port
for name in a-dev a-live b-dev env-pool env-nginx; do port[$name]=$(free_port); done
{
  for name in a-dev a-live b-dev; do
    nginx_server "${port[$name]}" "$(fastcgi_location / "$work/$name.sock" "$work/index.php")"
  done
  nginx_server "${port[env-pool]}" "$(fastcgi_location / "$work/env.sock" "$work/index.php")"
  nginx_server "${port[env-nginx]}" "$(fastcgi_location / "$work/env.sock" "$work/index.php" PANTHEON_ENVIRONMENT test)"
} > "$work/servers.conf"
nginx_start

get() { curl -sS --max-time 10 "http://127.0.0.1:${port[$1]}/"; }
field() { php -r '$d = json_decode(stream_get_contents(STDIN), true); $v = $d[$argv[1]] ?? null; echo is_array($v) ? implode(",", $v) : var_export($v, true);' "$1"; }
for _ in $(seq 100); do get a-dev > /dev/null 2>&1 && get b-dev > /dev/null 2>&1 && break; sleep 0.1; done

# --- checks --------------------------------------------------------------------------------------
start=$(date +%s.%N)
for i in $(seq 200); do echo "http://127.0.0.1:${port[a-dev]}/"; done | xargs -P 8 -n 20 curl -sS > "$work/a-dev.json"
elapsed=$(php -r "echo microtime(true) - $start;")
workers=$(php -r '$pids = []; foreach (file($argv[1]) as $l) { $d = json_decode($l, true); if ($d) $pids[$d["pid"]] = 1; } echo count($pids);' "$work/a-dev.json")
fetches=$(grep -c 'site-a.dev' "$work/access.log")
check "200 requests to site A dev all answered with its value" test "$(grep -c '"API_KEY":"a-site-value"' "$work/a-dev.json")" = 200
if php -r "exit($elapsed < $TTL ? 0 : 1);"; then
  check "the service counted exactly one fetch per worker ($fetches fetches, $workers workers)" test "$fetches" = "$workers"
else
  echo "# the 200 requests took longer than the TTL; the count check is skipped"
fi
check "site A dev reads its site value" test "$(get a-dev | field API_KEY)" = "'a-site-value'"
# The change is made early: its check must come within the TTL of the workers' fetches above,
# and what follows takes seconds on a busy machine.
set_secret site-a API_KEY a-changed-value
check "a changed secret does not show before the TTL" test "$(get a-dev | field API_KEY)" = "'a-site-value'"
check "site A live reads its live override" test "$(get a-live | field API_KEY)" = "'a-live-value'"
check "site B dev reads its own value" test "$(get b-dev | field API_KEY)" = "'b-site-value'"
check "the organization's secret reaches both sites" test "$(get b-dev | field ORG_SMTP)" = "'org-smtp'"
check "site B never sees site A's secrets" bash -c "! (for i in \$(seq 20); do curl -sS 'http://127.0.0.1:${port[b-dev]}/'; done | grep -q -e a-site-value -e a-live-value)"

check "PHP-FPM's env[PANTHEON_ENVIRONMENT] reaches the extension" test "$(get env-pool | field API_KEY)" = "'env-live-from-pool'"
check "nginx's fastcgi_param PANTHEON_ENVIRONMENT reaches the same worker's extension, request by request" \
  test "$(get env-nginx | field API_KEY) $(get env-pool | field API_KEY) $(get env-nginx | field API_KEY)" = "'env-test-from-nginx' 'env-live-from-pool' 'env-test-from-nginx'"

sleep $((TTL + 1))
changed=0
for _ in $(seq 8); do [ "$(get a-dev | field API_KEY)" = "'a-changed-value'" ] && changed=$((changed + 1)); done
check "after the TTL every worker shows the changed secret ($changed/8 requests)" test "$changed" = 8

service_down
sleep $((TTL + 1))
stale=0
for _ in $(seq 8); do
  page=$(get a-dev)
  [ "$(field API_KEY <<< "$page")" != NULL ] && [ "$(field stale <<< "$page")" = true ] && stale=$((stale + 1))
  [ -n "${E2E_DEBUG:-}" ] && echo "# $page"
done
check "with the service stopped, pages keep answering from the cache, marked stale ($stale/8)" test "$stale" = 8

check "the outage was logged as warnings naming the service, with no value in the log" bash -c \
  "grep -q 'cannot fetch secrets from https://127.0.0.1:$service_port' '$work/php-errors.log' && ! grep -q -e a-changed-value -e a-site-value -e org-smtp '$work/php-errors.log'"

service_up "$BIN" || exit 1
sleep 2
fresh=0
for _ in $(seq 8); do
  page=$(get a-dev)
  [ "$(field stale <<< "$page")" = false ] && [ "$(field API_KEY <<< "$page")" = "'a-changed-value'" ] && fresh=$((fresh + 1))
  [ -n "${E2E_DEBUG:-}" ] && echo "# $page"
done
check "after the service restarts, the next refresh succeeds ($fresh/8 fresh)" test "$fresh" = 8

summary
