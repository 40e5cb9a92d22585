<?php
// Tests that use the fixture-file way: each writes its fixture and refreshes the extension.

namespace SampleApp\Tests;

use PHPUnit\Framework\TestCase;

abstract class FixtureTestCase extends TestCase
{
    protected string $fixture;

    protected function setUp(): void
    {
        $this->fixture = tempnam(sys_get_temp_dir(), 'sample-app-secrets');
        ini_set('pantheon_secrets.backend', 'file://' . $this->fixture);
        ini_set('pantheon_secrets.environment', 'dev');
    }

    protected function tearDown(): void
    {
        @unlink($this->fixture);
        ini_restore('pantheon_secrets.backend');
        ini_restore('pantheon_secrets.environment');
    }

    /** Rewrites the fixture and makes the extension read it now. */
    protected function secrets(array $secrets): void
    {
        file_put_contents($this->fixture, json_encode(['SiteID' => 'sample', 'Secrets' => $secrets]));
        $this->assertTrue(\Pantheon\Secrets\refresh());
    }
}
