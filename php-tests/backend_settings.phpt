--TEST--
settings: CUSTOMER_SECRETS_FAKE_FILE when the backend is empty; no backend says so once in the CLI; a bad setting is named; ini_set() switches
--EXTENSIONS--
pantheon_secrets
--ENV--
CUSTOMER_SECRETS_FAKE_FILE=/nonexistent/replaced-below.json
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$fake = ps_document('fake', ['A' => ps_web('from-fake-file')]);
$other = ps_document('other', ['A' => ps_web('from-ini')]);
putenv("CUSTOMER_SECRETS_FAKE_FILE=$fake");
Pantheon\Secrets\refresh();
echo "fake file: ", pantheon_get_secret('A'), "\n";

ini_set('pantheon_secrets.backend', "file://$other");
echo "ini wins:  ", pantheon_get_secret('A'), "\n";

putenv('CUSTOMER_SECRETS_FAKE_FILE');
ini_set('pantheon_secrets.backend', '');
echo "none:      ", var_export(pantheon_get_secret('A'), true), " backend=", Pantheon\Secrets\status()['backend'], "\n";

ini_set('pantheon_secrets.backend', 'ftp://example.invalid/secrets.json');
$value = pantheon_get_secret('A');
echo "bad:       ", var_export($value, true), "\n";
ini_set('pantheon_secrets.backend', 'file://relative/path.json');
$value = pantheon_get_secret('A');
echo "relative:  ", var_export($value, true), "\n";

var_dump(ini_set('pantheon_secrets.ttl', 'soon'), ini_get('pantheon_secrets.ttl'));
var_dump(ini_set('pantheon_secrets.ttl', '60'), Pantheon\Secrets\status()['ttl']);
var_dump(ini_set('pantheon_secrets.client_cert', '/etc/passwd'));
unlink($fake);
unlink($other);
?>
--EXPECTF--
fake file: from-fake-file
ini wins:  from-ini
none:      
Warning: pantheon_get_secret(): no secrets backend is configured for the CLI: pantheon_secrets.backend is empty and CUSTOMER_SECRETS_FAKE_FILE is not set, so every secret reads as null. Give the CLI its settings in the php.ini of the CLI SAPI, with php -d, or with a file in PHP_INI_SCAN_DIR in %s on line %d
NULL backend=none

Warning: pantheon_get_secret(): cannot fetch secrets from ftp://example.invalid/secrets.json: pantheon_secrets.backend must be https://host[:port][/path] or file:///absolute/path in %s on line %d
bad:       NULL

Warning: pantheon_get_secret(): cannot fetch secrets from file://relative/path.json: a file backend must be file:///absolute/path in %s on line %d
relative:  NULL
bool(false)
string(3) "900"
string(3) "900"
int(60)
bool(false)
