# Shared by e2e/run.sh, e2e/wordpress.sh and bench/web.sh (sourced): a temporary directory that is
# removed at exit with every process started through `spawn`, check lines, free ports, and PHP-FPM
# and nginx started from configuration written into that directory (nothing system-wide).

PATH=$PATH:/usr/sbin
work=$(mktemp -d "${TMPDIR:-/tmp}/pantheon-secrets-${STACK_NAME:-stack}.XXXXXX")
chmod 0755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
# PHP loads the build under test, not a copy `make install` put in its configuration.
. tools/php-env.sh
php_without_installed "$work/conf.d"

# Starts a command in the background, to be stopped at exit; its output goes to $work/NAME.out.
spawn() { # name command…
  local name=$1; shift
  "$@" > "$work/$name.out" 2>&1 &
  pids+=($!)
}

passed=0 failed=0
check() { # description, then a command that succeeds when the check holds
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $what"; else failed=$((failed + 1)); echo "not ok - $what"; fi
}
summary() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; }

free_port() { php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'; }
wait_for() { for _ in $(seq 150); do eval "$1" && return 0; sleep 0.1; done; return 1; }

# The lines a pool needs to run as root (PHP-FPM refuses root unless told), else nothing.
fpm_pool_user() { [ "$(id -u)" = 0 ] && printf 'user = root\ngroup = root\n'; }

# Starts PHP-FPM with this extension and the pools in $work/pools.conf (each [name] listening on
# $work/NAME.sock). Extra php -d options may follow.
fpm_start() { # extension [-d option]…
  local ext=$1; shift
  local fpm root=()
  fpm=$(ls /usr/sbin/php-fpm* | head -n1)
  [ "$(id -u)" = 0 ] && root=(-R)
  printf '[global]\nerror_log = %s/fpm.log\ndaemonize = no\npid = %s/fpm.pid\n' "$work" "$work" > "$work/fpm.conf"
  cat "$work/pools.conf" >> "$work/fpm.conf"
  spawn fpm "$fpm" -n "$@" -d "extension=$ext" -y "$work/fpm.conf" -F "${root[@]}"
}

# Starts nginx with the server blocks in $work/servers.conf (NGINX_WORKERS worker processes, default 1).
nginx_start() {
  mkdir -p "$work/nginx"
  cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes ${NGINX_WORKERS:-1};
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx; fastcgi_temp_path $work/nginx; proxy_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
$(cat "$work/servers.conf")
}
CONF
  spawn nginx nginx -c "$work/nginx.conf" -p "$work"
}

# Starts the secrets service on a fresh data directory, listening on $service_port, with an access
# log; exports what the CLI needs. Usage: service_init; then service_start (again after a stop).
service_init() { # binary
  BIN=$1 data=$work/data service_port=$(free_port)
  "$BIN" init --data-dir "$data" > "$work/admin.token"
  export PANTHEON_SECRETS_URL=https://127.0.0.1:$service_port PANTHEON_SECRETS_CA_FILE=$data/ca.pem
  PANTHEON_SECRETS_TOKEN=$(cat "$work/admin.token")
  export PANTHEON_SECRETS_TOKEN
}
service_start() {
  : > "$work/service.out"
  spawn service "$BIN" serve --data-dir "$data" --listen "127.0.0.1:$service_port" --rate-limit 0 --access-log "$work/access.log"
  service_pid=${pids[-1]}
  wait_for "grep -q '^listening on' '$work/service.out'" || { echo "the service did not start:"; cat "$work/service.out"; return 1; }
}
