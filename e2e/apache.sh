#!/usr/bin/env bash
# Apache prefork with Debian's mod_php: the extension inside Apache's own children. The secrets
# service with two sites; three name-based virtual hosts on one port, each with its own
# `pantheon_secrets.*` settings (php_admin_value) and its own binding, one of them reading a file
# whose environment comes from Apache's `SetEnv`. One child serves all of them first (so the
# settings of one vhost must never reach another's values), then four children under load, then a
# graceful restart. Everything runs from a temporary directory and is removed at the end.
# usage: e2e/apache.sh EXTENSION.so PANTHEON_SECRETS_BINARY
# Prints one line per check ("ok - …" / "not ok - …") and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
EXT=$1
BIN=$2
STACK_NAME=apache
. e2e/lib.sh
php_version=$(php -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
modules=/usr/lib/apache2/modules
[ -f "$modules/libphp$php_version.so" ] || { echo "not ok - mod_php $php_version is not installed ($modules/libphp$php_version.so)"; exit 1; }

# --- the service: two sites, a binding each -------------------------------------------------------
service_with_sites "$BIN" apache-org site-a site-b || exit 1
# Values of different lengths: ab counts a body of another length as a failed request.
set_secret site-a API_KEY a-site-value --scope=web,user
set_secret site-a.live API_KEY a-live-value-of-site-a
set_secret site-b API_KEY b-value --scope=web,user
issue_binding site-a.live "$work/binding-a.pem"
issue_binding site-b.dev "$work/binding-b.pem"
cat > "$work/local.json" <<'JSON'
{"Secrets": {"API_KEY": {"Type": "runtime", "Value": "c-dev", "Scopes": ["web"], "EnvValues": {"test": "c-test-value-from-setenv"}}}}
JSON
# Apache's children run as www-data; the data directory is the service's own (0700).
cp "$data/ca.pem" "$work/ca.pem"
chmod 0644 "$work/local.json" "$work/ca.pem"

# --- Apache: our own configuration, prefork, mod_php with this extension ---------------------------
mkdir -p "$work/htdocs" "$work/php" "$work/php-scan"
cat > "$work/htdocs/index.php" <<'PHP'
<?php
// The body is the value alone (so ab can compare lengths); the rest goes in headers.
$value = pantheon_get_secret('API_KEY');
$status = Pantheon\Secrets\status();
header('X-Pid: ' . getmypid());
header('X-Fetch-Count: ' . $status['fetch_count']);
header('X-Environment: ' . $status['environment']);
header('X-Getenv: ' . var_export(getenv('PANTHEON_ENVIRONMENT'), true));
echo $value ?? 'NULL';
PHP
printf 'extension=%s\ndisplay_errors=Off\nlog_errors=On\nerror_log=%s/php-errors.log\n' "$EXT" "$work" > "$work/php/php.ini"
: > "$work/php-errors.log"
chmod -R a+rX "$work/htdocs" "$work/php"
chmod a+rw "$work/php-errors.log"
apache_port=$(free_port)
# A name-based virtual host NAME.test whose PHP reads the service with the binding $work/FILE.
service_vhost() { # name file
  cat <<VHOST
<VirtualHost 127.0.0.1:$apache_port>
  ServerName $1.test
  php_admin_value pantheon_secrets.backend https://127.0.0.1:$service_port
  php_admin_value pantheon_secrets.client_cert $work/$2
  php_admin_value pantheon_secrets.ca_file $work/ca.pem
</VirtualHost>
VHOST
}
apache_conf() { # max-children
  cat <<CONF
ServerRoot $work
ServerName localhost
Listen 127.0.0.1:$apache_port
PidFile $work/apache.pid
Mutex file:$work default
ErrorLog $work/apache-error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_prefork_module $modules/mod_mpm_prefork.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule env_module $modules/mod_env.so
LoadModule php_module $modules/libphp$php_version.so
StartServers $1
MinSpareServers $1
MaxSpareServers $1
ServerLimit $1
MaxRequestWorkers $1
MaxConnectionsPerChild 0
PHPINIDir $work/php
DocumentRoot $work/htdocs
<Directory $work/htdocs>
  Require all granted
</Directory>
<FilesMatch "\\.php\$">
  SetHandler application/x-httpd-php
</FilesMatch>
$(service_vhost a binding-a.pem)
$(service_vhost b binding-b.pem)
<VirtualHost 127.0.0.1:$apache_port>
  ServerName c.test
  php_admin_value pantheon_secrets.backend file://$work/local.json
  SetEnv PANTHEON_ENVIRONMENT test
</VirtualHost>
CONF
}
apache_start() { # max-children
  apache_conf "$1" > "$work/apache.conf"
  # PHP's own scan directory is left out: the extension under test is the one php.ini names.
  # Its own session: Apache signals its whole process group when it stops or restarts.
  PHP_INI_SCAN_DIR=$work/php-scan spawn apache setsid /usr/sbin/apache2 -f "$work/apache.conf" -DFOREGROUND
  apache_pid=${pids[-1]}
  wait_for "curl -sf -o /dev/null -H 'Host: c.test' http://127.0.0.1:$apache_port/index.php" \
    || { echo "not ok - Apache did not start"; cat "$work/apache-error.log" "$work/apache.out"; exit 1; }
}
apache_stop() {
  kill -TERM "$apache_pid" 2> /dev/null
  wait "$apache_pid" 2> /dev/null
}
get() { curl -sS --max-time 10 -H "Host: $1.test" "http://127.0.0.1:$apache_port/index.php"; }
header() { curl -sS --max-time 10 -o /dev/null -D - -H "Host: $1.test" "http://127.0.0.1:$apache_port/index.php" | tr -d '\r' | sed -n "s/^$2: //Ip"; }
runtime_reads() { grep -c "$1" "$work/access.log"; }

# --- one child serves every vhost ------------------------------------------------------------------
apache_start 1
: > "$work/alternating"
for i in $(seq 10); do
  for vhost in a b c; do
    body=$(curl -sS --max-time 10 -D "$work/headers" -H "Host: $vhost.test" "http://127.0.0.1:$apache_port/index.php")
    echo "$vhost $(tr -d '\r' < "$work/headers" | sed -n 's/^X-Pid: //Ip') $body" >> "$work/alternating"
  done
done
check "one child served all 30 alternating requests" test "$(awk '{ print $2 }' "$work/alternating" | sort -u | wc -l)" = 1
check "site A's vhost reads its live value in every one of them" test "$(grep -c '^a [0-9]* a-live-value-of-site-a$' "$work/alternating")" = 10
check "site B's vhost reads its own value in every one of them" test "$(grep -c '^b [0-9]* b-value$' "$work/alternating")" = 10
check "Apache's SetEnv PANTHEON_ENVIRONMENT reaches the extension (the file's test override)" \
  test "$(grep -c '^c [0-9]* c-test-value-from-setenv$' "$work/alternating")" = 10
check "the environment the extension reports is the one getenv() sees" \
  test "$(header c X-Environment) $(header c X-Getenv)" = "test 'test'"
check "the child fetched once per site, not once per switch of vhost (site-a.live: $(runtime_reads site-a.live), site-b.dev: $(runtime_reads site-b.dev))" \
  test "$(runtime_reads site-a.live) $(runtime_reads site-b.dev)" = "1 1"
apache_stop

# --- four children under load, two vhosts at once --------------------------------------------------
apache_start 4
ab_run() { ab -q -n 400 -c 4 -H "Host: $1.test" "http://127.0.0.1:$apache_port/index.php" > "$work/ab-$1.out" 2>&1; }
ab_run a & ab_a=$!
ab_run b & ab_b=$!
wait "$ab_a" "$ab_b"
# ab compares every body's length with the first one's: the first must be the value itself.
ab_ok() { # vhost value
  grep -q '^Complete requests: *400' "$work/ab-$1.out" && grep -q '^Failed requests: *0' "$work/ab-$1.out" \
    && ! grep -q '^Non-2xx' "$work/ab-$1.out" && grep -q "^Document Length: *${#2} bytes" "$work/ab-$1.out" \
    && [ "$(get "$1")" = "$2" ]
}
check "400 requests to site A's vhost under load: every body its own value (ab: no failed, no other length)" ab_ok a a-live-value-of-site-a
check "400 requests to site B's vhost at the same time: the same" ab_ok b b-value
check "no value of one site in the other's pages" bash -c "! (for i in \$(seq 20); do curl -sS -H 'Host: b.test' http://127.0.0.1:$apache_port/index.php; echo; done | grep -q a-live-value)"

# --- a graceful restart leaves no child behind -----------------------------------------------------
children() { ps -o pid= --ppid "$apache_pid" | tr -d ' ' | sort; }
before=$(children)
kill -USR1 "$apache_pid"
sleep 1
answered=0
for _ in $(seq 10); do [ "$(get a)" = a-live-value-of-site-a ] && answered=$((answered + 1)); done
check "after apachectl graceful the vhosts answer ($answered/10)" test "$answered" = 10
gone=0
for _ in $(seq 100); do
  left=$(comm -12 <(echo "$before") <(children) | grep -c .)
  [ "$left" = 0 ] && { gone=1; break; }
  sleep 0.1
done
check "every child from before the graceful restart has exited" test "$gone" = 1
check "Apache's error log has no crash or value" bash -c \
  "! grep -qiE 'segmentation|exit signal|a-live-value|b-value' '$work/apache-error.log' '$work/php-errors.log'"
apache_stop

summary
