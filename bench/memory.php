<?php
// Resident memory of a process holding N secrets of SIZE bytes: RSS before the first call (the
// extension loaded, nothing fetched) and after every secret has been read once.
// Usage: php -d extension=… bench/memory.php N SIZE
[$n, $size] = getenv('BENCH_SMOKE') ? [10, 16] : [(int) ($argv[1] ?? 1000), (int) ($argv[2] ?? 1024)];
$rss = function (): int {
    preg_match('/^VmRSS:\s+(\d+) kB/m', file_get_contents('/proc/self/status'), $m);
    return (int) $m[1] * 1024;
};
$path = sys_get_temp_dir() . '/pantheon-secrets-bench-memory-' . getmypid() . '.json';
$secrets = [];
for ($i = 0; $i < $n; $i++) {
    $secrets[sprintf('SECRET_%04d', $i)] = ['Type' => 'runtime', 'Value' => str_repeat(chr(65 + $i % 26), $size), 'Scopes' => ['web']];
}
file_put_contents($path, json_encode(['SiteID' => 'bench', 'Secrets' => $secrets]));
$held = array_sum(array_map(fn ($k, $s) => strlen($k) + strlen($s['Value']), array_keys($secrets), $secrets));
unset($secrets);
gc_collect_cycles();
// The backend is a php.ini setting, not ini_set()'s: name the file as Pantheon's SDK does, before
// the first call reads the settings.
putenv("CUSTOMER_SECRETS_FAKE_FILE=$path");
$before = $rss();
for ($i = 0; $i < $n; $i++) {
    pantheon_get_secret(sprintf('SECRET_%04d', $i));
}
$after = $rss();
unlink($path);
$budget = 2 * $held + 2 * 1024 * 1024;
echo json_encode(['secrets' => $n, 'value_bytes' => $size, 'bytes_held' => $held, 'rss_growth' => $after - $before,
    'budget' => $budget, 'within_budget' => $after - $before <= $budget], JSON_PRETTY_PRINT), "\n";
