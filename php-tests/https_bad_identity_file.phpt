--TEST--
https: a client certificate file without a key is named in the warning, and its content is not
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.client_cert=/tmp/pantheon-secrets-test-certs/client.crt
pantheon_secrets.ca_file=/tmp/pantheon-secrets-test-certs/ca.pem
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_certs();
ps_with_ini(['pantheon_secrets.backend' => 'https://127.0.0.1:' . tls_dead_port()]);
var_dump(pantheon_get_secret('A'));
?>
--EXPECTF--
Warning: pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:%d/customer-secrets/v1/runtime/secrets: pantheon_secrets.client_cert /tmp/pantheon-secrets-test-certs/client.crt: no private key in it (set pantheon_secrets.client_key) in %s on line %d
NULL
