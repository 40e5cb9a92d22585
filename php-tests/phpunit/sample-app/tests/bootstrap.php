<?php
require __DIR__ . '/../src/Sdk.php';
require __DIR__ . '/../src/OptionsReader.php';
require __DIR__ . '/../src/KeyProvider.php';

if (!extension_loaded('pantheon_secrets')) {
    fwrite(STDERR, "Load the extension: php -d extension=…/pantheon_secrets.so \$(command -v phpunit) …\n");
    exit(1);
}
require __DIR__ . '/FixtureTestCase.php';
