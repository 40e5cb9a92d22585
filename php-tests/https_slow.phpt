--TEST--
https: a service slower than the timeout gives null and a warning naming the timeout, without waiting for it
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.timeout_ms=300
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('late')], ['delay_ms' => 3000]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
$started = microtime(true);
$value = pantheon_get_secret('A');
$elapsed = microtime(true) - $started;
var_dump($value);
echo $elapsed < 2.5 ? "gave up before the service answered\n" : "waited $elapsed s\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECTF--
Warning: pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:%d/customer-secrets/v1/runtime/secrets: timed out after 300 ms (pantheon_secrets.timeout_ms) in %s on line %d
NULL
gave up before the service answered
