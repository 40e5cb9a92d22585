--TEST--
https: against a service that hangs, only the first call waits for the timeout; the back-off counts from its end and retry_in is set at once
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.timeout_ms=1000
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('late')], ['delay_ms' => 5000]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
set_error_handler(function ($no, $message) { echo preg_replace('/:\d+\//', ':PORT/', $message), "\n"; return true; });
for ($call = 1; $call <= 3; $call++) {
    $started = microtime(true);
    $value = pantheon_get_secret('A');
    $took = microtime(true) - $started;
    $retry = Pantheon\Secrets\status()['retry_in'];
    printf("call %d: %s, %s, retry_in %s\n", $call, var_export($value, true), $took > 0.9 ? 'waited for the timeout' : 'answered at once',
        $retry === null ? 'null' : ($retry > 0 ? 'set' : $retry));
}
echo "attempts: ", Pantheon\Secrets\status()['fetch_count'], "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:PORT/customer-secrets/v1/runtime/secrets: timed out after 1000 ms (pantheon_secrets.timeout_ms)
call 1: NULL, waited for the timeout, retry_in set
call 2: NULL, answered at once, retry_in set
call 3: NULL, answered at once, retry_in set
attempts: 1
