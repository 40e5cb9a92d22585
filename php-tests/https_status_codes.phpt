--TEST--
https: 500 then 200 recovers after the back-off; 429 waits for Retry-After; 403 after a good fetch drops the values
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
$server = new TlsServer(['A' => ps_web('value')], ['status' => 500]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
set_error_handler(function ($no, $message) { echo "warning: ", preg_replace('/^.*runtime\/secrets: /', '', $message), "\n"; return true; });

echo "-- 500, then 200\n";
var_dump(pantheon_get_secret('A'));
$server->control(['status' => 200]);
var_dump(pantheon_get_secret('A'));
echo "requests during the back-off: ", $server->counts()['requests'], "\n";
while (Pantheon\Secrets\status()['retry_in'] > 0) usleep(50000);
var_dump(pantheon_get_secret('A'));

echo "-- 429 with Retry-After: 2\n";
$server->control(['status' => 429, 'retry_after' => 2]);
var_dump(pantheon_get_secret('A'));
$before = $server->counts()['requests'];
$retry = Pantheon\Secrets\status()['retry_in'];
// Retry-After counts from the end of the attempt, read here on the hit path's coarse clock: a few
// milliseconds over 2 s is the attempt's own time, not a longer wait.
echo "retry_in between 1 and 2 s (plus the attempt): ", var_export($retry > 1 && $retry <= 2.05, true), "\n";
$server->control(['status' => 200]);
for ($i = 0; $i < 20; $i++) pantheon_get_secret('A');
echo "new requests while waiting: ", $server->counts()['requests'] - $before, "\n";
usleep(2100000);
var_dump(pantheon_get_secret('A'));

echo "-- 403 after a good fetch\n";
$server->control(['status' => 403]);
var_dump(Pantheon\Secrets\refresh(), pantheon_get_secret('A'), Pantheon\Secrets\status()['last_status']);
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
-- 500, then 200
warning: HTTP 500
NULL
NULL
requests during the back-off: 1
string(5) "value"
-- 429 with Retry-After: 2
warning: HTTP 429: too many requests, retrying after 2 s
string(5) "value"
retry_in between 1 and 2 s (plus the attempt): true
new requests while waiting: 0
string(5) "value"
-- 403 after a good fetch
warning: HTTP 403: access refused
bool(false)
NULL
int(403)
