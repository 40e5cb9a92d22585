<?php
// A Drupal-style key provider, in the shape of the pantheon_secrets module's Key plugin: the key's
// configuration names a secret, and the value comes through the SDK.

namespace SampleApp;

use SampleApp\Sdk\CustomerSecrets;

final class KeyProvider
{
    public function __construct(private CustomerSecrets $secrets)
    {
    }

    /** The key value for a key whose configuration is ['secret_name' => …], or '' when absent. */
    public function getKeyValue(array $configuration): string
    {
        $secret = $this->secrets->getClient()->getSecret($configuration['secret_name'] ?? '', true);
        return $secret?->getValue() ?? '';
    }

    /** The names a site builder may choose from (web secrets only). */
    public function availableSecrets(): array
    {
        return array_keys($this->secrets->getClient()->getSecrets(true));
    }
}
