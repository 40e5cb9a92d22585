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
 * The state of this process's cache. Never a value.
 *
 * @return array{backend: string, environment: string, pid: int, fetch_count: int,
 *               fetched_at: float|null, age: float|null, count: int, ttl: int, stale: bool,
 *               failures: int, retry_in: float|null, last_status: int|null, last_error: string|null}
 */
function status(): array {}

}
