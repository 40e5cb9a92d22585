--TEST--
https: down at the first call gives null and one warning; down after a good fetch serves stale values until the stale limit
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.ttl=1
pantheon_secrets.stale_limit=3
pantheon_secrets.backoff_max=1
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('good')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
$report = <<<'PHP'
$warnings = 0;
set_error_handler(function ($no, $message) use (&$warnings) { $warnings++; echo preg_replace('/:\d+\//', ':PORT/', $message), "\n"; return true; });
PHP;
// Down at the first call: a process of its own, whose backend has nothing listening.
echo ps_run(['pantheon_secrets.backend' => 'https://127.0.0.1:' . tls_dead_port()],
    "<?php $report\nvar_dump(pantheon_get_secret('A'), pantheon_get_secret('A'));\necho \"warnings: \$warnings\\n\";\n");
eval($report);
var_dump(pantheon_get_secret('A'));
$server->stop();
usleep(1200000);
var_dump(pantheon_get_secret('A'));
echo "stale: ", var_export(Pantheon\Secrets\status()['stale'], true), "\n";
usleep(2200000);
while (Pantheon\Secrets\status()['retry_in'] > 0) usleep(100000);
var_dump(pantheon_get_secret('A'));
echo "stale: ", var_export(Pantheon\Secrets\status()['stale'], true), "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECTF--
pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:PORT/customer-secrets/v1/runtime/secrets: connection refused
NULL
NULL
warnings: 1
string(4) "good"
pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:PORT/customer-secrets/v1/runtime/secrets: connection refused
string(4) "good"
stale: true
%Apantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:PORT/customer-secrets/v1/runtime/secrets: connection refused
NULL
stale: false
