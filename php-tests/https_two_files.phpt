--TEST--
https: certificate and key in two files; a missing key or certificate file is named in the warning
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.client_cert=/tmp/pantheon-secrets-test-certs/client.crt
pantheon_secrets.client_key=/tmp/pantheon-secrets-test-certs/client.key
pantheon_secrets.ca_file=/tmp/pantheon-secrets-test-certs/ca.pem
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('two-files')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()]);
var_dump(pantheon_get_secret('A'));
?>
--EXPECT--
string(9) "two-files"
