--TEST--
CLI: with no backend configured the first call says so once, naming where the CLI's settings go; later calls are silent
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
var_dump(PHP_SAPI, pantheon_get_secret('DB_PASSWORD'));
var_dump(pantheon_get_secret('DB_PASSWORD'), pantheon_get_secret('OTHER'));
// Configured from here on (as Pantheon's SDK is, by the environment): the values come; unset
// again, no second notice.
$path = ps_document('cli', ['DB_PASSWORD' => ps_web('from-cli-settings')]);
putenv("CUSTOMER_SECRETS_FAKE_FILE=$path");
Pantheon\Secrets\refresh();
var_dump(pantheon_get_secret('DB_PASSWORD'));
putenv('CUSTOMER_SECRETS_FAKE_FILE');
Pantheon\Secrets\refresh();
var_dump(pantheon_get_secret('DB_PASSWORD'));
unlink($path);
?>
--EXPECTF--
Warning: pantheon_get_secret(): no secrets backend is configured for the CLI: pantheon_secrets.backend is empty and CUSTOMER_SECRETS_FAKE_FILE is not set, so every secret reads as null. Give the CLI its settings in the php.ini of the CLI SAPI, with php -d, or with a file in PHP_INI_SCAN_DIR in %s on line %d
string(3) "cli"
NULL
NULL
NULL
string(17) "from-cli-settings"
NULL
