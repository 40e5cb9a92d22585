--TEST--
https: while the service is broken, 100 calls in one process make only a handful of connection attempts
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.ttl=0
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('a')], ['mode' => 'close']);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
$warnings = 0;
set_error_handler(function () use (&$warnings) { $warnings++; return true; });
$started = microtime(true);
for ($i = 0; $i < 100; $i++) {
    pantheon_get_secret('A');
    usleep(30000);
}
$connections = $server->counts()['connections'];
$attempts = Pantheon\Secrets\status()['fetch_count'];
echo "attempts: ", $attempts <= 5 ? 'a handful' : $attempts, "; warnings equal attempts: ", var_export($warnings === $attempts, true), "\n";
echo "connections seen by the server: ", $connections >= 1 && $connections <= 2 * $attempts ? 'at most two per attempt' : $connections, "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
attempts: a handful; warnings equal attempts: true
connections seen by the server: at most two per attempt
