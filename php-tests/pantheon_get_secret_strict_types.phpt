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
--EXPECTF--
pantheon_get_secret(): Argument #1 ($name) must be of type string, int given
pantheon_get_secret(): Argument #1 ($name) must be of type string, null given

Warning: pantheon_get_secret(): no secrets backend is configured for the CLI: pantheon_secrets.backend is empty and CUSTOMER_SECRETS_FAKE_FILE is not set, so every secret reads as null. Give the CLI its settings in the php.ini of the CLI SAPI, with php -d, or with a file in PHP_INI_SCAN_DIR in %s on line %d
NULL
