--TEST--
PHP-FPM: 4 static workers serve 200 requests; every worker read the document exactly once
--EXTENSIONS--
pantheon_secrets
posix
--SKIPIF--
<?php
require __DIR__ . '/fpm.inc';
if (!fpm_binary()) die('skip php-fpm is not installed (make deps installs it)');
if (!trim((string) shell_exec('command -v cgi-fcgi'))) die('skip cgi-fcgi is not installed (make deps installs it)');
?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/fpm.inc';
$path = ps_document('doc', ['DB_PASSWORD' => ps_web('fpm-value', ['EnvValues' => ['live' => 'fpm-live']])]);
chmod($path, 0644);
$fpm = new Fpm(4, ['pantheon_secrets.backend' => "file://$path", 'pantheon_secrets.environment' => 'live'], <<<'PHP'
<?php
$value = pantheon_get_secret('DB_PASSWORD');
$status = Pantheon\Secrets\status();
echo "BODY ", getmypid(), " ", $value, " ", $status['fetch_count'], "\n";
PHP);
$bodies = $fpm->requests(200, 8);
$fpm->stop();
unlink($path);

$byPid = [];
$values = [];
foreach ($bodies as $body) {
    [$pid, $value, $fetches] = explode(' ', $body);
    $byPid[$pid][] = (int) $fetches;
    $values[$value] = ($values[$value] ?? 0) + 1;
}
echo count($bodies), " responses\n";
var_dump($values);
echo count($byPid) >= 1 && count($byPid) <= 4 ? "served by 1 to 4 workers\n" : "served by " . count($byPid) . " workers\n";
$once = array_filter($byPid, fn ($counts) => max($counts) === 1 && min($counts) === 1);
echo count($once) === count($byPid) ? "every worker read the document exactly once\n" : "some worker read it more than once: " . json_encode($byPid) . "\n";
?>
--EXPECT--
200 responses
array(1) {
  ["fpm-live"]=>
  int(200)
}
served by 1 to 4 workers
every worker read the document exactly once
