<?php
// A small client in the shape of Pantheon's PHP SDK (customer-secrets-php-sdk), written here: it
// uses the platform-internal client when the class exists, and otherwise falls back to a fake
// client that reads the file named by CUSTOMER_SECRETS_FAKE_FILE and ignores environment overrides.

namespace SampleApp\Sdk;

use Pantheon\Internal\CustomerSecrets\CustomerSecretsClient as InternalClient;
use Pantheon\Internal\CustomerSecrets\CustomerSecretsClientInterface as InternalClientInterface;

final class Secret
{
    public function __construct(
        private string $name,
        private string $value,
        private string $type,
        private array $scopes,
    ) {
    }

    public function getName(): string { return $this->name; }
    public function getValue(): string { return $this->value; }
    public function getType(): string { return $this->type; }
    public function getScopes(): array { return $this->scopes; }
}

interface ClientInterface
{
    /** @return array<string, Secret> */
    public function getSecrets(bool $refresh = false): array;

    public function getSecret(string $name, bool $refresh = false): ?Secret;
}

/** Reads the internal client's document as the SDK does: ['Secrets'][$name]['Value'|'Type'|'Scopes']. */
final class Client implements ClientInterface
{
    private ?array $secrets = null;

    public function __construct(private InternalClientInterface $internal)
    {
    }

    public function getSecrets(bool $refresh = false): array
    {
        if ($refresh || $this->secrets === null) {
            $this->secrets = [];
            foreach ($this->internal->get()['Secrets'] as $name => $result) {
                $this->secrets[$name] = new Secret($name, $result['Value'], $result['Type'], $result['Scopes']);
            }
        }
        return $this->secrets;
    }

    public function getSecret(string $name, bool $refresh = false): ?Secret
    {
        return $this->getSecrets($refresh)[$name] ?? null;
    }
}

/** The SDK's fallback off the platform: the fake file, the site value only. */
final class FakeClient implements ClientInterface
{
    public function getSecrets(bool $refresh = false): array
    {
        $file = getenv('CUSTOMER_SECRETS_FAKE_FILE');
        $data = $file && is_file($file) ? json_decode(file_get_contents($file), true) : [];
        $secrets = [];
        foreach ($data['Secrets'] ?? [] as $name => $result) {
            if (is_string($result['Value'] ?? null)) {
                $secrets[$name] = new Secret($name, $result['Value'], $result['Type'] ?? 'runtime', $result['Scopes'] ?? []);
            }
        }
        return $secrets;
    }

    public function getSecret(string $name, bool $refresh = false): ?Secret
    {
        return $this->getSecrets($refresh)[$name] ?? null;
    }
}

final class CustomerSecrets
{
    private ClientInterface $client;

    private function __construct(?InternalClientInterface $internal)
    {
        if ($internal !== null) {
            $this->client = new Client($internal);
        } elseif (class_exists('\Pantheon\Internal\CustomerSecrets\CustomerSecretsClient')) {
            $this->client = new Client(InternalClient::create(['version' => '1']));
        } else {
            $this->client = new FakeClient();
        }
    }

    /** The SDK's entry point; tests may hand in their own internal client. */
    public static function create(?InternalClientInterface $internal = null): self
    {
        return new self($internal);
    }

    public function getClient(): ClientInterface
    {
        return $this->client;
    }
}
