#!/usr/bin/env bash
# Replicas over one PostgreSQL database (ARCHITECTURE §7), end to end on loopback: a PostgreSQL
# server of its own (initdb + pg_ctl, as an unprivileged user, in the temporary directory), two
# `serve` processes of one data directory (so one key file: the master key stays outside the
# database), HAProxy in TCP mode in front of them (TLS ends at the replicas, which know the PHP
# workers by their client certificates), PHP-FPM behind nginx reading through HAProxy. Checks over
# real connections: what one replica changes the other serves; one rate limit, one audit trail;
# revocation at once everywhere; key:rotate and a replica's SIGKILL under load; the database
# stopped and started again; no plaintext value in the database's files.
# usage: e2e/replicas.sh EXTENSION.so PANTHEON_SECRETS_BINARY
# Prints one line per check ("ok - …" / "not ok - …") and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
EXT=$1
BIN=$2
TTL=1
STACK_NAME=replicas
. e2e/lib.sh

# --- PostgreSQL: a throwaway server, on a loopback port and a socket in its own directory ---------
. e2e/postgres.sh
pg_init || exit 1

# --- two replicas of one data directory ----------------------------------------------------------
# tools/service.sh runs `init` for the first (PANTHEON_SECRETS_DATABASE makes it a PostgreSQL
# store, recorded in the data directory); the second serves the same directory on its own port.
data=$work/data
replica_up() { # n: replica n in $work/rN, on its previous port when restarted
  service_start --data-dir "$data" "$work/r$1" "$BIN" --rate-limit 3 --access-log "$work/access-r$1.log" || return 1
  pids+=("$(_service_field "$work/r$1" SERVICE_PID)")
}
replica_url() { _service_field "$work/r$1" PANTHEON_SECRETS_URL; }
replica_pid() { _service_field "$work/r$1" SERVICE_PID; }
replica_up 1 || exit 1
replica_up 2 || exit 1
set -a
. "$work/r1/service.env"
set +a
r1=$(replica_url 1) r2=$(replica_url 2)
"$BIN" org:create --data-dir "$data" acme > /dev/null || exit 1
for site in site-a site-b; do "$BIN" site:create --data-dir "$data" "$site" --org acme > /dev/null || exit 1; done
# A change through replica N: the CLI's Terminus commands talk to the API at PANTHEON_SECRETS_URL.
via() { # n site[.env] name value [option…]
  local n=$1; shift
  printf '%s' "$3" | PANTHEON_SECRETS_URL=$(replica_url "$n") "$BIN" secret:site:set "$1" "$2" "${@:4}" > /dev/null 2>> "$work/cli.log" \
    || { echo "# secret:site:set through replica $n failed: $(tail -n1 "$work/cli.log")"; return 1; }
}
via 1 site-a API_KEY first-value --scope=web || exit 1
for binding in site-a.dev site-a.test site-b.dev; do issue_binding "$binding" "$work/binding-$binding.pem"; done
chmod 0644 "$data/ca.pem"
# A runtime read from a replica's URL as a worker with BINDING makes it: the body, then the status.
runtime() { # url binding
  curl -sS --max-time 10 --cacert "$data/ca.pem" --cert "$work/binding-$2.pem" -w '\n%{http_code}' \
    "$1/customer-secrets/v1/runtime/secrets"
}
value_of() { # the value of secret NAME in a runtime body on stdin
  php -r '$d = json_decode(stream_get_contents(STDIN), true); echo $d["Secrets"][$argv[1]]["Value"] ?? "(none)";' "$1" 2> /dev/null
}
status_of() { tail -n1; }
body_of() { sed '$d'; }

# --- HAProxy in TCP mode: TLS passes through to the replicas --------------------------------------
haproxy_port=$(free_port)
haproxy_tcp_conf "$haproxy_port" "${r1#https://}" "${r2#https://}" > "$work/haproxy.cfg"
spawn haproxy haproxy -db -f "$work/haproxy.cfg"
wait_for "curl -s -o /dev/null --cacert '$data/ca.pem' https://127.0.0.1:$haproxy_port/readyz" || { cat "$work/haproxy.out"; exit 1; }

# --- PHP-FPM behind nginx, reading through HAProxy -------------------------------------------------
service_port=$haproxy_port
fpm_service_pool a-dev 4 "$work/binding-site-a.dev.pem" > "$work/pools.conf"
fpm_start "$EXT"
cp e2e/page.php "$work/index.php"
# The page the load runs against: the value only, so every answer has the same length (ab counts
# any other length as a failure), and 500 when the extension has no value to give.
cat > "$work/value.php" <<'PHP'
<?php
$v = pantheon_get_secret('API_KEY');
if ($v === null) {
    http_response_code(500);
}
echo $v ?? 'none', "\n";
PHP
web_port=$(free_port)
{
  nginx_server "$web_port" "$(fastcgi_location / "$work/a-dev.sock" "$work/index.php")
$(fastcgi_location /value "$work/a-dev.sock" "$work/value.php")"
} > "$work/servers.conf"
nginx_start
get() { curl -sS --max-time 10 "http://127.0.0.1:$web_port/"; }
field() { php -r '$d = json_decode(stream_get_contents(STDIN), true); $v = $d[$argv[1]] ?? null; echo is_array($v) ? implode(",", $v) : var_export($v, true);' "$1"; }
wait_for "get > /dev/null 2>&1" || { cat "$work/nginx-error.log" "$work/fpm.log"; exit 1; }

# --- checks --------------------------------------------------------------------------------------
check "a PHP page through nginx, PHP-FPM and HAProxy reads the value" test "$(get | field API_KEY)" = "'first-value'"

# One change through replica 1, read from replica 2 (which served the old value just before, so
# it has that answer cached): the next request already has the new one.
before=$(runtime "$r2" site-a.dev | body_of | value_of API_KEY)
via 1 site-a API_KEY changed-through-1
after=$(runtime "$r2" site-a.dev | body_of | value_of API_KEY)
check "a change through replica 1 is served by replica 2 on the next request ($before -> $after)" \
  test "$before $after" = "first-value changed-through-1"
via 2 site-a API_KEY changed-through-2
after=$(runtime "$r1" site-a.dev | body_of | value_of API_KEY)
check "and one through replica 2 by replica 1 ($after)" test "$after" = changed-through-2

# The management rate limit (3 requests/s per user, a burst of 3) is one budget for the cluster:
# twelve requests at once, six to each replica. Limited per replica, six or more would pass.
rate_token=$("$BIN" token:create --data-dir "$data" rate-check --org acme) || exit 1
args=()
for _ in 1 2 3 4 5 6; do
  for url in "$r1" "$r2"; do args+=(-o /dev/null "$url/customer-secrets/v1/sites/site-a/secrets/showall"); done
done
codes=$(curl -s --parallel --parallel-immediate --parallel-max 12 --cacert "$data/ca.pem" \
  -H "Authorization: Bearer $rate_token" -w '%{http_code}\n' "${args[@]}")
allowed=$(grep -c '^200$' <<< "$codes") limited=$(grep -c '^429$' <<< "$codes")
check "the rate limit holds across replicas: $allowed of 12 simultaneous requests allowed, $limited answered 429" \
  test "$allowed" -ge 1 -a "$allowed" -le 5 -a $((allowed + limited)) = 12

# A binding revoked (the operator command, on the one database) is refused by both replicas at once.
ok_before="$(runtime "$r1" site-a.test | status_of) $(runtime "$r2" site-a.test | status_of)"
"$BIN" binding:revoke --data-dir "$data" site-a.test > /dev/null
refused=0
for url in "$r1" "$r2"; do
  answer=$(curl -sS --max-time 10 --cacert "$data/ca.pem" --cert "$work/binding-site-a.test.pem" -D - \
    "$url/customer-secrets/v1/runtime/secrets" | tr -d '\r')
  if grep -q '^HTTP/[0-9.]* 403' <<< "$answer" && grep -qi '^x-error-code: binding_revoked' <<< "$answer"; then
    refused=$((refused + 1))
  else
    echo "# $url answered the revoked binding: $answer"
  fi
done
check "a revoked binding is refused by both replicas on their next request ($refused/2; before: $ok_before)" \
  test "$ok_before $refused" = "200 200 2"

# One audit trail: an action through each replica shows in one audit:list.
via 1 site-b AUDIT_ONE one --scope=web
via 2 site-b AUDIT_TWO two --scope=web
trail_has_both() {
  local trail
  trail=$("$BIN" audit:list --data-dir "$data" --action 'secret.*' --format json)
  [[ "$trail" == *'"AUDIT_ONE"'* && "$trail" == *'"AUDIT_TWO"'* ]]
}
check "the audit trail is one: a change through each replica shows in one audit:list" wait_for trail_has_both

# key:rotate while both replicas serve reads: no read fails, every read has the value.
for i in $(seq 40); do via 1 site-b "K$i" "rot-$i" --scope=web; done
load_loop() { # url binding out: reads until $work/stop exists, a line `ok|bad STATUS` each
  local out
  while [ ! -e "$work/stop" ]; do
    out=$(runtime "$1" "$2")
    if [[ "$out" == *'"rot-7"'* ]]; then echo "ok ${out##*$'\n'}"; else echo "bad ${out##*$'\n'}"; fi
  done > "$3"
}
rm -f "$work/stop"
load_loop "$r1" site-b.dev "$work/rotate-r1" &
l1=$!
load_loop "$r2" site-b.dev "$work/rotate-r2" &
l2=$!
sleep 1
"$BIN" key:rotate --data-dir "$data" > "$work/rotate.out" 2>&1
rotated=$?
sleep 1
touch "$work/stop"
wait "$l1" "$l2"
reads=$(cat "$work/rotate-r1" "$work/rotate-r2" | grep -c .) good=$(cat "$work/rotate-r1" "$work/rotate-r2" | grep -c '^ok 200$')
check "key:rotate while both replicas serve: $good of $reads reads good (rotate exit $rotated)" \
  test "$rotated" = 0 -a "$reads" -gt 10 -a "$good" = "$reads" -a -s "$work/rotate-r1" -a -s "$work/rotate-r2"
check "after the rotation both replicas still serve the values" \
  test "$(runtime "$r1" site-b.dev | body_of | value_of K40) $(runtime "$r2" site-b.dev | body_of | value_of K40)" = "rot-40 rot-40"

# SIGKILL of replica 2 while ab loads nginx -> PHP-FPM (TTL $TTL s, so workers keep fetching) ->
# HAProxy: no failed page; the fetches go on through replica 1; replica 2 comes back on its port.
fetches_r1_before=$(wc -l < "$work/access-r1.log")
ab -q -t 6 -n 1000000 -c 8 "http://127.0.0.1:$web_port/value" > "$work/ab.out" 2>&1 &
ab_pid=$!
sleep 2
kill -KILL "$(replica_pid 2)"
sleep 1
fetches_r1_mid=$(wc -l < "$work/access-r1.log")
wait "$ab_pid"
ab_rc=$?
complete=$(awk '/^Complete requests:/ {print $3}' "$work/ab.out")
failed_pages=$(awk '/^Failed requests:/ {print $3}' "$work/ab.out")
non2xx=$(awk '/^Non-2xx responses:/ {print $3}' "$work/ab.out")
check "SIGKILL of a replica under load: ${complete:-?} pages, ${failed_pages:-?} failed, ${non2xx:-0} non-2xx" \
  test "$ab_rc" = 0 -a "${complete:-0}" -gt 100 -a "${failed_pages:-1}" = 0 -a "${non2xx:-0}" = 0
fetches_r1_after=$(wc -l < "$work/access-r1.log")
check "the workers' fetches went on through replica 1 after the kill ($fetches_r1_before, $fetches_r1_mid, $fetches_r1_after)" \
  test "$fetches_r1_after" -gt "$fetches_r1_mid"
replica_up 2
check "the killed replica restarts on its port and serves" test "$(runtime "$r2" site-b.dev | status_of)" = 200

# The database stopped: both replicas answer 503 with Retry-After and a whole JSON error, never a
# document or a crash (the body is one JSON value: the message); the PHP workers keep serving their (stale) values.
get > /dev/null
pg_stop fast
down_ok=0
for n in 1 2; do
  headers=$(curl -sS --max-time 10 --cacert "$data/ca.pem" --cert "$work/binding-site-b.dev.pem" -D - -o "$work/down-$n.json" \
    "$(replica_url "$n")/customer-secrets/v1/runtime/secrets" | tr -d '\r')
  if grep -q '^HTTP/[0-9.]* 503' <<< "$headers" && grep -qi '^retry-after: [0-9]' <<< "$headers" \
    && php -r '$d = json_decode(file_get_contents($argv[1]), true); exit(json_last_error() === 0 && !isset($d["Secrets"]) ? 0 : 1);' "$work/down-$n.json" \
    && ! grep -q 'rot-' "$work/down-$n.json"; then
    down_ok=$((down_ok + 1))
  else
    echo "# replica $n with the database down: $headers $(cat "$work/down-$n.json")"
  fi
done
check "with PostgreSQL stopped both replicas answer 503 with Retry-After and a JSON error ($down_ok/2)" test "$down_ok" = 2
sleep $((TTL + 1))
stale=0
for _ in $(seq 8); do
  page=$(get)
  [ "$(field API_KEY <<< "$page")" = "'changed-through-2'" ] && [ "$(field stale <<< "$page")" = true ] && stale=$((stale + 1))
done
check "the PHP workers keep serving the values, marked stale ($stale/8)" test "$stale" = 8
check "neither replica crashed" kill -0 "$(replica_pid 1)" "$(replica_pid 2)"

# A replica started while the database is down waits and retries, and serves once it is up.
r3_port=$(free_port)
spawn r3 "$BIN" serve --data-dir "$data" --listen "127.0.0.1:$r3_port" --access-log "$work/access-r3.log"
sleep 3
r3_waiting=no
kill -0 "${pids[-1]}" 2> /dev/null && r3_waiting=yes
pg_start
back() { [ "$(runtime "$r1" site-b.dev | status_of) $(runtime "$r2" site-b.dev | status_of)" = "200 200" ]; }
check "PostgreSQL started again: both replicas recover on their own" wait_for back
r3_serves() { [ "$r3_waiting" = yes ] && [ "$(runtime "https://127.0.0.1:$r3_port" site-b.dev | body_of | value_of K3)" = rot-3 ]; }
check "a replica started before the database waited (alive: $r3_waiting) and serves once it is up" wait_for r3_serves
sleep $((TTL + 1))
fresh=0
for _ in $(seq 8); do
  page=$(get)
  [ "$(field stale <<< "$page")" = false ] && [ "$(field API_KEY <<< "$page")" = "'changed-through-2'" ] && fresh=$((fresh + 1))
done
check "and the PHP workers' next refresh is fresh again ($fresh/8)" test "$fresh" = 8

# No plaintext value in the database's files, after a CHECKPOINT wrote everything out; the secret's
# name (kept in the clear) is found, so the search does see the data.
canary="replica-canary-$RANDOM$RANDOM"
via 1 site-b CANARY_NAME_SEEN "$canary" --scope=web
pg_sql CHECKPOINT secrets
name_files=$(grep -rlaF CANARY_NAME_SEEN "$pg/data" | wc -l)
value_files=$(grep -rlaF "$canary" "$pg/data" | wc -l)
check "no file of the PostgreSQL data directory holds a plaintext value ($value_files; the name is in $name_files)" \
  test "$value_files" = 0 -a "$name_files" -gt 0

summary
