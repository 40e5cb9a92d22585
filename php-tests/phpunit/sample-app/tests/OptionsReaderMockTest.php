<?php

namespace SampleApp\Tests;

use Pantheon\Secrets\SecretsException;
use PHPUnit\Framework\TestCase;
use SampleApp\OptionsReader;

/** Uses the in-process mock (the suite runs with pantheon_secrets.allow_mock=1). */
final class OptionsReaderMockTest extends TestCase
{
    private OptionsReader $reader;

    protected function setUp(): void
    {
        $this->reader = new OptionsReader(
            ['smtp_pass' => 'smtp_pass', 'stripe_key' => 'STRIPE_KEY'],
            ['smtp_pass' => 'stored-in-options', 'blogname' => 'Sample'],
        );
    }

    protected function tearDown(): void
    {
        \Pantheon\Secrets\unmock();
    }

    public function testSecretWinsOverStoredOption(): void
    {
        \Pantheon\Secrets\mock(['smtp_pass' => 'from-secret']);
        $this->assertSame('from-secret', $this->reader->get('smtp_pass'));
        $this->assertSame('Sample', $this->reader->get('blogname'));
    }

    public function testMissingSecretFallsBackToTheOption(): void
    {
        \Pantheon\Secrets\mock(['smtp_pass' => null, 'other' => 'x']);
        $this->assertSame('stored-in-options', $this->reader->get('smtp_pass'));
        $this->assertSame('fallback', $this->reader->get('stripe_key', 'fallback'));
    }

    public function testValuesWithOddBytesArriveIntact(): void
    {
        $value = "line1\nline2\t\"quoted\" \\ nul\0 ünïcødé 🔐 " . str_repeat('x', 16000);
        \Pantheon\Secrets\mock(['STRIPE_KEY' => $value]);
        $this->assertSame($value, $this->reader->get('stripe_key'));
    }

    public function testConstantsAreDefinedOnlyForPresentSecrets(): void
    {
        \Pantheon\Secrets\mock(['STRIPE_KEY' => 'sk_test_constant']);
        $prefix = 'SAMPLE_' . strtoupper(bin2hex(random_bytes(3))) . '_';
        $this->assertSame([$prefix . 'stripe_key'], $this->reader->defineConstants($prefix));
        $this->assertSame('sk_test_constant', constant($prefix . 'stripe_key'));
    }

    public function testMockIsResetBetweenTests(): void
    {
        $this->assertNotSame('mock', \Pantheon\Secrets\status()['backend'], 'tearDown() of the earlier tests unmocked');
        $this->assertNull(pantheon_get_secret('STRIPE_KEY'));
    }

    public function testEnvironmentOverridesApplyToMockedSecrets(): void
    {
        \Pantheon\Secrets\mock(['STRIPE_KEY' => ['Value' => 'sk_dev', 'EnvValues' => ['live' => 'sk_live']]]);
        $this->assertSame('sk_dev', $this->reader->get('stripe_key'));
        ini_set('pantheon_secrets.environment', 'live');
        try {
            $this->assertSame('sk_live', $this->reader->get('stripe_key'));
        } finally {
            ini_restore('pantheon_secrets.environment');
        }
    }

    public function testMalformedMockIsRefusedByName(): void
    {
        $this->expectException(SecretsException::class);
        $this->expectExceptionMessage('Secrets.STRIPE_KEY.Value: a value is at most 16384 bytes');
        \Pantheon\Secrets\mock(['STRIPE_KEY' => str_repeat('v', 16385)]);
    }
}
