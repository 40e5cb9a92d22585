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
SERVICE="$(cd "$(dirname "$0")/../../.." && pwd)/tools/service.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pantheon-secrets-bench.XXXXXX")
DATA="$WORK/data"
cleanup() {
    status=$?
    "$SERVICE" stop "$WORK"
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
umask 077
# init and serve as every script starts the service (tools/service.sh); it says where in service.env.
"$SERVICE" start --data-dir "$DATA" "$WORK" "$BIN" --rate-limit 0
. "$WORK/service.env"
export PANTHEON_SECRETS_URL PANTHEON_SECRETS_TOKEN PANTHEON_SECRETS_CA_FILE
URL=$PANTHEON_SECRETS_URL
"$BIN" org:create --data-dir "$DATA" bench-org > /dev/null 2>&1
"$BIN" site:create --data-dir "$DATA" bench-site --org bench-org > /dev/null 2>&1
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
