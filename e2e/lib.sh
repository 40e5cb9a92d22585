# Shared by e2e/run.sh, e2e/apache.sh, e2e/wordpress.sh and bench/web.sh (sourced): a temporary
# directory that is removed at exit with every process started through `spawn`, check lines, free
# ports, PHP-FPM and nginx started from configuration written into that directory (nothing
# system-wide), and the secrets service with its sites, secrets and bindings.

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

# The head of a PHP-FPM pool [NAME] with WORKERS static workers on $work/NAME.sock, for pools.conf;
# fpm_service_settings: the lines of a pool that reads the service (service_up) with a binding.
fpm_pool() { # name workers
  printf '[%s]\nlisten = %s/%s.sock\nlisten.mode = 0666\npm = static\npm.max_children = %s\n' "$1" "$work" "$1" "$2"
  fpm_pool_user || true
}
fpm_service_settings() { # binding-file
  printf 'php_admin_value[pantheon_secrets.%s] = %s\n' backend "https://127.0.0.1:$service_port" client_cert "$1" ca_file "$data/ca.pem"
}
# A pool reading from the service at $service_port with binding-file, checked the way the e2e
# stacks check it: the TTL $TTL, a back-off of 1 s, errors logged to $work/php-errors.log.
fpm_service_pool() { # name workers binding-file
  fpm_pool "$1" "$2"
  fpm_service_settings "$3"
  cat <<POOL
php_admin_value[pantheon_secrets.ttl] = $TTL
php_admin_value[pantheon_secrets.backoff_max] = 1
php_admin_flag[display_errors] = off
php_admin_flag[log_errors] = on
php_admin_value[error_log] = $work/php-errors.log
POOL
}

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

# A server block for $work/servers.conf on 127.0.0.1:PORT with the lines BODY; fastcgi_location: a
# location block handing MATCH to the PHP-FPM pool on SOCKET to run SCRIPT (a path, or nginx
# variables), with more `fastcgi_param NAME VALUE` pairs if given.
nginx_server() { # port body
  printf '  server {\n    listen 127.0.0.1:%s;\n%s\n  }\n' "$1" "$2"
}
fastcgi_location() { # match socket script [param value]…
  printf '    location %s {\n      include /etc/nginx/fastcgi_params;\n      fastcgi_param SCRIPT_FILENAME %s;\n' "$1" "$3"
  local socket=$2
  shift 3
  while [ $# -ge 2 ]; do printf '      fastcgi_param %s %s;\n' "$1" "$2"; shift 2; done
  printf '      fastcgi_pass unix:%s;\n    }' "$socket"
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

# The secrets service (tools/service.sh, as this shell's child) in $work/service on a fresh data
# directory, with an access log. service_up starts it (again after service_down: on the same port)
# and exports what the CLI needs; $data is its data directory, $service_port and $service_pid its own.
. tools/service.sh
service_up() { # binary
  BIN=$1
  service_start "$work/service" "$BIN" --rate-limit 0 --access-log "$work/access.log" || return 1
  set -a
  . "$work/service/service.env"
  set +a
  data=$SERVICE_DATA_DIR service_port=$SERVICE_PORT service_pid=$SERVICE_PID
  pids+=("$service_pid")
}
service_down() { service_stop "$work/service"; }

# service_up, then the organization ORG owning the sites SITE…
service_with_sites() { # binary org site…
  service_up "$1" || return 1
  local org=$2 site
  shift 2
  "$BIN" org:create --data-dir "$data" "$org" > /dev/null || return 1
  for site in "$@"; do "$BIN" site:create --data-dir "$data" "$site" --org "$org" > /dev/null || return 1; done
}
# A site secret set through the API (the value on standard input, so no process list shows it).
set_secret() { # site[.env] name value [option…]
  printf '%s' "$3" | "$BIN" secret:site:set "$1" "$2" "${@:4}" > /dev/null
}
# A binding for SITE.ENV in FILE, readable by workers that run as another user.
issue_binding() { # site.env file
  "$BIN" binding:issue --data-dir "$data" "$1" --out "$2" > /dev/null && chmod 0644 "$2"
}

# An HAProxy configuration in TCP mode on 127.0.0.1:PORT, round-robin over the replicas at ADDR…
# (host:port), each health-checked every 500 ms. TLS passes through: the replicas identify PHP
# workers by their client certificates, so TLS must end there.
haproxy_tcp_conf() { # port addr…
  local port=$1 n=0 addr
  shift
  cat <<CONF
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
frontend secrets
  bind 127.0.0.1:$port
  default_backend replicas
backend replicas
  balance roundrobin
CONF
  for addr in "$@"; do
    n=$((n + 1))
    echo "  server r$n $addr check inter 500ms fall 1 rise 2"
  done
}
