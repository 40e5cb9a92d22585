--TEST--
pantheon_get_secret(): values are byte-exact, up to 16,384 bytes
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$values = [
    'UTF8'     => "clé – 秘密 – 🔑",
    'NEWLINES' => "line 1\nline 2\r\n\ttabbed",
    'QUOTES'   => "it's \"quoted\" \\ back\\slashed",
    'PEM'      => "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    'NUL'      => "a\0b",
    'MAX'      => str_repeat('x', 16383) . 'y',
];
$path = ps_document('doc', array_map('ps_web', $values));
ps_use($path);
foreach ($values as $name => $value) {
    $got = pantheon_get_secret($name);
    printf("%-8s %s %d\n", $name, $got === $value ? 'same' : 'DIFFERENT', strlen($got));
}
// A returned value is an ordinary PHP string: changing a copy changes neither the cache nor others.
$copy = pantheon_get_secret('UTF8');
$copy .= '!';
var_dump(pantheon_get_secret('UTF8') === $values['UTF8'], $copy === $values['UTF8'] . '!');

// One byte over the limit: the document is refused, naming the field, never the value.
ps_rewrite($path, ['BIG' => ps_web(str_repeat('v', 16385)), 'SMALL' => ps_web('small')]);
var_dump(Pantheon\Secrets\refresh());
// The last good values are kept: a bad document loses nothing.
var_dump(pantheon_get_secret('SMALL'), pantheon_get_secret('QUOTES') === $values['QUOTES']);
unlink($path);
?>
--EXPECTF--
UTF8     same 24
NEWLINES same 22
QUOTES   same 28
PEM      same 59
NUL      same 3
MAX      same 16384
bool(true)
bool(true)

Warning: Pantheon\Secrets\refresh(): cannot fetch secrets from file://%s: Secrets.BIG.Value: a value is at most 16384 bytes, this one is 16385 in %s on line %d
bool(false)
NULL
bool(true)
