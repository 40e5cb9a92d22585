#!/bin/sh
# The secrets service end to end, on loopback, in a temporary data directory:
#   init, an organization and a site, `serve` on a free port, then through the Terminus
#   commands an organization secret, a site secret and a live override (and an ic secret);
#   bindings for demo-site.dev, .test and .live (dev checked against the runtime API over mTLS);
#   and `local-generate` into OUT.
#
# usage: demo.sh PANTHEON_SECRETS_BINARY OUT.json
#
# Prints progress, paths and names only: never a token, a key or a value.
# With PANTHEON_SECRETS_DEMO_KEEP=1 the service keeps running, and the script prints the
# settings a PHP worker needs to read it over mTLS (the backend URL, binding and CA paths,
# the server's pid); otherwise it stops the service and removes the data directory.
set -eu

BIN=${1:?usage: demo.sh PANTHEON_SECRETS_BINARY OUT.json}
OUT=${2:?usage: demo.sh PANTHEON_SECRETS_BINARY OUT.json}
KEEP=${PANTHEON_SECRETS_DEMO_KEEP:-0}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pantheon-secrets-demo.XXXXXX")
DATA="$WORK/data"
PID=
cleanup() {
    status=$?
    if [ "$KEEP" != 1 ]; then
        if [ -n "$PID" ]; then
            kill "$PID" 2>/dev/null || true
            wait "$PID" 2>/dev/null || true
        fi
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The admin token goes to a 0600 file, never to the terminal.
umask 077
"$BIN" init --data-dir "$DATA" >"$WORK/admin.token"
"$BIN" org:create --data-dir "$DATA" demo-org
"$BIN" site:create --data-dir "$DATA" demo-site --org demo-org

"$BIN" serve --data-dir "$DATA" --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
PID=$!
URL=
for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on //p' "$WORK/serve.out")
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "the service did not start" >&2; exit 1; }
echo "service: $URL (data in $DATA)"

PANTHEON_SECRETS_URL=$URL
PANTHEON_SECRETS_TOKEN=$(cat "$WORK/admin.token")
PANTHEON_SECRETS_CA_FILE="$DATA/ca.pem"
export PANTHEON_SECRETS_URL PANTHEON_SECRETS_TOKEN PANTHEON_SECRETS_CA_FILE

# Values come from standard input so that they appear in no process list. The names are those
# examples/demo.php asks for: an organization secret, a site secret with a live override, and a
# build-only (ic) secret that web code never sees.
printf '%s' "org-smtp-password" | "$BIN" secret:org:set demo-org SMTP_PASSWORD --scope=web,user
printf '%s' "sk_test_demo_site" | "$BIN" secret:site:set demo-site STRIPE_KEY --scope=web,user
printf '%s' "sk_live_demo_site" | "$BIN" secret:site:set demo-site.live STRIPE_KEY
printf '%s' "gho_demo_build_token" | "$BIN" secret:site:set demo-site GITHUB --type=composer --scope=ic,user
"$BIN" secret:site:list demo-site --fields=name,type,scopes

# One binding per environment: the service resolves for the environment the certificate names.
for env in dev test live; do
    "$BIN" binding:issue --data-dir "$DATA" "demo-site.$env" --out "$WORK/binding-$env.pem" >/dev/null
done
# The dev binding reads the site's web secrets for dev over mTLS (names only are shown).
curl -sS --fail --cacert "$DATA/ca.pem" --cert "$WORK/binding-dev.pem" \
    "$URL/customer-secrets/v1/runtime/secrets" >"$WORK/runtime.json"
php -r '$d = json_decode(file_get_contents($argv[1]), true);
        echo "runtime API (demo-site.dev) serves: ", implode(", ", array_keys($d["Secrets"])), "\n";' \
    "$WORK/runtime.json" 2>/dev/null || echo "runtime API (demo-site.dev): $(wc -c <"$WORK/runtime.json") bytes"
rm -f "$WORK/runtime.json"

"$BIN" secret:site:local-generate demo-site --filepath "$OUT"

if [ "$KEEP" = 1 ]; then
    echo "service left running (pid $PID). For the extension (binding-test.pem and"
    echo "binding-live.pem sit next to the dev binding; the service answers for the binding's environment):"
    echo "  pantheon_secrets.backend=$URL"
    echo "  pantheon_secrets.client_cert=$WORK/binding-dev.pem"
    echo "  pantheon_secrets.ca_file=$DATA/ca.pem"
    echo "  pantheon_secrets.environment=dev"
    echo "stop it with: kill $PID; rm -rf $WORK"
fi
