--TEST--
cache: many calls read the document once; refresh() reads it again; nothing is read before the first call
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['A' => ps_web('one'), 'B' => ps_web('b')]);
ps_use($path);
$status = Pantheon\Secrets\status();
echo "before first call: fetches=", $status['fetch_count'], " count=", $status['count'], "\n";
for ($i = 0; $i < 1000; $i++) {
    pantheon_get_secret($i % 2 ? 'A' : 'B');
    pantheon_get_secret('MISSING');
}
$status = Pantheon\Secrets\status();
echo "after 2000 calls: fetches=", $status['fetch_count'], " count=", $status['count'], "\n";
ps_rewrite($path, ['A' => ps_web('two')]);
echo "rewritten, within TTL: ", pantheon_get_secret('A'), "\n";
var_dump(Pantheon\Secrets\refresh());
echo "after refresh: ", pantheon_get_secret('A'), " ", var_export(pantheon_get_secret('B'), true), "\n";
echo "fetches=", Pantheon\Secrets\status()['fetch_count'], "\n";
unlink($path);
?>
--EXPECT--
before first call: fetches=0 count=0
after 2000 calls: fetches=1 count=2
rewritten, within TTL: one
bool(true)
after refresh: two NULL
fetches=2
