--TEST--
PHP-FPM over HTTPS: 4 static workers serve 200 requests; the service saw exactly 4 fetches
--EXTENSIONS--
pantheon_secrets
posix
--SKIPIF--
<?php
require __DIR__ . '/fpm.inc';
require __DIR__ . '/tls.inc';
if (!fpm_binary()) die('skip php-fpm is not installed (make deps installs it)');
if (!trim((string) shell_exec('command -v cgi-fcgi'))) die('skip cgi-fcgi is not installed (make deps installs it)');
if ($why = tls_skip_reason()) die("skip $why");
?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/fpm.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['DB_PASSWORD' => ps_web('over-tls')]);
$fpm = new Fpm(4, ['pantheon_secrets.backend' => $server->url()] + tls_ini(), <<<'PHP'
<?php
echo "BODY ", getmypid(), " ", pantheon_get_secret('DB_PASSWORD'), " ", Pantheon\Secrets\status()['fetch_count'], "\n";
PHP);
$bodies = $fpm->requests(200, 8);
$fpm->stop();
$pids = [];
$values = [];
foreach ($bodies as $body) {
    [$pid, $value, $fetches] = explode(' ', $body);
    $pids[$pid] = max($pids[$pid] ?? 0, (int) $fetches);
    $values[$value] = ($values[$value] ?? 0) + 1;
}
echo count($bodies), " responses: ", json_encode($values), "\n";
echo "workers: ", count($pids), ", most fetches by one worker: ", max($pids), "\n";
$counts = $server->counts();
echo "the service answered ", $counts['requests'], " fetches", $counts['requests'] === count($pids) ? ", one per worker" : "", "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
200 responses: {"over-tls":200}
workers: 4, most fetches by one worker: 1
the service answered 4 fetches, one per worker
