<?php
declare(strict_types=1);

namespace TerminusPluginTest;

use PHPUnit\Framework\TestCase;

/**
 * One service for the whole suite (started at first use, stopped at exit); each test makes its
 * own organization and site, with UUIDs, so tests do not see each other's secrets.
 */
abstract class PluginTestCase extends TestCase
{
    private static ?Service $service = null;

    protected Service $svc;
    protected string $org;
    protected string $orgUuid;
    protected string $site;
    protected string $siteUuid;
    /** The plugin's commands with the admin token as the Terminus session. */
    protected PluginCommands $terminus;

    protected function setUp(): void
    {
        $bin = Service::binary();
        if (!is_executable($bin)) {
            $this->markTestSkipped("no service binary at $bin (build it, or set SERVER)");
        }
        if (self::$service === null) {
            $dir = sys_get_temp_dir() . '/terminus-plugin-test-' . bin2hex(random_bytes(6));
            mkdir($dir, 0700, true);
            self::$service = new Service($bin, $dir);
            register_shutdown_function(static fn () => self::$service?->stop());
        }
        $this->svc = self::$service;
        $tag = bin2hex(random_bytes(4));
        $this->org = "org-$tag";
        $this->site = "site-$tag";
        $this->orgUuid = $this->svc->op('org:create', $this->org);
        $this->siteUuid = $this->svc->op('site:create', $this->site, '--org', $this->org);
        $this->terminus = new PluginCommands($this->svc->plugin($this->svc->admin));
    }

    /** The plugin's list rows of this test's site (by UUID) or organization. */
    protected function rows(string $kind = 'sites'): array
    {
        return $this->terminus->list($kind === 'sites' ? $this->siteUuid : $this->orgUuid, $kind);
    }

    /**
     * Runs `$command`, expecting the plugin to throw with the service's message as a string (a
     * TypeError, as with JSON object bodies, fails the test); returns the message.
     */
    protected function pluginError(callable $command): string
    {
        try {
            $command();
        } catch (PluginException $e) {
            return $e->getMessage();
        }
        $this->fail('expected the plugin to report an error');
    }

    protected function assertPluginError(string $expected, callable $command): void
    {
        $this->assertSame($expected, $this->pluginError($command));
    }
}
