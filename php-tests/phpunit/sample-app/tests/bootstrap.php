<?php
require __DIR__ . '/../src/Sdk.php';
require __DIR__ . '/../src/OptionsReader.php';
require __DIR__ . '/../src/KeyProvider.php';

if (!extension_loaded('pantheon_secrets')) {
    fwrite(STDERR, "Load the extension: php -d extension=…/pantheon_secrets.so \$(command -v phpunit) …\n");
    exit(1);
}
// The fixture file of FixtureTestCase, named before the extension's first call reads the settings.
putenv('CUSTOMER_SECRETS_FAKE_FILE=' . sys_get_temp_dir() . '/sample-app-secrets-' . getmypid() . '.json');
require __DIR__ . '/FixtureTestCase.php';
