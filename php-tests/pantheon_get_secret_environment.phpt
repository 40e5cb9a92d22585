--TEST--
pantheon_get_secret(): the environment comes from ini, else PANTHEON_ENVIRONMENT, else dev
--EXTENSIONS--
pantheon_secrets
--ENV--
PANTHEON_ENVIRONMENT=test
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['KEY' => ps_web('site', ['EnvValues' => ['dev' => 'dev', 'test' => 'test', 'live' => 'live']])]);
ps_use($path);
echo "env var: ", pantheon_get_secret('KEY'), " (", Pantheon\Secrets\status()['environment'], ")\n";
ini_set('pantheon_secrets.environment', 'live');
echo "ini:     ", pantheon_get_secret('KEY'), " (", Pantheon\Secrets\status()['environment'], ")\n";
ini_set('pantheon_secrets.environment', '');
putenv('PANTHEON_ENVIRONMENT');
Pantheon\Secrets\refresh();
echo "default: ", pantheon_get_secret('KEY'), " (", Pantheon\Secrets\status()['environment'], ")\n";
ini_set('pantheon_secrets.environment', 'multidev1');
echo "multidev: ", pantheon_get_secret('KEY'), "\n";
unlink($path);
?>
--EXPECT--
env var: test (test)
ini:     live (live)
default: dev (dev)
multidev: site
