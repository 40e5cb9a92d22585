--TEST--
cache: with a TTL of 1 s the document is read again once the TTL has passed, not before
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.ttl=1
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['A' => ps_web('one')]);
ps_use($path);
echo pantheon_get_secret('A'), "\n";
ps_rewrite($path, ['A' => ps_web('two')]);
echo pantheon_get_secret('A'), " fetches=", Pantheon\Secrets\status()['fetch_count'], "\n";
usleep(1100000);
echo pantheon_get_secret('A'), " fetches=", Pantheon\Secrets\status()['fetch_count'], "\n";
echo pantheon_get_secret('A'), " fetches=", Pantheon\Secrets\status()['fetch_count'], "\n";
unlink($path);
?>
--EXPECT--
one
one fetches=1
two fetches=2
two fetches=2
