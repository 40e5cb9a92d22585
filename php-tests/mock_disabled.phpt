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
--EXPECT--
string(1) "0"
Pantheon\Secrets\SecretsException (RuntimeException): Pantheon\Secrets\mock() is disabled: set pantheon_secrets.allow_mock=1 in php.ini or with -d (test runs only)
bool(false)
still disabled
NULL
