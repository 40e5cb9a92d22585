--TEST--
fork: after first use, parent and child both answer, each from its own cache, and exit cleanly
--EXTENSIONS--
pantheon_secrets
pcntl
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['A' => ps_web('parent-read')]);
ps_use($path);
echo "parent before: ", pantheon_get_secret('A'), "\n";
$parentPid = getmypid();
$report = ps_path('child', 'txt');
ps_rewrite($path, ['A' => ps_web('after-fork')]);
$pid = pcntl_fork();
if ($pid === 0) {
    $status = Pantheon\Secrets\status();
    $value = pantheon_get_secret('A');
    $status = Pantheon\Secrets\status();
    file_put_contents($report, sprintf("child: %s fetches=%d own-pid=%s\n",
        $value, $status['fetch_count'], var_export($status['pid'] !== $parentPid, true)));
    exit(0);
}
$start = microtime(true);
do {
    $done = pcntl_waitpid($pid, $code, WNOHANG);
    usleep(10000);
} while ($done === 0 && microtime(true) - $start < 10);
echo $done === $pid ? "child exited, status " . pcntl_wexitstatus($code) . "\n" : "child did not exit within 10 s\n";
echo file_get_contents($report);
$status = Pantheon\Secrets\status();
echo "parent after: ", pantheon_get_secret('A'), " fetches=", $status['fetch_count'], "\n";
unlink($report);
unlink($path);
?>
--EXPECT--
parent before: parent-read
child exited, status 0
child: after-fork fetches=1 own-pid=true
parent after: parent-read fetches=1
