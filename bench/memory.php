<?php
// Resident memory a PHP-FPM worker gains from holding N secrets of SIZE bytes, for each N given:
// one static worker, a file backend; the worker's RSS (from its own /proc/self/smaps) after a
// request that reads nothing, after one that reads one secret (the fetch: the worker now holds them
// all), and after one that reads every secret. Where the growth is: the mappings left out of core
// dumps (the snapshot's values and the PHP strings made of them), malloc's heap (the index, names,
// and what the fetch left behind), other anonymous memory, and pages of files (the code of the
// fetch path, paged in once and shared by every worker).
// Usage: php bench/memory.php EXTENSION [SIZE] [N…]   (BENCH_SMOKE=1: 10 secrets of 16 bytes)
require __DIR__ . '/../php-tests/fpm.inc';
$ext = $argv[1];
$size = getenv('BENCH_SMOKE') ? 16 : (int) ($argv[2] ?? 1024);
$counts = getenv('BENCH_SMOKE') ? [10] : array_map('intval', array_slice($argv, 3) ?: [100, 1000]);
$page = <<<'PHP'
<?php
$n = (int) ($_GET['read'] ?? 0);
for ($i = 0; $i < $n; $i++) {
    if (pantheon_get_secret(sprintf('SECRET_%04d', $i)) === null) {
        echo "BODY missing $i\n";
        exit;
    }
}
$kinds = ['rss' => 0, 'dontdump' => 0, 'heap' => 0, 'other' => 0, 'file' => 0];
$rss = 0;
$name = '';
foreach (file('/proc/self/smaps') as $line) {
    if (preg_match('/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/', $line, $m)) {
        $name = trim($m[1]);
    } elseif (preg_match('/^Rss:\s+(\d+) kB/', $line, $m)) {
        $rss = 1024 * (int) $m[1];
        $kinds['rss'] += $rss;
    } elseif (str_starts_with($line, 'VmFlags:')) {
        $kind = match (true) {
            (bool) preg_match('/\bdd\b/', $line) => 'dontdump',
            $name === '[heap]' => 'heap',
            $name === '' => 'other',
            $name[0] === '/' => 'file',
            default => null,
        };
        if ($kind) {
            $kinds[$kind] += $rss;
        }
    }
}
echo "BODY ", json_encode($kinds), "\n";
PHP;
$result = ['value_bytes' => $size, 'held' => []];
foreach ($counts as $n) {
    $path = sys_get_temp_dir() . '/pantheon-secrets-bench-memory-' . getmypid() . "-$n.json";
    $secrets = [];
    for ($i = 0; $i < $n; $i++) {
        $secrets[sprintf('SECRET_%04d', $i)] = ['Type' => 'runtime', 'Value' => str_repeat(chr(65 + $i % 26), $size), 'Scopes' => ['web']];
    }
    file_put_contents($path, json_encode(['SiteID' => 'bench', 'Secrets' => $secrets]));
    chmod($path, 0644);
    $held = array_sum(array_map(fn ($k, $s) => strlen($k) + strlen($s['Value']), array_keys($secrets), $secrets));
    $fpm = new Fpm(1, ['pantheon_secrets.backend' => "file://$path"], $page, $ext);
    $ask = function (int $read) use ($fpm) {
        $body = $fpm->requests(1, 1, "read=$read")[0] ?? 'no answer';
        $r = json_decode($body, true) ?? throw new RuntimeException("the worker answered: $body");
        return $r;
    };
    $ask(0);
    $before = $ask(0);
    $one = $ask(1);
    $all = $ask($n);
    $again = $ask($n);
    $fpm->stop();
    unlink($path);
    $diff = fn ($a, $b) => array_map(fn ($k) => $b[$k] - $a[$k], array_combine(array_keys($a), array_keys($a)));
    $result['held'][$n] = ['bytes_held' => $held, 'after_one_read' => $diff($before, $one), 'after_every_read' => $diff($before, $all),
        'after_every_read_again' => $diff($before, $again)];
}
echo json_encode($result, JSON_PRETTY_PRINT), "\n";
