#!/bin/sh
# Benchmarks the runtime API on loopback over mTLS for a site with 100 web secrets (half of them
# organization values, a quarter with a live override), with keep-alive and with a new TLS
# connection per request. Build both in release first:
#   cargo build --release -p pantheon-secrets-server --bin pantheon-secrets --example runtime_load
# usage: bench.sh PANTHEON_SECRETS_BINARY RUNTIME_LOAD_BINARY [SECONDS]
set -eu
BIN=${1:?usage: bench.sh PANTHEON_SECRETS_BINARY RUNTIME_LOAD_BINARY [SECONDS]}
LOAD=${2:?usage: bench.sh PANTHEON_SECRETS_BINARY RUNTIME_LOAD_BINARY [SECONDS]}
SECONDS_=${3:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pantheon-secrets-bench.XXXXXX")
DATA="$WORK/data"
PID=
cleanup() {
    status=$?
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
umask 077
"$BIN" init --data-dir "$DATA" >"$WORK/admin.token" 2>/dev/null
"$BIN" org:create --data-dir "$DATA" bench-org > /dev/null 2>&1
"$BIN" site:create --data-dir "$DATA" bench-site --org bench-org > /dev/null 2>&1
"$BIN" serve --data-dir "$DATA" --listen 127.0.0.1:0 --rate-limit 0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
PID=$!
URL=
for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on //p' "$WORK/serve.out"); [ -n "$URL" ] && break; sleep 0.1
done
export PANTHEON_SECRETS_URL="$URL" PANTHEON_SECRETS_CA_FILE="$DATA/ca.pem"
PANTHEON_SECRETS_TOKEN=$(cat "$WORK/admin.token"); export PANTHEON_SECRETS_TOKEN
i=0
while [ $i -lt 100 ]; do
    if [ $((i % 2)) = 0 ]; then
        printf '%s' "org-value-$i-xxxxxxxxxxxxxxxxxxxxxxxx" | "$BIN" secret:org:set bench-org "SECRET_$i" --scope=web 2>/dev/null
    else
        printf '%s' "site-value-$i-xxxxxxxxxxxxxxxxxxxxxxx" | "$BIN" secret:site:set bench-site "SECRET_$i" --scope=web 2>/dev/null
    fi
    if [ $((i % 4)) = 0 ]; then
        printf '%s' "live-value-$i" | "$BIN" secret:org:set bench-org "SECRET_$i" --env=live 2>/dev/null
    fi
    i=$((i + 1))
done
"$BIN" binding:issue --data-dir "$DATA" bench-site.live --out "$WORK/binding.pem" >/dev/null 2>&1
echo "runtime API, site with 100 web secrets, environment live, ${SECONDS_}s per run, $(nproc) cores shared by server and load generator:"
"$LOAD" "$URL" "$DATA/ca.pem" "$WORK/binding.pem" --workers 32 --seconds "$SECONDS_"
"$LOAD" "$URL" "$DATA/ca.pem" "$WORK/binding.pem" --workers 8 --seconds "$SECONDS_" --new-connections
