--TEST--
core dump: the core of a PHP process that read secrets holds no copy of their values (MADV_DONTDUMP arenas)
--EXTENSIONS--
pantheon_secrets
posix
--SKIPIF--
<?php
require __DIR__ . "/tls.inc";
if ($why = tls_skip_reason()) die("skip $why");
// The kernel writes cores into the worker's directory when core_pattern is a plain name and the
// hard RLIMIT_CORE allows it; otherwise gdb's gcore must be able to attach.
$pattern = trim((string) @file_get_contents('/proc/sys/kernel/core_pattern'));
$kernel = $pattern !== '' && !str_contains($pattern, '|') && !str_contains($pattern, '/') && trim((string) shell_exec('sh -c "ulimit -Hc"')) !== '0';
if (!$kernel) {
    if (!trim((string) shell_exec('command -v gdb 2>/dev/null'))) {
        die("skip cores go elsewhere (core_pattern '$pattern' or RLIMIT_CORE) and gdb's gcore is not installed");
    }
    $sleeper = proc_open(['sleep', '10'], [], $pipes);
    $probe = sys_get_temp_dir() . '/pantheon-secrets-gcore-probe-' . getmypid();
    exec('gdb -p ' . proc_get_status($sleeper)['pid'] . ' -batch -ex ' . escapeshellarg("gcore $probe") . ' 2>&1');
    proc_terminate($sleeper, 9);
    proc_close($sleeper);
    $attached = is_file($probe);
    @unlink($probe);
    if (!$attached) die("skip cores go elsewhere (core_pattern '$pattern' or RLIMIT_CORE) and gdb cannot attach (ptrace refused)");
}
?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$dir = ps_test_dir(true);
// Made here, never in the worker's code: the worker learns it only through the extension. Each
// value holds it once, so the count is the number of copies of values.
$canary = 'canary-' . bin2hex(random_bytes(16));
$secrets = ['A' => ps_web($canary), 'B' => ps_web("$canary-b", ['EnvValues' => ['dev' => "$canary-dev"]]), 'C' => ps_web("$canary-c" . str_repeat('x', 4000))];
file_put_contents("$dir/secrets.json", json_encode(['Secrets' => $secrets]));
$server = new TlsServer($secrets);
file_put_contents("$dir/worker.php", <<<'PHP'
<?php
$read = [pantheon_get_secret('A'), pantheon_get_secret('B'), pantheon_get_secret('C')];
echo array_sum(array_map('strlen', $read)), " bytes read\n";
if (getenv('PS_CORE') === 'abort') {
    posix_kill(getmypid(), SIGABRT);
}
echo "ready\n";
sleep(30);
PHP);
// A core from the kernel (SIGABRT) when it writes one here (see SKIPIF); else gdb's gcore, which
// leaves out MADV_DONTDUMP mappings as the kernel does.
$pattern = trim((string) file_get_contents('/proc/sys/kernel/core_pattern'));
$kernel = $pattern !== '' && !str_contains($pattern, '|') && !str_contains($pattern, '/') && trim((string) shell_exec('sh -c "ulimit -Hc"')) !== '0';
$mode = $kernel ? 'abort' : 'gcore';
$backends = [
    'file' => ['pantheon_secrets.backend' => "file://$dir/secrets.json"],
    'https' => ['pantheon_secrets.backend' => $server->url()] + tls_ini(),
];
foreach ($backends as $backend => $ini) {
    $cwd = "$dir/$backend";
    mkdir($cwd);
    $cmd = array_merge(['sh', '-c', 'ulimit -c unlimited 2>/dev/null; exec "$@"', 'sh'], ps_command($ini, "$dir/worker.php"));
    $worker = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]], $pipes, $cwd, ['PS_CORE' => $mode] + getenv());
    echo "$backend: ", fgets($pipes[1]);
    if ($mode === 'gcore') {
        fgets($pipes[1]);
        exec('gdb -p ' . (int) proc_get_status($worker)['pid'] . ' -batch -ex ' . escapeshellarg("gcore $cwd/core") . ' 2>&1');
        proc_terminate($worker, SIGKILL);
    }
    stream_get_contents($pipes[1]);
    proc_close($worker);
    $cores = glob("$cwd/core*");
    if (!$cores) {
        echo "no core was written ($mode)\n";
        continue;
    }
    $core = file_get_contents($cores[0]);
    echo "a core of ", strlen($core) > 1 << 20 ? 'more than 1 MiB' : strlen($core) . ' bytes', ", with the worker's own code in it: ",
        var_export(str_contains($core, "getenv('PS_CORE')"), true), "\n";
    echo "copies of the values in it: ", substr_count($core, $canary), "\n";
}
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
file: 4123 bytes read
a core of more than 1 MiB, with the worker's own code in it: true
copies of the values in it: 0
https: 4123 bytes read
a core of more than 1 MiB, with the worker's own code in it: true
copies of the values in it: 0
