<?php
// The cost per call of pantheon_get_secret() on a hit, next to ini_get(), constant(), getenv()
// and what a userland client does per lookup (read and decode the secrets document), measured
// side by side in interleaved rounds; the median of the rounds is reported, and ratios to ini_get().
// Usage: php -d extension=… -d pantheon_secrets.backend=file://DOC bench/hit.php DOC [rounds] [calls]
$doc = $argv[1];
$rounds = (int) ($argv[2] ?? 15);
$calls = (int) ($argv[3] ?? 200000);
if (getenv('BENCH_SMOKE')) { // tools/test.sh checks that the report's commands run, quickly
    [$rounds, $calls] = [1, 1000];
}
define('BENCH_CONSTANT', 'constant-value');
putenv('BENCH_ENV=env-value');
$name = 'STRIPE_KEY';
if (pantheon_get_secret($name) === null) {
    fwrite(STDERR, "pantheon_get_secret('$name') is null: is the backend set?\n");
    exit(1);
}
$cases = [
    'ini_get()' => function (int $n) { for ($i = 0; $i < $n; $i++) { ini_get('precision'); } },
    'constant()' => function (int $n) { for ($i = 0; $i < $n; $i++) { constant('BENCH_CONSTANT'); } },
    'pantheon_get_secret()' => function (int $n) { for ($i = 0; $i < $n; $i++) { pantheon_get_secret('STRIPE_KEY'); } },
    'getenv()' => function (int $n) { for ($i = 0; $i < $n; $i++) { getenv('BENCH_ENV'); } },
    'userland JSON per lookup' => function (int $n) use ($doc) {
        for ($i = 0; $i < $n; $i++) { json_decode(file_get_contents($doc), true)['Secrets']['STRIPE_KEY']['Value']; }
    },
];
$scale = ['userland JSON per lookup' => 100]; // 100× fewer calls: it is that much slower
$samples = [];
for ($r = 0; $r < $rounds; $r++) {
    foreach ($cases as $label => $run) {
        $n = intdiv($calls, $scale[$label] ?? 1);
        $t = hrtime(true);
        $run($n);
        $samples[$label][] = (hrtime(true) - $t) / $n;
    }
}
$median = function (array $xs) { sort($xs); return $xs[intdiv(count($xs), 2)]; };
$ref = $median($samples['ini_get()']);
$result = [];
foreach ($samples as $label => $xs) {
    $result[$label] = ['ns' => $median($xs), 'ratio' => $median($xs) / $ref];
}
$fetches = Pantheon\Secrets\status()['fetch_count'];
echo json_encode(['per_call' => $result, 'rounds' => $rounds, 'calls' => $calls, 'fetches' => $fetches], JSON_PRETTY_PRINT), "\n";
