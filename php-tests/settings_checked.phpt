--TEST--
settings: timeouts of 0 and a TTL above one year are refused, and the old value stays
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
foreach ([
    ['pantheon_secrets.timeout_ms', '0'],
    ['pantheon_secrets.connect_timeout_ms', '0'],
    ['pantheon_secrets.timeout_ms', '250'],
    ['pantheon_secrets.connect_timeout_ms', '600001'],
    ['pantheon_secrets.ttl', '31536001'],
    ['pantheon_secrets.ttl', '18446744073709551615'],
    ['pantheon_secrets.stale_limit', '99999999999'],
    ['pantheon_secrets.backoff_max', '31536001'],
    ['pantheon_secrets.ttl', '31536000'],
] as [$name, $value]) {
    $accepted = ini_set($name, $value) !== false;
    printf("%s=%s: %s, now %s\n", $name, $value, $accepted ? 'accepted' : 'refused', ini_get($name));
}
var_dump(Pantheon\Secrets\status()['ttl']);
?>
--EXPECT--
pantheon_secrets.timeout_ms=0: refused, now 3000
pantheon_secrets.connect_timeout_ms=0: refused, now 1000
pantheon_secrets.timeout_ms=250: accepted, now 250
pantheon_secrets.connect_timeout_ms=600001: refused, now 1000
pantheon_secrets.ttl=31536001: refused, now 900
pantheon_secrets.ttl=18446744073709551615: refused, now 900
pantheon_secrets.stale_limit=99999999999: refused, now 86400
pantheon_secrets.backoff_max=31536001: refused, now 300
pantheon_secrets.ttl=31536000: accepted, now 31536000
int(31536000)
