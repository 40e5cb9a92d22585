--TEST--
cache: a malformed document after a good read keeps the last good values until the stale limit, then drops them
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.ttl=0
pantheon_secrets.stale_limit=1
pantheon_secrets.backoff_max=0
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['A' => ps_web('good')]);
ps_use($path);
echo pantheon_get_secret('A'), "\n";
file_put_contents($path, '{"Secrets": ');
echo @pantheon_get_secret('A'), " stale=", var_export(Pantheon\Secrets\status()['stale'], true), "\n";
usleep(1100000);
echo var_export(@pantheon_get_secret('A'), true), " stale=", var_export(Pantheon\Secrets\status()['stale'], true), "\n";
unlink($path);
?>
--EXPECT--
good
good stale=true
NULL stale=false
