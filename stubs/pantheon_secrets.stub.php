<?php

/**
 * Signatures of the pantheon_secrets extension, for IDEs and static analysers.
 * The extension provides these; this file is never loaded at run time.
 *
 */

namespace {

/**
 * The value of the web-scope secret `$name` for this site and environment.
 *
 * Resolution: the site's override for this environment, else the site's value, else the owner
 * organization's override for this environment, else the organization's default. The first
 * fetch in a process reads the secrets document (`pantheon_secrets.backend`); later calls are
 * answered from memory until `pantheon_secrets.ttl` seconds have passed.
 *
 * Never throws for a missing secret or an unreachable backend: a failed fetch raises one
 * E_WARNING per attempt and the call returns null.
 *
 * ```php
 * define('STRIPE_KEY', pantheon_get_secret('STRIPE_KEY') ?? '');
 * ```
 *
 * @param string $name A secret name: printable ASCII without whitespace, at most 255 bytes.
 * @return string|null The value (byte-exact), or null when there is no such secret here.
 */
function pantheon_get_secret(string $name): ?string {}

}

namespace Pantheon\Secrets {

/**
 * Every web-scope secret that has a value in this environment.
 *
 * @return array<string, string> name => value, in name order.
 */
function all(): array {}

/**
 * Reads the secrets again now, whatever the TTL (for example after a test rewrote its fixture).
 *
 * @return bool true when the fetch succeeded; false, with an E_WARNING naming the cause, when not
 *              (the values then follow the same rules as an automatic refresh).
 */
function refresh(): bool {}

/**
 * The state of this process's cache. Never a value. `environment` is the environment the values
 * held were resolved for: the one the service resolved its answer for (the binding's), else the
 * configured one.
 *
 * @return array{backend: string, environment: string, pid: int, fetch_count: int,
 *               fetched_at: float|null, age: float|null, count: int, ttl: int, stale: bool,
 *               failures: int, retry_in: float|null, last_status: int|null, last_error: string|null}
 */
function status(): array {}

/**
 * Serves `$secrets` instead of the backend's, for the rest of the process or until unmock():
 * for PHPUnit suites, to say "this secret is missing" or "this one has this value" without files
 * or a server. Allowed only when `pantheon_secrets.allow_mock=1` is set at system level
 * (php.ini or `php -d`); production leaves it off.
 *
 * ```php
 * Pantheon\Secrets\mock([
 *     'STRIPE_KEY' => 'sk_test_123',                                   // a web secret
 *     'SMTP_PASSWORD' => ['Value' => 'dev', 'EnvValues' => ['live' => 'live']],
 *     'REMOVED' => null,                                               // missing
 * ]);
 * ```
 *
 * @param array<string, string|array|null> $secrets name => value, or name => fields of a
 *        secrets document (Value, EnvValues, OrgValues, Type, Scopes; defaults runtime and ["web"]).
 * @throws SecretsException when the mock is not allowed, or a secret is malformed (the message
 *         names the field, never the value).
 */
function mock(array $secrets): void {}

/** Serves the backend's secrets again after mock(). */
function unmock(): void {}

/**
 * Thrown by mock() when the mock is disabled or given a malformed secret. A plain
 * \RuntimeException with RuntimeException's constructor: code that wraps the extension, and its
 * tests, can make and throw one too.
 *
 * ```php
 * throw new Pantheon\Secrets\SecretsException('STRIPE_KEY is not set', 0, $previous);
 * ```
 */
class SecretsException extends \RuntimeException
{
}

}

namespace Pantheon\Internal\CustomerSecrets {

/**
 * The platform-internal client interface that Pantheon's PHP SDK looks for. Mock it in PHPUnit
 * with `$this->createMock(CustomerSecretsClientInterface::class)`.
 */
interface CustomerSecretsClientInterface
{
    /**
     * The secrets document of this site for this environment: `SiteID`, `Secrets` (name =>
     * `Type`, `Value`, `Scopes`), `Count`, `Version`, `Scopes`. Only web secrets with a value here.
     */
    public function get(): array;
}

/**
 * The client Pantheon's SDK uses when it exists: `CustomerSecretsClient::create(['version' => '1'])->get()`.
 * Backed by the same per-process cache as pantheon_get_secret(). Made with create(), not `new`.
 */
class CustomerSecretsClient implements CustomerSecretsClientInterface
{
    /**
     * @param array|null $args the SDK's arguments. `version` must be 1 (or absent). `file`, what the
     *     SDK's fake client reads, is honoured when `pantheon_secrets.backend` is empty: get() then
     *     returns that file's secrets with a value in this environment (any scope), read through
     *     PHP's file functions, so local-development code keeps its secrets. Others are ignored.
     * @throws \Exception "Unknown Customer Secrets API version" for another version.
     */
    public static function create(?array $args = null): CustomerSecretsClient {}

    /** @throws \Exception always: use create(). */
    public function __construct() {}

    public function get(): array {}
}

}
