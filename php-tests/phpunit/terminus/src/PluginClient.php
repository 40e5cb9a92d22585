<?php

namespace TerminusPluginTest;

/**
 * The requests of the plugin's SecretsApi class, as its source documents them (written here
 * from that behaviour, not copied): the same URLs, methods, headers and bodies, and the same
 * handling of the answers.
 *
 * - Every request sends `Accept: application/json` and `Authorization: <session>`: the bare
 *   session token, no scheme.
 * - List: `GET {base}/sites/{id}/secrets/showall` or `GET {base}/organizations/{id}/secrets`;
 *   anything but 200 is handed back as the result; a 200 body's `Secrets` object becomes rows
 *   keyed by name (`name`, `type`, `value` or null, `scopes`, `env-values`, and `org-values` for
 *   sites).
 * - Set: `POST {base}/{kind}/{id}/secrets` `{name, value[, type][, scopes]}` (scopes split on
 *   commas and trimmed); with an environment, `PATCH …/secrets/{name}` `{value, env}` instead.
 *   When the answer is 400 and its (decoded) body contains "PATCH", the secret exists: without
 *   type and scopes the same value is sent again as `PATCH …/secrets/{name}` `{value}`;
 *   otherwise the result's data becomes the plugin's own message.
 * - Delete: `DELETE …/secrets/{name}`; with an environment, `PATCH …/secrets/{name}`
 *   `{env, value: null}`.
 */
final class PluginClient
{
    public function __construct(private TerminusRequest $request, private string $base, private string $session)
    {
    }

    /** @return array<string, string> */
    private function headers(): array
    {
        return ['Accept' => 'application/json', 'Authorization' => $this->session];
    }

    public function fetchSecrets(string $id, string $kind = 'sites'): RequestResult
    {
        $suffix = $kind === 'sites' ? '/showall' : '';
        return $this->request->request("{$this->base}/$kind/$id/secrets$suffix", ['headers' => $this->headers()]);
    }

    /** @return array<string, array<string, mixed>>|RequestResult */
    public function listSecrets(string $id, string $kind = 'sites'): array|RequestResult
    {
        $result = $this->fetchSecrets($id, $kind);
        if ($result->getStatusCode() !== 200) {
            return $result;
        }
        $rows = [];
        foreach ($result->getData()->Secrets ?? [] as $name => $secret) {
            $rows[$name] = [
                'name' => $name,
                'type' => $secret->Type,
                'value' => $secret->Value ?? null,
                'scopes' => $secret->Scopes,
                'env-values' => (array) ($secret->EnvValues ?? []),
            ];
            if ($kind === 'sites') {
                $rows[$name]['org-values'] = (array) ($secret->OrgValues ?? []);
            }
        }
        return $rows;
    }

    public function setSecret(
        string $id,
        string $name,
        string $value,
        ?string $env = null,
        ?string $type = null,
        ?string $scopes = null,
        string $kind = 'sites'
    ): RequestResult {
        $url = "{$this->base}/$kind/$id/secrets";
        $method = 'POST';
        $body = ['name' => $name, 'value' => $value];
        if ($type) {
            $body['type'] = $type;
        }
        if ($scopes) {
            $body['scopes'] = array_map('trim', explode(',', $scopes));
        }
        if ($env) {
            $url .= "/$name";
            $method = 'PATCH';
            $body = ['value' => $value, 'env' => $env];
        }
        $result = $this->request->request($url, ['method' => $method, 'headers' => $this->headers(), 'json' => $body]);
        // strpos() on the decoded body, as the plugin does: a non-string here is a TypeError.
        if ($result->getStatusCode() === 400 && strpos($result->getData(), 'PATCH') !== false) {
            if (empty($body['type']) && empty($body['scopes'])) {
                unset($body['name']);
                $result = $this->request->request(
                    "{$this->base}/$kind/$id/secrets/$name",
                    ['method' => 'PATCH', 'headers' => $this->headers(), 'json' => $body]
                );
            } else {
                $result->setData(PluginCommands::secretExists($name));
            }
        }
        return $result;
    }

    public function deleteSecret(string $id, string $name, ?string $env = null, string $kind = 'sites'): RequestResult
    {
        $options = ['method' => 'DELETE', 'headers' => $this->headers()];
        if ($env) {
            $options['method'] = 'PATCH';
            $options['json'] = ['env' => $env, 'value' => null];
        }
        return $this->request->request("{$this->base}/$kind/$id/secrets/$name", $options);
    }
}
