--TEST--
phpinfo(): shows the settings and the cache state, never a value
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.ttl=321
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['A' => ps_web('phpinfo-secret-value')]);
ps_use($path);
pantheon_get_secret('A');
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
$section = substr($info, strpos($info, "\npantheon_secrets\n"), 4000);
foreach (['pantheon_secrets support => enabled', 'pantheon_secrets.ttl => 321 => 321', 'pantheon_secrets.backend => file://',
          'secrets held => 1', 'fetches by this process => 1', 'environment => dev'] as $line) {
    echo str_contains($section, $line) ? "has: $line\n" : "MISSING: $line\n";
}
echo str_contains($info, 'phpinfo-secret-value') ? "VALUE LEAKED\n" : "no value in phpinfo\n";
unlink($path);
?>
--EXPECT--
has: pantheon_secrets support => enabled
has: pantheon_secrets.ttl => 321 => 321
has: pantheon_secrets.backend => file://
has: secrets held => 1
has: fetches by this process => 1
has: environment => dev
no value in phpinfo
