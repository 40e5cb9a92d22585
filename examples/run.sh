#!/usr/bin/env bash
# `make run`: the secrets service on loopback with a temporary data directory; an organization
# secret, a site secret and a live override set through its CLI; a binding per environment; and
# PHP with the extension reading them over mutual TLS. Then the same through the file that
# `secret:site:local-generate` writes. Everything it started is stopped and removed at the end.
# usage: examples/run.sh EXTENSION.so PANTHEON_SECRETS_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=$1
BIN=$2
PHP=${PHP:-php}
out=$(mktemp -d "${TMPDIR:-/tmp}/pantheon-secrets-run.XXXXXX")
demo=$out/demo
cleanup() {
  tools/service.sh stop "$demo"
  rm -rf "$out"
}
trap cleanup EXIT
# PHP loads the build named above, also where `make install` put a copy in its configuration.
. tools/php-env.sh
php_without_installed "$out/conf.d"

echo "== The service, set up through its CLI"
# The demo leaves the service running in $demo: service.env says where (tools/service.sh), and
# the bindings are binding-ENV.pem beside it.
PANTHEON_SECRETS_DEMO_DIR=$demo crates/server/scripts/demo.sh "$BIN" "$out/local.json"
. "$demo/service.env"

echo
echo "== PHP reading them over mutual TLS, one binding per environment"
for env in dev test live; do
  "$PHP" -d "extension=$EXT" -d "pantheon_secrets.backend=$PANTHEON_SECRETS_URL" \
    -d "pantheon_secrets.client_cert=$demo/binding-$env.pem" -d "pantheon_secrets.ca_file=$PANTHEON_SECRETS_CA_FILE" examples/demo.php "demo-site.$env"
done

echo
echo "== The same from the file secret:site:local-generate wrote (local development)"
"$PHP" -d "extension=$EXT" -d "pantheon_secrets.backend=file://$out/local.json" -d pantheon_secrets.environment=live \
  examples/demo.php "local file, live"
