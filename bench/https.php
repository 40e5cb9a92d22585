<?php
// HTTPS benchmarks, against the TLS test server on loopback (php-tests/tls/server.py):
// - cold fetch: the first call in a fresh process (TLS handshake included) for 10, 100 and 1,000
//   secrets, and the whole process next to the same process start without the extension;
// - a service that hangs: request times of a PHP-FPM pool of 4 workers over 200 requests, next
//   to the same pool while the service is up.
// Usage: php bench/https.php EXTENSION [runs]
require __DIR__ . '/../php-tests/secrets.inc';
require __DIR__ . '/../php-tests/tls.inc';
require __DIR__ . '/../php-tests/fpm.inc';
[$ext, $runs] = [$argv[1], getenv('BENCH_SMOKE') ? 1 : (int) ($argv[2] ?? 15)];
$certs = tls_certs();
$median = function (array $xs) { sort($xs); return $xs[intdiv(count($xs), 2)]; };
$run = function (array $args) {
    $t = hrtime(true);
    $p = proc_open(array_merge([PHP_BINARY], $args), [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    $out = stream_get_contents($pipes[1]);
    stream_get_contents($pipes[2]);
    proc_close($p);
    return [(hrtime(true) - $t) / 1e6, trim($out)];
};
$result = ['cold' => []];
foreach (getenv('BENCH_SMOKE') ? [10] : [10, 100, 1000] as $n) {
    $secrets = [];
    for ($i = 0; $i < $n; $i++) {
        $secrets[sprintf('S%04d', $i)] = ps_web(str_repeat('v', 64));
    }
    $server = new TlsServer($secrets);
    $with = ['-d', "extension=$ext", '-d', 'pantheon_secrets.backend=' . $server->url(), '-d', "pantheon_secrets.client_cert=$certs/client.pem",
        '-d', "pantheon_secrets.ca_file=$certs/ca.pem", '-r', '$t = hrtime(true); $v = pantheon_get_secret("S0000"); echo (hrtime(true) - $t) / 1e6, " ", strlen($v);'];
    $without = ['-r', 'echo 0;'];
    $first = $procWith = $procWithout = [];
    for ($r = 0; $r < $runs; $r++) {
        [$ms, $out] = $run($with);
        [$ms0] = $run($without);
        [$call, $len] = explode(' ', $out);
        if ((int) $len !== 64) {
            fwrite(STDERR, "the cold fetch failed: $out\n");
            exit(1);
        }
        $first[] = (float) $call;
        $procWith[] = $ms;
        $procWithout[] = $ms0;
    }
    $curl = [];
    if (trim((string) shell_exec('command -v curl'))) {
        for ($r = 0; $r < $runs; $r++) {
            $curl[] = 1000 * (float) shell_exec(sprintf('curl -s -o /dev/null -w %%{time_total} --cacert %s --cert %s %s',
                escapeshellarg("$certs/ca.pem"), escapeshellarg("$certs/client.pem"), escapeshellarg($server->url('/customer-secrets/v1/runtime/secrets'))));
        }
    }
    $result['cold'][$n] = ['curl_ms' => $curl ? $median($curl) : null, 'first_call_ms' => $median($first), 'process_ms' => $median($procWith),
        'process_without_extension_ms' => $median($procWithout), 'ratio' => $median($procWith) / $median($procWithout),
        'server_requests' => $server->counts()['requests']];
    $server->stop();
}

// A service that accepts connections and never answers, next to one that is up.
$page = <<<'PHP'
<?php
$t = hrtime(true);
pantheon_get_secret('S0000');
echo "BODY ", (hrtime(true) - $t) / 1e6, "\n";
PHP;
foreach (['up' => [], 'hanging' => ['delay_ms' => 60000]] as $label => $control) {
    $server = new TlsServer(['S0000' => ps_web('v')], $control);
    $fpm = new Fpm(4, ['pantheon_secrets.backend' => $server->url(), 'pantheon_secrets.client_cert' => "$certs/client.pem",
        'pantheon_secrets.ca_file' => "$certs/ca.pem", 'pantheon_secrets.timeout_ms' => '1000', 'pantheon_secrets.connect_timeout_ms' => '1000'], $page, $ext);
    $t = hrtime(true);
    $times = array_map('floatval', $fpm->requests(getenv('BENCH_SMOKE') ? 8 : 200, 4));
    $elapsed = (hrtime(true) - $t) / 1e9;
    $fpm->stop();
    $result['service_' . $label] = ['requests' => count($times), 'median_ms' => $median($times), 'worst_ms' => max($times),
        'slow_requests' => count(array_filter($times, fn ($x) => $x > 100)), 'seconds' => $elapsed, 'server_requests' => $server->counts()['requests']];
    $server->stop();
}
echo json_encode($result, JSON_PRETTY_PRINT), "\n";
