<?php
// Writes bench/REPORT.md from the JSON figures bench/run.sh collected in DIR (NAME.json, and the
// command that made it in NAME.cmd): every table with its command, every goal met or not met.
// Usage: php bench/report.php DIR > REPORT.md
$dir = $argv[1];
$goals = [];

/** The figure NAME, or null when it did not run. */
function figure(string $name): ?array
{
    global $dir;
    $file = "$dir/$name.json";
    return is_file($file) ? json_decode(file_get_contents($file), true) : null;
}

/** The command that made figure NAME, as a Markdown code line. */
function command(string $name): string
{
    global $dir;
    return "Command: `" . trim((string) @file_get_contents("$dir/$name.cmd")) . "`\n\n";
}

/** A goal line, remembered for the summary. */
function goal(string $what, bool $met, string $detail): string
{
    global $goals;
    $goals[] = [$what, $met];
    return sprintf("- Goal: %s: **%s** (%s).\n", $what, $met ? 'met' : 'not met', $detail);
}

function table(array $head, array $rows): string
{
    $out = '| ' . implode(' | ', $head) . " |\n|" . str_repeat('---|', count($head)) . "\n";
    foreach ($rows as $row) {
        $out .= '| ' . implode(' | ', $row) . " |\n";
    }
    return $out . "\n";
}

$sections = [];

// 1. Instructions: a hit next to ini_get(), and the web path.
if ($h = figure('hit_instructions')) {
    $i = $h['instructions_per_call'];
    $rows = [];
    foreach ($i as $label => $n) {
        $rows[] = [$label, sprintf('%.0f', $n), $label === 'loop' ? '-' : sprintf('%.0f', $n - $i['loop']),
            sprintf('%.2f×', $n / $i['ini_get()']), isset($h['ns_per_call'][$label]) ? sprintf('%.1f', $h['ns_per_call'][$label]) : '-'];
    }
    $sections[] = "## A hit next to ini_get(), in instructions (PHP {$h['php']} CLI, callgrind)\n\n"
        . "Instructions per call, loop included, from two runs of the same loop (N and 2N calls) whose difference cancels start-up and the fetch; "
        . "the time per call (ns) is bench/hit.php's, a few interleaved rounds, and moves with the machine's load.\n\n"
        . table(['call', 'instructions per call', 'without the loop', 'ratio to ini_get()', 'ns per call'], $rows)
        . ($h['cgi'] ? "In one php-cgi request (a SAPI that serves requests, where the TTL is checked at the request's first call), instructions per call, loop included: "
            . sprintf("ini_get() %.0f, pantheon_get_secret() %.0f (%.2f×; %.2f× without the loop's %.0f).\n\n", $h['cgi']['instructions_per_call']['ini_get()'],
                $h['cgi']['instructions_per_call']['pantheon_get_secret()'], $h['cgi']['ratio'], $h['cgi']['ratio_without_loop'], $h['cgi']['instructions_per_call']['loop']) : '')
        . command('hit_instructions')
        . goal('a hit costs at most 1.2× ini_get() in instructions (loop included), CLI', $h['ratio'] <= 1.2,
            sprintf('%.2f×; %.2f× without the loop; %.2f× in time', $h['ratio'], $h['ratio_without_loop'], $h['time_ratio']))
        . ($h['cgi'] ? goal('the same in a request (php-cgi)', $h['cgi']['ratio'] <= 1.2, sprintf('%.2f×; %.2f× without the loop', $h['cgi']['ratio'], $h['cgi']['ratio_without_loop'])) : '')
        . "\nThe same script runs on each build of the PHP matrix (`make matrix` prints its line per build).\n";
}
if ($p = figure('page_instructions')) {
    $rows = [];
    foreach ($p['secrets'] as $n => $r) {
        $rows[] = [$n, sprintf('%.0f', $r['extension']), sprintf('%.0f', $r['constants']), sprintf('%.0f', $r['extra']), sprintf('%.2f%%', 100 * $r['share'])];
    }
    $ten = $p['secrets'][10] ?? $p['secrets'][array_key_first($p['secrets'])];
    $sections[] = "## The web path in instructions (php-cgi -T, {$p['requests']} and twice as many whole requests in one process, opcache on, callgrind)\n\n"
        . "The same page reads N secrets with pantheon_get_secret() or N constants it declares (as a wp-config.php does); "
        . "instructions per request from the difference of the two runs.\n\n"
        . table(['secrets read', 'extension (instructions/request)', 'constants', 'extra per request', 'share of the request'], $rows)
        . command('page_instructions')
        . goal('the extension adds at most 0.5% to a request reading 10 secrets', $ten['share'] <= 0.005,
            sprintf('%.2f%%, %.0f instructions', 100 * $ten['share'], $ten['extra']));
}

// 2. The service next to its ceiling.
if ($svc = figure('service')) {
    $rows = [];
    $n = $svc['nginx'];
    $v = $svc['service'];
    $ratio = fn (string $mode) => $svc['ratio_per_round'][$mode]['median'];
    $range = fn (string $mode) => sprintf('%.2f× to %.2f× round by round', $svc['ratio_per_round'][$mode]['min'], $svc['ratio_per_round'][$mode]['max']);
    $rows[] = ['nginx, static file (the ceiling)', sprintf('%.0f', $n['keepalive']['rps']), sprintf('%.2f', $n['keepalive']['p99_ms']), sprintf('%.0f', $n['new']['rps']), sprintf('%.2f', $n['new']['p99_ms']), '1.00× / 1.00×'];
    $rows[] = ['the runtime API, SQLite', sprintf('%.0f', $v['keepalive']['rps']), sprintf('%.2f', $v['keepalive']['p99_ms']), sprintf('%.0f', $v['new']['rps']), sprintf('%.2f', $v['new']['p99_ms']),
        sprintf('%.2f× / %.2f×', $ratio('keepalive'), $ratio('new'))];
    $rows[] = ['the runtime API, PostgreSQL', 'see the storage engines below (bench/replicas.sh, 10 secrets)', '', '', '', ''];
    $errors = $n['keepalive']['errors'] + $n['new']['errors'] + $v['keepalive']['errors'] + $v['new']['errors'];
    $sections[] = sprintf("## The service next to its ceiling (a site's document of %d secrets, %d bytes, over mutual TLS on loopback; %s, %d interleaved rounds, medians)

", $svc['secrets'], $svc['document_bytes'], $svc['wrk'], $svc['rounds'])
        . "nginx serves the very bytes the service answered, as a static file, with the service's own server certificate, CA and the same client certificate; "
        . "*new connection* sends `Connection: close`, so every request makes a full TLS handshake. wrk runs on the same two cores as the server it drives. "
        . "The ratio is the median of the rounds' ratios (service ÷ nginx in the same round): wall-clock figures on these shared machines move with the other engineers' load.\n\n"
        . table(['server', 'keep-alive requests/s', 'keep-alive p99 (ms)', 'new-connection requests/s', 'new-connection p99 (ms)', 'ratio (keep-alive / new)'], $rows)
        . sprintf("Errors (non-2xx or socket) seen by wrk: %d.\n\n", $errors)
        . command('service')
        . goal('the runtime API at least 0.8× nginx with keep-alive', $ratio('keepalive') >= 0.8, sprintf('%.2f×; %s', $ratio('keepalive'), $range('keepalive')))
        . goal('the runtime API at least 0.8× nginx with a new TLS connection per request', $ratio('new') >= 0.8, sprintf('%.2f×; %s', $ratio('new'), $range('new')));
}

// 4. Cold start in a fresh PHP-FPM worker.
if ($cold = figure('cold')) {
    $rows = [];
    foreach (['file' => 'file', 'mtls' => 'service, mutual TLS'] as $key => $label) {
        foreach ($cold[$key] ?? [] as $n => $c) {
            $rows[] = [$label, $n, sprintf('%.3f', $c['first_call_ms']), sprintf('%.4f', $c['second_call_ms']), sprintf('%.3f', $c['request_ms']), sprintf('%.0f%%', 100 * $c['share'])];
        }
    }
    $sections[] = sprintf("## Cold start: the first call in a fresh PHP-FPM worker (pm.max_requests = 1, so every request is a new worker's first; medians of %d requests)

", $cold['rounds'])
        . "The request time is what PHP sees, from REQUEST_TIME_FLOAT to the end of the page (the page does nothing else: the share is the most a cold fetch can be of any request).\n\n"
        . table(['backend', 'secrets', 'first call (ms)', 'second call, a hit (ms)', 'request (ms)', 'share of the request'], $rows)
        . command('cold');
}

// 5. Growth.
if ($g = figure('growth')) {
    $rows = [];
    foreach ($g['secrets'] as $n => $r) {
        $rows[] = [$n, sprintf('%.0f', $r['hit_instructions']), sprintf('%.3f', $r['cold_file_ms']), sprintf('%.2f', $r['cold_mtls_ms']), sprintf('%.3f', $r['answer_ms']), sprintf('%.2f', $r['answer_p99_ms'])];
    }
    $rows2 = [];
    foreach ($g['sites'] as $n => $r) {
        $rows2[] = [$n, sprintf('%.2f', $r['cold_mtls_ms']), sprintf('%.3f', $r['answer_ms']), sprintf('%.2f', $r['answer_p99_ms'])];
    }
    $sections[] = sprintf("## Growth (medians of %d processes for cold fetches; answers at one keep-alive connection)

", $g['rounds'])
        . "![growth](growth.svg)\n\n"
        . "By secrets the site holds (values of 64 bytes):\n\n"
        . table(['secrets', 'hit (instructions/call)', 'cold fetch, file (ms)', 'cold fetch, mutual TLS (ms)', 'service answer, mean (ms)', 'service answer, p99 (ms)'], $rows)
        . "By sites in the store (the site read holds 100 secrets; every other site one, written into SQLite by bench/fill-sites.py):\n\n"
        . table(['sites', 'cold fetch, mutual TLS (ms)', 'service answer, mean (ms)', 'service answer, p99 (ms)'], $rows2)
        . command('growth') . "The plot is drawn by `python3 bench/plot.py` from the same figures.\n";
}

// Wall-clock hit path (noisy; the instruction counts above are the figure of record).
if ($hit = figure('hit')) {
    $rows = [];
    foreach ($hit['per_call'] as $label => $r) {
        $rows[] = [$label, sprintf('%.1f', $r['ns']), sprintf('%.2f×', $r['ratio'])];
    }
    $secret = $hit['per_call']['pantheon_get_secret()'];
    $sections[] = sprintf("## Hit path in time (PHP %s CLI, per call, loop included; median of %d interleaved rounds)\n\n", $hit['php'] ?? PHP_VERSION, $hit['rounds'])
        . table(['call', 'ns', 'ratio to ini_get()'], $rows)
        . sprintf("Backend fetches during the run: %d.\n\n", $hit['fetches'])
        . command('hit')
        . goal('a hit costs less than getenv()', $secret['ns'] < $hit['per_call']['getenv()']['ns'], sprintf('%.1f ns against %.1f ns', $secret['ns'], $hit['per_call']['getenv()']['ns']));
}

if ($mem = figure('memory')) {
    $rows = [];
    $private = fn (array $x) => $x['dontdump'] + $x['heap'] + $x['other'];
    $kib = fn (int $b) => sprintf('%.0f', $b / 1024);
    $met = ['one' => true, 'all' => true];
    $detail = [];
    foreach ($mem['held'] as $n => $h) {
        $budget = 1.5 * $h['bytes_held'] + 1048576;
        foreach (['after_one_read' => 'one', 'after_every_read' => 'all'] as $key => $label) {
            $x = $h[$key];
            $rows[] = [$n, $kib($h['bytes_held']), $label === 'one' ? 'one secret (the fetch)' : 'every secret',
                $kib($x['dontdump']), $kib($x['heap']), $kib($x['other']), $kib($x['file']), $kib($x['rss']),
                sprintf('**%s**', $kib($private($x))), sprintf('%.2f×', $private($x) / $h['bytes_held']), $kib((int) $budget)];
            $met[$label] = $met[$label] && $private($x) <= $budget;
            $detail[$label][] = sprintf('%d secrets: %s KiB, %s allowed', $n, $kib($private($x)), $kib((int) $budget));
        }
    }
    $sections[] = sprintf("## Memory per PHP-FPM worker (%d-byte values, file backend; KiB gained over a request that read nothing)

", $mem['value_bytes'])
        . "Where it goes, from the worker's own /proc/self/smaps: *values* are the mappings left out of core dumps (the snapshot's copy of the values, "
        . "and the PHP strings made of them as they are first asked for); *heap* is malloc's (the snapshot's names, types, scopes and index, and what the fetch left); "
        . "*file* is pages of files, mostly the extension's own code for the fetch, paged in once and shared by every worker of the machine. "
        . "*Private* is values + heap + other anonymous memory: what each worker pays.\n\n"
        . table(['secrets', 'held', 'after reading', 'values', 'heap', 'other', 'file (shared)', 'RSS', 'private', 'private ÷ held', 'goal: 1.5× held + 1 MiB'], $rows)
        . command('memory')
        . goal('a worker holding the secrets gains at most 1.5× the bytes held + 1 MiB of private memory (after the fetch)', $met['one'], implode('; ', $detail['one']))
        . goal('the same once every secret has been read', $met['all'], implode('; ', $detail['all']));
}

if ($https = figure('https')) {
    $rows = [];
    foreach ($https['cold'] as $n => $c) {
        $rows[] = [$n, sprintf('%.2f', $c['first_call_ms']), $c['curl_ms'] === null ? '-' : sprintf('%.2f', $c['curl_ms']),
            sprintf('%.1f', $c['process_ms']), sprintf('%.1f', $c['process_without_extension_ms']), sprintf('%.2f×', $c['ratio'])];
    }
    $first = $https['cold'][100] ?? $https['cold'][array_key_first($https['cold'])];
    $up = $https['service_up'];
    $down = $https['service_hanging'];
    $sections[] = "## Cold fetch over mutual TLS from {$https['peer']} (loopback; first call in a fresh CLI process, handshake included; medians)\n\n"
        . table(['secrets', 'first call (ms)', 'curl, same fetch (ms)', 'process with it (ms)', 'process without the extension (ms)', 'ratio'], $rows)
        . "curl making the same request shows how much of the time is the peer's.\n\n"
        . goal('a cold fetch of 100 secrets under 5 ms on loopback', $first['first_call_ms'] < 5, sprintf('%.2f ms', $first['first_call_ms']))
        . "\n### A service that hangs (PHP-FPM, 4 static workers, timeout 1 s)\n\n"
        . table(['service', 'median request (ms)', 'worst (ms)', 'requests over 100 ms', 'fetch attempts seen'], [
            ['up', sprintf('%.3f', $up['median_ms']), sprintf('%.1f', $up['worst_ms']), $up['slow_requests'], $up['server_requests']],
            ['hanging', sprintf('%.3f', $down['median_ms']), sprintf('%.1f', $down['worst_ms']), $down['slow_requests'], $down['server_requests']]])
        . "(Request time is measured inside the page around the secret read.)\n\n"
        . command('https')
        . goal('while the service is down, the median request is unaffected', $down['median_ms'] < 1, sprintf('%.3f ms', $down['median_ms']));
}

if (($web = figure('web')) && isset($web['median_rps'])) {
    $w = $web['median_rps'];
    $sections[] = sprintf("## A PHP-FPM page reading 10 secrets, in requests/s (nginx, 4 static workers, opcache; wrk -t2 -c16 on loopback; medians of %d interleaved rounds)\n\n", $web['rounds'])
        . table(['page', 'requests/s', 'ratio to the extension'], [
            ['pantheon_get_secret()', sprintf('%.0f', $w['extension']), '1.00×'],
            ['hard-coded constants', sprintf('%.0f', $w['constants']), sprintf('%.3f×', $w['constants'] / $w['extension'])],
            ['userland: decode the document per request', sprintf('%.0f', $w['userland']), sprintf('%.3f×', $w['userland'] / $w['extension'])]])
        . sprintf("Fetches by a worker during the run: %d. Round by round the extension ran at %.3f× to %.3f× the constants' rate: "
            . "this machine's noise is larger than the differences, which is why the instruction counts above are the figures of record.\n\n",
            $web['fetches_by_a_worker'], $web['extension_vs_constants_per_round'][0], $web['extension_vs_constants_per_round'][1])
        . command('web');
}

$met = count(array_filter($goals, fn ($g) => $g[1]));
echo "# Benchmark report\n\n";
$made = is_file("$dir/made") ? trim(file_get_contents("$dir/made")) : gmdate('Y-m-d H:i \U\T\C'); // when the figures were made
printf("Made by `make bench` on %s; machine: %s. Goals met: %d of %d.\n\n", $made, getenv('BENCH_MACHINE') ?: php_uname('m'), $met, count($goals));
echo implode("\n", $sections);
$closing = __DIR__ . "/closing.md"; // what was changed to meet the goals, and what could not be
if (is_file($closing)) {
    echo "\n", file_get_contents($closing);
}
