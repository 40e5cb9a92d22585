--TEST--
https: a client without a certificate is refused by the service and gets null and one warning
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('a')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini(''));
$warnings = [];
set_error_handler(function ($no, $message) use (&$warnings) { $warnings[] = $message; return true; });
var_dump(pantheon_get_secret('A'), pantheon_get_secret('A'));
restore_error_handler();
echo count($warnings), " warning: ", preg_replace('/:\d+\//', ':PORT/', $warnings[0] ?? ''), "\n";
$counts = $server->counts();
echo "server answered ", $counts['requests'], " request(s)\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECTF--
NULL
NULL
1 warning: pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:PORT/customer-secrets/v1/runtime/secrets: %s
server answered 0 request(s)
