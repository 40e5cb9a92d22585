<?php
// Tests that use the fixture-file way: each writes its fixture and refreshes the extension.

namespace SampleApp\Tests;

use PHPUnit\Framework\TestCase;

abstract class FixtureTestCase extends TestCase
{
    protected string $fixture;

    protected function setUp(): void
    {
        // The backend cannot be set with ini_set() (it is a php.ini or per-directory setting), so
        // the suite names its fixture as Pantheon's SDK does: CUSTOMER_SECRETS_FAKE_FILE, set in
        // bootstrap.php, which the extension reads while pantheon_secrets.backend is empty.
        $this->fixture = (string) getenv('CUSTOMER_SECRETS_FAKE_FILE');
        ini_set('pantheon_secrets.environment', 'dev');
    }

    protected function tearDown(): void
    {
        @unlink($this->fixture);
        ini_restore('pantheon_secrets.environment');
    }

    /** Rewrites the fixture and makes the extension read it now. */
    protected function secrets(array $secrets): void
    {
        file_put_contents($this->fixture, json_encode(['SiteID' => 'sample', 'Secrets' => $secrets]));
        $this->assertTrue(\Pantheon\Secrets\refresh());
    }
}
