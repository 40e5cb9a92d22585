--TEST--
SDK: the internal client refuses an unknown API version and, with no backend, reads the SDK's file argument as its fake client would
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.backend=
pantheon_secrets.environment=live
--FILE--
<?php
require __DIR__ . '/secrets.inc';
use Pantheon\Internal\CustomerSecrets\CustomerSecretsClient;

$file = ps_document('local', [
    'USER_KEY' => ['Type' => 'runtime', 'Value' => 'u', 'Scopes' => ['user'], 'EnvValues' => ['live' => 'u-live']],
    'WEB_KEY'  => ps_web('w'),
    'NO_VALUE' => ps_web(null),
]);
// Local development as the SDK does it: a file argument and no backend configured.
$result = CustomerSecretsClient::create(['version' => '1', 'file' => $file])->get();
foreach ($result['Secrets'] as $name => $secret) {
    printf("%s: %s %s [%s]\n", $name, $secret['Type'], $secret['Value'], implode(',', $secret['Scopes']));
}
echo $result['SiteID'], ' ', $result['Count'], "\n";
var_dump(pantheon_get_secret('WEB_KEY'));
// A file that does not exist holds no secrets, as for the fake client; no warning.
var_dump(CustomerSecretsClient::create(['file' => "$file.missing"])->get()['Secrets']);
// With a backend configured, the backend is the source and the file argument is ignored.
// (The backend is a php.ini setting: that part runs in a PHP process of its own.)
$other = ps_document('backend', ['FROM_BACKEND' => ps_web('b')]);
echo ps_run(['pantheon_secrets.backend' => "file://$other"], '<?php echo implode(",", array_keys('
    . 'Pantheon\Internal\CustomerSecrets\CustomerSecretsClient::create(["version" => "1", "file" => '
    . var_export($file, true) . '])->get()["Secrets"])), "\n";');
foreach (['1', 1, null, '2', 2, 'v1'] as $version) {
    try {
        CustomerSecretsClient::create(['version' => $version]);
        echo var_export($version, true), ": ok\n";
    } catch (Exception $e) {
        echo var_export($version, true), ': ', get_class($e), ': ', $e->getMessage(), "\n";
    }
}
unlink($file);
unlink($other);
?>
--EXPECTF--
USER_KEY: runtime u-live [user]
WEB_KEY: runtime w [web]
site-under-test 2

Warning: pantheon_get_secret(): no secrets backend is configured for the CLI: pantheon_secrets.backend is empty and CUSTOMER_SECRETS_FAKE_FILE is not set, so every secret reads as null. Give the CLI its settings in the php.ini of the CLI SAPI, with php -d, or with a file in PHP_INI_SCAN_DIR in %s on line %d
NULL
array(0) {
}
FROM_BACKEND
'1': ok
1: ok
NULL: ok
'2': Exception: Unknown Customer Secrets API version
2: Exception: Unknown Customer Secrets API version
'v1': Exception: Unknown Customer Secrets API version
