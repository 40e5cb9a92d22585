--TEST--
https: a malformed or oversize body keeps the last good values and names the cause
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('good')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
set_error_handler(function ($no, $message) { echo "warning: ", preg_replace('/^.*runtime\/secrets: /', '', $message), "\n"; return true; });
var_dump(pantheon_get_secret('A'));
$server->control(['body' => 'malformed']);
var_dump(Pantheon\Secrets\refresh(), pantheon_get_secret('A'));
$server->control(['body' => 'oversize']);
var_dump(Pantheon\Secrets\refresh(), pantheon_get_secret('A'));
echo "stale: ", var_export(Pantheon\Secrets\status()['stale'], true), "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
string(4) "good"
warning: malformed secrets document: Secrets.A: EOF while parsing a value at line 1 column 18
bool(false)
string(4) "good"
warning: response larger than 16777216 bytes
bool(false)
string(4) "good"
stale: true
