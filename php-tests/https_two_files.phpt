--TEST--
https: certificate and key in two files; a missing key or certificate file is named in the warning
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('two-files')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini('client.crt', ['pantheon_secrets.client_key' => 'client.key']));
var_dump(pantheon_get_secret('A'));
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
string(9) "two-files"
