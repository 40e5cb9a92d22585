<?php
declare(strict_types=1);

namespace TerminusPluginTest;

/**
 * Terminus' request behaviour as the plugin relies on it: headers set by the caller are sent
 * as given, a `json` option becomes a JSON body, HTTP errors do not throw (http_errors off), and
 * the body comes back decoded when it is JSON, as a string otherwise. PHP streams with TLS
 * verification against the service's CA (the curl extension is not needed).
 */
final class TerminusRequest
{
    public function __construct(private string $caFile, private string $peerName)
    {
    }

    /**
     * @param array{method?: string, headers?: array<string, string>, json?: array<string, mixed>} $options
     */
    public function request(string $url, array $options = []): RequestResult
    {
        $headers = ['User-Agent' => 'Terminus/4 (terminus-plugin-test)', 'Accept' => 'application/json'];
        $headers = array_merge($headers, $options['headers'] ?? []);
        $body = null;
        if (array_key_exists('json', $options)) {
            $body = json_encode($options['json'], JSON_THROW_ON_ERROR);
            $headers['Content-Type'] = 'application/json';
        }
        $lines = ['Connection: close'];
        foreach ($headers as $name => $value) {
            $lines[] = "$name: $value";
        }
        $context = stream_context_create([
            'http' => [
                'method' => strtoupper($options['method'] ?? 'GET'),
                'header' => implode("\r\n", $lines),
                'content' => $body ?? '',
                'ignore_errors' => true,
                'protocol_version' => 1.1,
                'timeout' => 30,
            ],
            'ssl' => [
                'cafile' => $this->caFile,
                'peer_name' => $this->peerName,
                'verify_peer' => true,
                'verify_peer_name' => true,
            ],
        ]);
        $raw = file_get_contents($url, false, $context);
        if ($raw === false) {
            throw new \RuntimeException("no answer from $url");
        }
        $responseHeaders = function_exists('http_get_last_response_headers')
            ? http_get_last_response_headers() : $http_response_header;
        $status = 0;
        $parsed = [];
        foreach ($responseHeaders ?? [] as $line) {
            if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m)) {
                $status = (int) $m[1];
                $parsed = [];
            } elseif (str_contains($line, ':')) {
                [$name, $value] = explode(':', $line, 2);
                $parsed[strtolower(trim($name))] = trim($value);
            }
        }
        $data = $raw;
        if ($raw !== '') {
            try {
                $data = json_decode($raw, false, 512, JSON_THROW_ON_ERROR) ?? $raw;
            } catch (\JsonException) {
                $data = $raw;
            }
        }
        return new RequestResult($status, $parsed, $data);
    }
}
