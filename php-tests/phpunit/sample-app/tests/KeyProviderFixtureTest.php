<?php

namespace SampleApp\Tests;

use SampleApp\KeyProvider;
use SampleApp\Sdk\Client;
use SampleApp\Sdk\CustomerSecrets;
use SampleApp\Sdk\FakeClient;

final class KeyProviderFixtureTest extends FixtureTestCase
{
    private const SECRETS = [
        'api_key' => ['Type' => 'runtime', 'Value' => 'site-key', 'Scopes' => ['web', 'user'],
                      'EnvValues' => ['live' => 'live-key'], 'OrgValues' => ['default' => 'org-key']],
        'org_key' => ['Type' => 'runtime', 'Value' => null, 'Scopes' => ['web'], 'OrgValues' => ['default' => 'org-only']],
        'build_token' => ['Type' => 'composer', 'Value' => 'ic-secret', 'Scopes' => ['ic']],
    ];

    public function testTheSdkUsesTheExtensionsClient(): void
    {
        $this->secrets(self::SECRETS);
        $this->assertInstanceOf(Client::class, CustomerSecrets::create()->getClient());
    }

    public function testKeyValueComesFromTheFixture(): void
    {
        $this->secrets(self::SECRETS);
        $provider = new KeyProvider(CustomerSecrets::create());
        $this->assertSame('site-key', $provider->getKeyValue(['secret_name' => 'api_key']));
        $this->assertSame('org-only', $provider->getKeyValue(['secret_name' => 'org_key']));
        $this->assertSame('', $provider->getKeyValue(['secret_name' => 'build_token']));
        $this->assertSame(['api_key', 'org_key'], $provider->availableSecrets());
    }

    public function testRewrittenFixtureIsReadAfterRefresh(): void
    {
        $this->secrets(['api_key' => ['Type' => 'runtime', 'Value' => 'first', 'Scopes' => ['web']]]);
        $provider = new KeyProvider(CustomerSecrets::create());
        $this->assertSame('first', $provider->getKeyValue(['secret_name' => 'api_key']));
        $this->secrets(['api_key' => ['Type' => 'runtime', 'Value' => 'second', 'Scopes' => ['web']]]);
        $this->assertSame('second', $provider->getKeyValue(['secret_name' => 'api_key']));
    }

    public function testEnvironmentOverrideThatTheFakeClientWouldIgnore(): void
    {
        $this->secrets(self::SECRETS);
        ini_set('pantheon_secrets.environment', 'live');
        $provider = new KeyProvider(CustomerSecrets::create());
        $this->assertSame('live-key', $provider->getKeyValue(['secret_name' => 'api_key']));

        // The SDK's own fallback reads the same file (CUSTOMER_SECRETS_FAKE_FILE, see bootstrap.php).
        $this->assertSame('site-key', (new FakeClient())->getSecret('api_key')->getValue(),
            'the SDK\'s fallback reads the site value and ignores the live override');
    }

    public function testNothingOfAnotherEnvironmentOrScopeReachesTheSdk(): void
    {
        $this->secrets(self::SECRETS);
        $document = \Pantheon\Internal\CustomerSecrets\CustomerSecretsClient::create(['version' => '1'])->get();
        $json = json_encode($document);
        $this->assertStringNotContainsString('live-key', $json);
        $this->assertStringNotContainsString('ic-secret', $json);
        $this->assertSame(['Type' => 'runtime', 'Value' => 'site-key', 'Scopes' => ['web', 'user']], $document['Secrets']['api_key']);
        $this->assertSame(2, $document['Count']);
    }
}
