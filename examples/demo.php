<?php
// What `make run` shows: pantheon_get_secret() answering, here for the binding (or environment)
// named on the command line.
$label = $argv[1] ?? ini_get('pantheon_secrets.environment');
$backend = preg_replace('#^(https://[^/]+).*#', '$1', ini_get('pantheon_secrets.backend'));
printf("[%s] %s\n", $label, $backend);
foreach (['STRIPE_KEY', 'SMTP_PASSWORD', 'GITHUB', 'MISSING'] as $name) {
    printf("  pantheon_get_secret(%-15s) = %s\n", var_export($name, true), var_export(pantheon_get_secret($name), true));
}
$status = Pantheon\Secrets\status();
printf("  (%d web secrets held after %d fetch, HTTP status %s; GITHUB is build-only, so web code never sees it)\n",
    $status['count'], $status['fetch_count'], $status['last_status'] ?? '-');
