<?php
// HTTPS benchmarks on loopback:
// - cold fetch from the secrets service (when its binary is given; else from the TLS test server
//   php-tests/tls/server.py): the first call in a fresh process (TLS handshake included) for 10,
//   100 and 1,000 secrets, and the whole process next to the same process start without the
//   extension, and curl making the same request;
// - a service that hangs (the test server, told to stall): request times of a PHP-FPM pool of 4
//   workers over 200 requests, next to the same pool while the service is up.
// Usage: php bench/https.php EXTENSION [runs] [PANTHEON_SECRETS_BINARY]
require __DIR__ . '/../php-tests/secrets.inc';
require __DIR__ . '/../php-tests/tls.inc';
require __DIR__ . '/../php-tests/fpm.inc';
[$ext, $runs, $binary] = [$argv[1], getenv('BENCH_SMOKE') ? 1 : (int) ($argv[2] ?? 15), $argv[3] ?? null];

/** The secrets service on a temporary data directory, with a site holding $n secrets and a dev binding. */
final class Service
{
    public string $dir;
    public string $url;
    public string $cert;
    public string $ca;
    private $process;

    public function __construct(private string $bin, int $n)
    {
        $this->dir = sys_get_temp_dir() . '/pantheon-secrets-bench-' . getmypid() . '-' . bin2hex(random_bytes(4));
        $data = "$this->dir/data";
        mkdir($this->dir);
        $token = trim($this->op(['init', '--data-dir', $data]));
        $this->op(['org:create', '--data-dir', $data, 'org']);
        $this->op(['site:create', '--data-dir', $data, 'site', '--org', 'org']);
        $this->process = proc_open([$bin, 'serve', '--data-dir', $data, '--listen', '127.0.0.1:0', '--rate-limit', '0'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', "$this->dir/serve.log", 'w']], $pipes);
        $this->url = trim(substr((string) fgets($pipes[1]), strlen('listening on ')));
        $this->ca = "$data/ca.pem";
        $env = ['PANTHEON_SECRETS_URL' => $this->url, 'PANTHEON_SECRETS_TOKEN' => $token, 'PANTHEON_SECRETS_CA_FILE' => $this->ca];
        for ($i = 0; $i < $n; $i++) {
            $this->op(['secret:site:set', 'site', sprintf('S%04d', $i), '--scope=web'], $env, str_repeat('v', 64));
        }
        $this->cert = "$this->dir/binding.pem";
        $this->op(['binding:issue', '--data-dir', $data, 'site.dev', '--out', $this->cert]);
    }

    private function op(array $args, array $env = [], string $input = ''): string
    {
        $p = proc_open(array_merge([$this->bin], $args), [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        fwrite($pipes[0], $input);
        fclose($pipes[0]);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        if (proc_close($p) !== 0) {
            throw new RuntimeException(implode(' ', $args) . ": $err");
        }
        return $out;
    }

    public function stop(): void
    {
        if ($this->process) {
            proc_terminate($this->process);
            proc_close($this->process);
            $this->process = null;
            exec('rm -rf ' . escapeshellarg($this->dir));
        }
    }

    public function __destruct()
    {
        $this->stop();
    }
}
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
$result = ['cold' => [], 'peer' => $binary ? 'the secrets service' : 'the TLS test server (Python)'];
foreach (getenv('BENCH_SMOKE') ? [10] : [10, 100, 1000] as $n) {
    $secrets = [];
    for ($i = 0; $i < $n; $i++) {
        $secrets[sprintf('S%04d', $i)] = ps_web(str_repeat('v', 64));
    }
    if ($binary) {
        $server = new Service($binary, $n);
        [$url, $cert, $ca] = [$server->url, $server->cert, $server->ca];
    } else {
        $server = new TlsServer($secrets);
        [$url, $cert, $ca] = [$server->url(), "$certs/client.pem", "$certs/ca.pem"];
    }
    $with = ['-d', "extension=$ext", '-d', "pantheon_secrets.backend=$url", '-d', "pantheon_secrets.client_cert=$cert",
        '-d', "pantheon_secrets.ca_file=$ca", '-r', '$t = hrtime(true); $v = pantheon_get_secret("S0000"); echo (hrtime(true) - $t) / 1e6, " ", strlen($v);'];
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
                escapeshellarg($ca), escapeshellarg($cert), escapeshellarg(rtrim($url, '/') . '/customer-secrets/v1/runtime/secrets')));
        }
    }
    $result['cold'][$n] = ['curl_ms' => $curl ? $median($curl) : null, 'first_call_ms' => $median($first), 'process_ms' => $median($procWith),
        'process_without_extension_ms' => $median($procWithout), 'ratio' => $median($procWith) / $median($procWithout),
        'peer' => $binary ? 'the secrets service' : 'the TLS test server'];
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
