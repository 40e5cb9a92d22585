<?php
// What `make run` shows: pantheon_get_secret() answering from a secrets document.
$backend = ini_get('pantheon_secrets.backend');
printf("pantheon_secrets %s, backend %s\n\n", phpversion('pantheon_secrets'), $backend);

foreach (['dev', 'test', 'live'] as $environment) {
    ini_set('pantheon_secrets.environment', $environment);
    printf("[%s]\n", $environment);
    foreach (['STRIPE_KEY', 'SMTP_PASSWORD', 'GITHUB', 'MISSING'] as $name) {
        printf("  pantheon_get_secret(%-15s) = %s\n", var_export($name, true), var_export(pantheon_get_secret($name), true));
    }
}

$status = Pantheon\Secrets\status();
printf("\nstatus: %d secrets held, %d fetch(es) by pid %d, environment %s\n",
    $status['count'], $status['fetch_count'], $status['pid'], $status['environment']);
echo "GITHUB is an ic-scope (build) secret, so web code never sees it.\n";
