# Sourced by the benchmarks that need the secrets service (after e2e/lib.sh, whose $work, spawn and
# free_port they use). `bench_service BINARY SECRETS [NAME]` makes a data directory with an
# organization and a site `bench` holding SECRETS web secrets of 64 bytes, a dev binding for it, and
# starts `serve` on a free port (without the access log); it writes what other steps need to
# $work/NAME/service.env (SERVICE_URL, SERVICE_CA, SERVICE_CERT, SERVICE_DATA, SERVICE_TOKEN,
# SERVICE_PID; NAME defaults to `service`) and sources it. `bench_add_secrets FROM TO` adds SECRET_FROM … SECRET_(TO-1) to the site through the
# management API, over one keep-alive connection.

bench_service() { # binary secrets [name]
  local bin dir data port
  bin=$(realpath "$1") dir=$work/${3:-service}
  data=$dir/data
  mkdir -p "$dir"
  "$bin" init --data-dir "$data" > "$dir/admin.token" 2>> "$dir/cli.log"
  "$bin" org:create --data-dir "$data" bench >> "$dir/cli.log" 2>&1
  "$bin" site:create --data-dir "$data" bench --org bench >> "$dir/cli.log" 2>&1
  "$bin" binding:issue --data-dir "$data" bench.dev --out "$dir/binding.pem" >> "$dir/cli.log" 2>&1
  port=$(free_port)
  spawn "${3:-service}" "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" --rate-limit 0
  wait_for "grep -q '^listening on' '$work/${3:-service}.out'" || { cat "$work/${3:-service}.out" >&2; return 1; }
  cat > "$dir/service.env" <<ENV
SERVICE_URL=https://127.0.0.1:$port
SERVICE_CA=$data/ca.pem
SERVICE_CERT=$dir/binding.pem
SERVICE_DATA=$data
SERVICE_TOKEN=$(cat "$dir/admin.token")
SERVICE_PID=${pids[-1]}
ENV
  . "$dir/service.env"
  bench_add_secrets 0 "$2"
}

bench_add_secrets() { # from to
  [ "$1" -lt "$2" ] || return 0
  "${PHP:-php}" -n -r '[, $url, $ca, $token, $from, $to] = $argv;
    for ($i = (int) $from; $i < (int) $to; $i++) {
        $body = json_encode(["name" => "SECRET_$i", "value" => str_pad("value-$i-", 64, "x"), "type" => "runtime", "scopes" => ["web"]]);
        printf("%surl = \"%s/customer-secrets/v1/sites/bench/secrets\"\ncacert = \"%s\"\nheader = \"Authorization: Bearer %s\"\n"
            . "header = \"Content-Type: application/json\"\ndata = \"%s\"\nfail\nsilent\nshow-error\noutput = \"/dev/null\"\n", $i > $from ? "next\n" : "", $url, $ca, $token, addslashes($body));
    }' "$SERVICE_URL" "$SERVICE_CA" "$SERVICE_TOKEN" "$1" "$2" > "$work/add.curl"
  curl -K "$work/add.curl"
}

# A wrk run against URL over mutual TLS with the current service's binding as client certificate
# (bench/wrk-client-cert.c, built on first use); prints "requests/s p99_ms errors".
bench_wrk() { # url [wrk option]…
  local url=$1; shift
  [ -e "$work/wrk-client-cert.so" ] || gcc -shared -fPIC -O2 -o "$work/wrk-client-cert.so" bench/wrk-client-cert.c -ldl
  LD_PRELOAD=$work/wrk-client-cert.so BENCH_CLIENT_CERT=$SERVICE_CERT wrk --latency "$@" "$url" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
    /^Requests\/sec/ { rps = $2 } $1 == "99%" { p99 = ms($2) } /Non-2xx|Socket errors/ { errors += $NF }
    END { printf "%s %s %d\n", rps, p99, errors }'
}
