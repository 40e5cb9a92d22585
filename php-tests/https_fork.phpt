--TEST--
https: fork after an HTTPS fetch; parent and child both fetch again and exit cleanly within a bound
--EXTENSIONS--
pantheon_secrets
pcntl
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('one')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
echo "parent: ", pantheon_get_secret('A'), "\n";
$server->document(['A' => ps_web('two')]);
$report = ps_path('child', 'txt');
$pid = pcntl_fork();
if ($pid === 0) {
    $value = pantheon_get_secret('A');
    $status = Pantheon\Secrets\status();
    file_put_contents($report, "child: $value fetches={$status['fetch_count']} status={$status['last_status']}\n");
    exit(0);
}
$start = microtime(true);
do {
    $done = pcntl_waitpid($pid, $code, WNOHANG);
    usleep(10000);
} while ($done === 0 && microtime(true) - $start < 15);
echo $done === $pid ? "child exited with " . pcntl_wexitstatus($code) . "\n" : "child still running after 15 s\n";
echo file_get_contents($report);
unlink($report);
var_dump(Pantheon\Secrets\refresh());
echo "parent: ", pantheon_get_secret('A'), " fetches=", Pantheon\Secrets\status()['fetch_count'], "\n";
echo "server answered ", $server->counts()['requests'], " requests\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
parent: one
child exited with 0
child: two fetches=1 status=200
bool(true)
parent: two fetches=2
server answered 3 requests
