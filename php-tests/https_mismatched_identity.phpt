--TEST--
https: a client key that does not belong to the certificate is named as such, and PHP carries on
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('a')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini('mismatched-client.pem'));
var_dump(pantheon_get_secret('A'));
echo "still running\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECTF--
%AWarning: pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:%d/customer-secrets/v1/runtime/secrets: the client key does not belong to the client certificate (pantheon_secrets.client_cert / client_key) in %s on line %d
NULL
still running
