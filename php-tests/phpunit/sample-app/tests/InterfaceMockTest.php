<?php

namespace SampleApp\Tests;

use Pantheon\Internal\CustomerSecrets\CustomerSecretsClientInterface;
use PHPUnit\Framework\TestCase;
use SampleApp\KeyProvider;
use SampleApp\Sdk\CustomerSecrets;

/** The SDK's own tests mock the internal interface; with the extension loaded that still works. */
final class InterfaceMockTest extends TestCase
{
    public function testAMockOfTheInternalInterfaceFeedsTheSdk(): void
    {
        $internal = $this->createMock(CustomerSecretsClientInterface::class);
        $internal->expects($this->once())->method('get')->willReturn([
            'SiteID' => 'mocked', 'Count' => 1, 'Version' => '', 'Scopes' => ['web'],
            'Secrets' => ['api_key' => ['Type' => 'runtime', 'Value' => 'from-interface-mock', 'Scopes' => ['web']]],
        ]);
        $provider = new KeyProvider(CustomerSecrets::create($internal));
        $this->assertSame('from-interface-mock', $provider->getKeyValue(['secret_name' => 'api_key']));
    }
}
