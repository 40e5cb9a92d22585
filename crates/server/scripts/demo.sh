#!/bin/sh
# The secrets service end to end, on loopback, in a temporary data directory:
#   init, an organization and a site, `serve` on a free port, then through the Terminus
#   commands an organization secret, a site secret and a live override (and an ic secret);
#   bindings for demo-site.dev, .test and .live (dev checked against the runtime API over mTLS);
#   and `local-generate` into OUT.
#
# usage: demo.sh PANTHEON_SECRETS_BINARY OUT.json
#
# Prints progress, paths and names only: never a token, a key or a value. The service is started
# with tools/service.sh, as every script of the repository starts it.
# With PANTHEON_SECRETS_DEMO_DIR=DIR everything is made in DIR and the service keeps running, for
# a PHP worker to read it over mTLS: DIR/service.env says where it listens and its CA (see
# tools/service.sh), DIR/binding-dev.pem, binding-test.pem and binding-live.pem are the bindings.
# Stop it with `tools/service.sh stop DIR`. Otherwise the service is stopped and its directory
# removed at the end.
set -eu

BIN=${1:?usage: demo.sh PANTHEON_SECRETS_BINARY OUT.json}
OUT=${2:?usage: demo.sh PANTHEON_SECRETS_BINARY OUT.json}
SERVICE="$(cd "$(dirname "$0")/../../.." && pwd)/tools/service.sh"
KEEP=${PANTHEON_SECRETS_DEMO_DIR:+1}

if [ "$KEEP" = 1 ]; then
    WORK=$PANTHEON_SECRETS_DEMO_DIR
    mkdir -p "$WORK"
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/pantheon-secrets-demo.XXXXXX")
fi
DATA="$WORK/data"
cleanup() {
    status=$?
    if [ "$KEEP" != 1 ]; then
        "$SERVICE" stop "$WORK"
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

umask 077
# init (the admin token goes to service.env, 0600, never to the terminal), then serve.
"$SERVICE" start --data-dir "$DATA" "$WORK" "$BIN"
. "$WORK/service.env"
export PANTHEON_SECRETS_URL PANTHEON_SECRETS_TOKEN PANTHEON_SECRETS_CA_FILE
URL=$PANTHEON_SECRETS_URL
echo "service: $URL (data in $DATA)"
"$BIN" org:create --data-dir "$DATA" demo-org
"$BIN" site:create --data-dir "$DATA" demo-site --org demo-org
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
    echo "service left running (pid $SERVICE_PID). For the extension (binding-test.pem and"
    echo "binding-live.pem sit next to the dev binding; the service answers for the binding's environment):"
    echo "  pantheon_secrets.backend=$URL"
    echo "  pantheon_secrets.client_cert=$WORK/binding-dev.pem"
    echo "  pantheon_secrets.ca_file=$DATA/ca.pem"
    echo "  pantheon_secrets.environment=dev"
    echo "stop it with: $SERVICE stop $WORK; rm -rf $WORK"
fi
