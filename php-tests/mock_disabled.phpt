--TEST--
mock: disabled by default, it throws a clear exception and cannot be switched on from PHP code
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
var_dump(ini_get('pantheon_secrets.allow_mock'));
try {
    Pantheon\Secrets\mock(['A' => 'x']);
} catch (Pantheon\Secrets\SecretsException $e) {
    echo get_class($e), ' (', get_parent_class($e), '): ', $e->getMessage(), "\n";
}
var_dump(ini_set('pantheon_secrets.allow_mock', '1'));
try {
    Pantheon\Secrets\mock(['A' => 'x']);
} catch (Pantheon\Secrets\SecretsException $e) {
    echo "still disabled\n";
}
var_dump(pantheon_get_secret('A'));
?>
--EXPECTF--
string(1) "0"
Pantheon\Secrets\SecretsException (RuntimeException): Pantheon\Secrets\mock() is disabled: set pantheon_secrets.allow_mock=1 in php.ini or with -d (test runs only)
bool(false)
still disabled

Warning: pantheon_get_secret(): no secrets backend is configured for the CLI: pantheon_secrets.backend is empty and CUSTOMER_SECRETS_FAKE_FILE is not set, so every secret reads as null. Give the CLI its settings in the php.ini of the CLI SAPI, with php -d, or with a file in PHP_INI_SCAN_DIR in %s on line %d
NULL
