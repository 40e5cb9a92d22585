<?php
declare(strict_types=1);

namespace TerminusPluginTest;

/**
 * Every error reaches the plugin as the service's message, a string it can show (the stable
 * code rides in the X-Error-Code header for scripts).
 */
final class ErrorPathsTest extends PluginTestCase
{
    public function testUnknownSessionToken(): void
    {
        $stranger = new PluginCommands($this->svc->plugin('pss_' . str_repeat('0', 64)));
        $this->assertPluginError('The token is not valid.', fn () => $stranger->list($this->siteUuid));
        $this->assertPluginError('The token is not valid.', fn () => $stranger->siteSet($this->siteUuid, 'K', 'v'));
    }

    public function testNoAccessToAnotherOrganizationsSite(): void
    {
        $other = $this->svc->op('org:create', 'other-' . bin2hex(random_bytes(4)));
        $token = $this->svc->op('token:create', 'user-' . bin2hex(random_bytes(4)), '--org', $other);
        $outsider = new PluginCommands($this->svc->plugin($token));
        $this->assertPluginError(
            "You do not have access to site '{$this->siteUuid}'.",
            fn () => $outsider->list($this->siteUuid)
        );
        $this->assertPluginError(
            "You do not have access to organization '{$this->orgUuid}'.",
            fn () => $outsider->orgSet($this->orgUuid, 'K', 'v')
        );
        $this->assertPluginError(
            "You do not have access to site '{$this->siteUuid}'.",
            fn () => $outsider->localGenerate($this->siteUuid, '/nonexistent/never-written.json')
        );
    }

    public function testOverrideOfMissingSecret(): void
    {
        $expected = "Secret 'NOPE' does not exist. You should create the default secret value first.";
        $this->assertPluginError($expected, fn () => $this->terminus->siteSet("{$this->siteUuid}.live", 'NOPE', 'x'));
        $this->assertPluginError($expected, fn () => $this->terminus->orgSet($this->orgUuid, 'NOPE', 'x', null, null, 'live'));
    }

    public function testRuleBreakingInput(): void
    {
        $message = $this->pluginError(fn () => $this->terminus->siteSet($this->siteUuid, 'two words', 'x'));
        $this->assertStringContainsString('whitespace', $message);
        $message = $this->pluginError(fn () => $this->terminus->siteSet($this->siteUuid, 'My.Secret-Name', 'x', 'env'));
        $this->assertStringContainsString('env-type', $message);
        $message = $this->pluginError(fn () => $this->terminus->siteSet($this->siteUuid, 'BIG', str_repeat('w', 16385)));
        $this->assertStringContainsString('16385', $message);
        $this->assertStringNotContainsString('www', $message);
        $this->assertSame(
            "unknown type 'bogus': types are runtime, env, composer, file, vcs",
            $this->pluginError(fn () => $this->terminus->siteSet($this->siteUuid, 'T', 'x', 'bogus'))
        );
        $this->assertSame(
            "unknown scope 'all': scopes are web, ic and user",
            $this->pluginError(fn () => $this->terminus->siteSet($this->siteUuid, 'S', 'x', null, 'web,all'))
        );
        $message = $this->pluginError(fn () => $this->terminus->siteSet("{$this->siteUuid}.Live", 'T', 'x'));
        $this->assertStringContainsString('environment', $message);
    }

    public function testUnknownSiteAndOrganization(): void
    {
        $missing = '00000000-0000-4000-8000-000000000000';
        $this->assertPluginError("Site '$missing' does not exist.", fn () => $this->terminus->list($missing));
        $this->assertPluginError(
            "Organization '$missing' does not exist.",
            fn () => $this->terminus->list($missing, 'organizations')
        );
        $this->assertPluginError(
            "Site 'no-such-site' does not exist.",
            fn () => $this->terminus->localGenerate('no-such-site', '/nonexistent/never-written.json')
        );
    }

    public function testTheCodeIsInAHeaderAndTheBodyIsAString(): void
    {
        $result = $this->svc->plugin($this->svc->admin)->deleteSecret($this->siteUuid, 'NOPE');
        $this->assertSame(404, $result->getStatusCode());
        $this->assertSame('secret_not_found', $result->header('X-Error-Code'));
        $this->assertSame("Secret 'NOPE' does not exist.", $result->getData());
    }
}
