<?php
declare(strict_types=1);

namespace TerminusPluginTest;

/**
 * What Terminus' request() hands the plugin: the status code, the response headers and the
 * body, JSON-decoded (objects as stdClass) when it is JSON, else the raw string; an error is
 * any status outside 2xx.
 */
final class RequestResult
{
    /** @param array<string, string> $headers lowercase names */
    public function __construct(private int $status, private array $headers, private mixed $data)
    {
    }

    public function getStatusCode(): int
    {
        return $this->status;
    }

    public function getData(): mixed
    {
        return $this->data;
    }

    public function setData(mixed $data): void
    {
        $this->data = $data;
    }

    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)] ?? null;
    }

    public function isError(): bool
    {
        return $this->status < 200 || $this->status > 299;
    }
}
