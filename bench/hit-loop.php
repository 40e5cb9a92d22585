<?php
// One of the hit benchmark's loops, CALLS times, for bench/hit-instructions.sh to count the
// instructions of: `loop` (the loop alone), `ini_get`, `constant`, `pantheon_get_secret`.
// Usage: php -d extension=… -d pantheon_secrets.backend=file://DOC bench/hit-loop.php CASE CALLS
[, $case, $n] = $argv + [null, 'loop', 1000];
$n = (int) $n;
define('BENCH_CONSTANT', 'constant-value');
if (pantheon_get_secret('STRIPE_KEY') === null) { // the fetch happens here, outside the loop
    fwrite(STDERR, "pantheon_get_secret('STRIPE_KEY') is null: is the backend set?\n");
    exit(1);
}
switch ($case) {
    case 'loop':
        for ($i = 0; $i < $n; $i++) {
        }
        break;
    case 'ini_get':
        for ($i = 0; $i < $n; $i++) {
            ini_get('precision');
        }
        break;
    case 'constant':
        for ($i = 0; $i < $n; $i++) {
            constant('BENCH_CONSTANT');
        }
        break;
    case 'pantheon_get_secret':
        for ($i = 0; $i < $n; $i++) {
            pantheon_get_secret('STRIPE_KEY');
        }
        break;
    default:
        fwrite(STDERR, "unknown case '$case'\n");
        exit(2);
}
