--TEST--
settings: every pantheon_secrets.* setting is registered with its default and who may change it
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
// access: 7 = PHP_INI_ALL, 6 = PHP_INI_SYSTEM | PHP_INI_PERDIR, 4 = PHP_INI_SYSTEM.
$all = ini_get_all('pantheon_secrets');
ksort($all);
foreach ($all as $name => $s) {
    printf("%s = '%s' (access %d)\n", $name, $s['global_value'], $s['access']);
}
var_dump(ini_set('pantheon_secrets.backend', 'file:///elsewhere.json'));
var_dump(ini_set('pantheon_secrets.client_cert', '/elsewhere.pem'));
var_dump(ini_set('pantheon_secrets.environment', 'live'));
?>
--EXPECT--
pantheon_secrets.allow_mock = '0' (access 4)
pantheon_secrets.backend = '' (access 6)
pantheon_secrets.backoff_max = '300' (access 7)
pantheon_secrets.ca_file = '' (access 4)
pantheon_secrets.client_cert = '' (access 4)
pantheon_secrets.client_key = '' (access 4)
pantheon_secrets.connect_timeout_ms = '1000' (access 7)
pantheon_secrets.environment = '' (access 7)
pantheon_secrets.stale_limit = '86400' (access 7)
pantheon_secrets.timeout_ms = '3000' (access 7)
pantheon_secrets.ttl = '900' (access 7)
bool(false)
bool(false)
string(0) ""
