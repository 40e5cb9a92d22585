--TEST--
settings: CUSTOMER_SECRETS_FAKE_FILE when the backend is empty; no backend says so once in the CLI; a bad setting is named; ini_set() cannot switch the backend
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$fake = ps_document('fake', ['A' => ps_web('from-fake-file')]);
$other = ps_document('other', ['A' => ps_web('from-ini')]);
// Each backend in a process of its own: it is a per-directory setting, not ini_set()'s.
$probe = "<?php\n\$value = pantheon_get_secret('A');\necho var_export(\$value, true), ' backend=', str_replace(getenv('CUSTOMER_SECRETS_FAKE_FILE') ?: '-', 'FAKE', Pantheon\\Secrets\\status()['backend']), \"\\n\";\n";
foreach ([
    'fake file' => ['', $fake],
    'ini wins' => ["file://$other", $fake],
    'none' => ['', ''],
    'bad' => ['ftp://example.invalid/secrets.json', ''],
    'relative' => ['file://relative/path.json', ''],
] as $case => [$backend, $fakeFile]) {
    echo "-- $case: ", ps_run(['pantheon_secrets.backend' => $backend], $probe, ['CUSTOMER_SECRETS_FAKE_FILE' => $fakeFile]);
}

var_dump(ini_set('pantheon_secrets.ttl', 'soon'), ini_get('pantheon_secrets.ttl'));
var_dump(ini_set('pantheon_secrets.ttl', '60'), Pantheon\Secrets\status()['ttl']);
var_dump(ini_set('pantheon_secrets.client_cert', '/etc/passwd'));
var_dump(ini_set('pantheon_secrets.backend', "file://$other"), ini_get('pantheon_secrets.backend'));
unlink($fake);
unlink($other);
?>
--EXPECTF--
-- fake file: 'from-fake-file' backend=file://FAKE
-- ini wins: 'from-ini' backend=file://%s
-- none: 
Warning: pantheon_get_secret(): no secrets backend is configured for the CLI: pantheon_secrets.backend is empty and CUSTOMER_SECRETS_FAKE_FILE is not set, so every secret reads as null. Give the CLI its settings in the php.ini of the CLI SAPI, with php -d, or with a file in PHP_INI_SCAN_DIR in %s on line %d
NULL backend=none
-- bad: 
Warning: pantheon_get_secret(): cannot fetch secrets from ftp://example.invalid/secrets.json: pantheon_secrets.backend must be https://host[:port][/path] or file:///absolute/path in %s on line %d
NULL backend=ftp://example.invalid/secrets.json
-- relative: 
Warning: pantheon_get_secret(): cannot fetch secrets from file://relative/path.json: a file backend must be file:///absolute/path in %s on line %d
NULL backend=file://relative/path.json
bool(false)
string(3) "900"
string(3) "900"
int(60)
bool(false)
bool(false)
string(0) ""
