--TEST--
pantheon_get_secret(): under strict_types an int is a TypeError, as for any internal function
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
declare(strict_types=1);
try {
    pantheon_get_secret(123);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
try {
    pantheon_get_secret(null);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
var_dump(pantheon_get_secret('NOTHING_CONFIGURED'));
?>
--EXPECT--
pantheon_get_secret(): Argument #1 ($name) must be of type string, int given
pantheon_get_secret(): Argument #1 ($name) must be of type string, null given
NULL
