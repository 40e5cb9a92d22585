--TEST--
pantheon_get_secret(): a bad name warns and gives null; a non-string argument is a TypeError, as PHP does
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['A' => ps_web('a'), '123' => ps_web('numeric name')]);
ps_use($path);
var_dump(pantheon_get_secret(''));
var_dump(pantheon_get_secret("two words"));
var_dump(pantheon_get_secret(str_repeat('n', 256)));
var_dump(pantheon_get_secret("nul\0byte"));
var_dump(pantheon_get_secret(123));
foreach ([[], new stdClass, 1.5] as $bad) {
    try {
        var_dump(pantheon_get_secret($bad));
    } catch (TypeError $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}
try {
    pantheon_get_secret();
} catch (ArgumentCountError $e) {
    echo get_class($e), ": ", $e->getMessage(), "\n";
}
try {
    pantheon_get_secret('A', 'B');
} catch (ArgumentCountError $e) {
    echo get_class($e), ": ", $e->getMessage(), "\n";
}
var_dump(pantheon_get_secret(name: 'A'));
unlink($path);
?>
--EXPECTF--
Warning: pantheon_get_secret(): Argument #1 ($name) is not a valid secret name: a secret name must not be empty in %s on line %d
NULL

Warning: pantheon_get_secret(): Argument #1 ($name) is not a valid secret name: a secret name is printable ASCII without whitespace (bad byte at offset 3) in %s on line %d
NULL

Warning: pantheon_get_secret(): Argument #1 ($name) is not a valid secret name: a secret name is at most 255 bytes, this one is 256 in %s on line %d
NULL

Warning: pantheon_get_secret(): Argument #1 ($name) is not a valid secret name: a secret name is printable ASCII without whitespace (bad byte at offset 3) in %s on line %d
NULL
string(12) "numeric name"
TypeError: pantheon_get_secret(): Argument #1 ($name) must be of type string, array given
TypeError: pantheon_get_secret(): Argument #1 ($name) must be of type string, stdClass given
NULL
ArgumentCountError: pantheon_get_secret() expects exactly 1 argument, 0 given
ArgumentCountError: pantheon_get_secret() expects exactly 1 argument, 2 given
string(1) "a"
