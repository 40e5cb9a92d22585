--TEST--
https: a server certificate not signed by the configured CA is rejected, with no fallback to no verification
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('leak-if-read')], [], 'other-server');
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
$value = pantheon_get_secret('A');
var_dump($value);
echo "requests answered: ", $server->counts()['requests'], "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECTF--
Warning: pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:%d/customer-secrets/v1/runtime/secrets: TLS: invalid peer certificate: %s in %s on line %d
NULL
requests answered: 0
