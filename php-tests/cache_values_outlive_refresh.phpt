--TEST--
cache: strings handed out stay intact after any number of refreshes in the same request
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['A' => ps_web('value-0')]);
ps_use($path);
$kept = [];
for ($i = 1; $i <= 40; $i++) {
    $kept[] = pantheon_get_secret('A');
    $copy = pantheon_get_secret('A');
    $copy[0] = 'V';
    $kept[] = $copy;
    ps_rewrite($path, ['A' => ps_web("value-$i")]);
    Pantheon\Secrets\refresh();
}
$expected = [];
for ($i = 0; $i < 40; $i++) {
    $expected[] = "value-$i";
    $expected[] = "Value-$i";
}
var_dump($kept === $expected, pantheon_get_secret('A'), Pantheon\Secrets\status()['fetch_count']);
unlink($path);
?>
--EXPECT--
bool(true)
string(8) "value-40"
int(41)
