--TEST--
file backend: a FIFO (no writer) or a device as the document is refused at once, without blocking in open()
--EXTENSIONS--
pantheon_secrets
posix
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$fifo = ps_test_dir(true) . '/secrets.json';
posix_mkfifo($fifo, 0600);
$probe = <<<'PHP'
<?php
$started = microtime(true);
$value = pantheon_get_secret('A');
printf("%s after %s\n", var_export($value, true), microtime(true) - $started < 1 ? 'less than 1 s' : 'more than 1 s');
PHP;
foreach (['fifo' => $fifo, 'device' => '/dev/zero'] as $case => $path) {
    // A process of its own, stopped after 5 s: before the fix, open() on the FIFO never returned.
    $script = ps_test_dir() . "/probe-$case.php";
    file_put_contents($script, $probe);
    $child = proc_open(ps_command(['pantheon_secrets.backend' => "file://$path", 'pantheon_secrets.timeout_ms' => '500'], $script),
        [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]], $pipes);
    stream_set_blocking($pipes[1], false);
    $out = '';
    for ($i = 0; $i < 100 && proc_get_status($child)['running']; $i++) {
        usleep(50000);
        $out .= stream_get_contents($pipes[1]);
    }
    $blocked = proc_get_status($child)['running'];
    if ($blocked) {
        proc_terminate($child, SIGKILL);
    }
    $out .= stream_get_contents($pipes[1]);
    proc_close($child);
    echo "-- $case\n", $blocked ? "still blocked after 5 s\n" : str_replace($path, 'PATH', $out);
}
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
exec('rm -rf ' . escapeshellarg(ps_test_dir()));
?>
--EXPECTF--
-- fifo

Warning: pantheon_get_secret(): cannot fetch secrets from file://PATH: not a regular file in %s on line %d
NULL after less than 1 s
-- device

Warning: pantheon_get_secret(): cannot fetch secrets from file://PATH: not a regular file in %s on line %d
NULL after less than 1 s
