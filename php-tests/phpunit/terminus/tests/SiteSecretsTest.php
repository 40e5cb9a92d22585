<?php
declare(strict_types=1);

namespace TerminusPluginTest;

/** The plugin's site commands, with the site's UUID in every URL as the plugin puts it. */
final class SiteSecretsTest extends PluginTestCase
{
    public function testSetThenListByUuid(): void
    {
        $this->assertSame(PluginCommands::SET, $this->terminus->siteSet($this->siteUuid, 'API_KEY', 'v1'));
        $rows = $this->rows();
        $this->assertSame(
            ['name' => 'API_KEY', 'type' => 'runtime', 'value' => 'v1', 'scopes' => ['user'],
             'env-values' => [], 'org-values' => []],
            $rows['API_KEY']
        );
    }

    public function testSetWithTypeAndScopes(): void
    {
        $this->terminus->siteSet($this->siteUuid, 'NPM_TOKEN', 'n', 'env', 'web, user');
        $this->terminus->siteSet($this->siteUuid, 'REPO', 'r', 'vcs', 'ic');
        $rows = $this->rows();
        $this->assertSame(['env', ['web', 'user']], [$rows['NPM_TOKEN']['type'], $rows['NPM_TOKEN']['scopes']]);
        $this->assertSame(['vcs', ['ic'], null], [$rows['REPO']['type'], $rows['REPO']['scopes'], $rows['REPO']['value']]);
    }

    public function testUpdateIsSentAgainAsPatch(): void
    {
        $this->terminus->siteSet($this->siteUuid, 'K', 'v1', null, 'web,user');
        $this->assertSame(PluginCommands::SET, $this->terminus->siteSet($this->siteUuid, 'K', 'v2'));
        $rows = $this->rows();
        $this->assertSame(['v2', ['web', 'user']], [$rows['K']['value'], $rows['K']['scopes']]);
    }

    public function testSetExistingWithTypeOrScopesShowsThePluginsMessage(): void
    {
        $this->terminus->siteSet($this->siteUuid, 'K', 'v1');
        foreach ([['env', null], [null, 'web']] as [$type, $scope]) {
            $this->assertPluginError(
                PluginCommands::secretExists('K'),
                fn () => $this->terminus->siteSet($this->siteUuid, 'K', 'v2', $type, $scope)
            );
        }
        $this->assertSame('v1', $this->rows()['K']['value']);
    }

    public function testOverrideSetListAndDelete(): void
    {
        $this->terminus->siteSet($this->siteUuid, 'K', 'base');
        $this->assertSame(PluginCommands::SET, $this->terminus->siteSet("{$this->siteUuid}.live", 'K', 'live-v'));
        $this->assertSame(['live' => 'live-v'], $this->rows()['K']['env-values']);
        $this->assertSame(PluginCommands::OVERRIDE_DELETED, $this->terminus->siteDelete("{$this->siteUuid}.live", 'K'));
        $this->assertSame([], $this->rows()['K']['env-values']);
        $this->assertSame('base', $this->rows()['K']['value']);
    }

    public function testDeleteOverrideThatDoesNotExistSucceeds(): void
    {
        $this->terminus->siteSet($this->siteUuid, 'K', 'base');
        foreach (['test', 'test', 'pr-7'] as $env) {
            $this->assertSame(PluginCommands::OVERRIDE_DELETED, $this->terminus->siteDelete("{$this->siteUuid}.$env", 'K'));
        }
    }

    public function testDeleteSecret(): void
    {
        $this->terminus->siteSet($this->siteUuid, 'K', 'v');
        $this->assertSame(PluginCommands::DELETED, $this->terminus->siteDelete($this->siteUuid, 'K'));
        $this->assertArrayNotHasKey('K', $this->rows());
        $this->assertPluginError("Secret 'K' does not exist.", fn () => $this->terminus->siteDelete($this->siteUuid, 'K'));
    }

    public function testListShowsOrgValuesAndNullForValuesWithoutUserScope(): void
    {
        $this->terminus->orgSet($this->orgUuid, 'SHARED', 'org-v', null, 'web,user');
        $this->terminus->siteSet($this->siteUuid, 'WEB_ONLY', 'hidden', null, 'web');
        $rows = $this->rows();
        $this->assertSame(['default' => 'org-v'], $rows['SHARED']['org-values']);
        $this->assertNull($rows['WEB_ONLY']['value']);
        $this->assertStringNotContainsString('hidden', json_encode($rows));
    }

    public function testSiteNameWorksAsWellAsUuid(): void
    {
        $this->terminus->siteSet($this->site, 'BY_NAME', 'n');
        $this->assertSame('n', $this->rows()['BY_NAME']['value']);
        $this->assertSame('n', $this->terminus->list($this->site)['BY_NAME']['value']);
    }

    public function testLocalGenerateWritesTheDocument(): void
    {
        $this->terminus->siteSet($this->siteUuid, 'K', 'v', null, 'web,user');
        $this->terminus->siteSet("{$this->siteUuid}.live", 'K', 'live-v');
        $file = sys_get_temp_dir() . '/terminus-local-' . bin2hex(random_bytes(4)) . '.json';
        try {
            $this->assertSame("Secrets file written to: $file.", $this->terminus->localGenerate($this->siteUuid, $file));
            $doc = json_decode((string) file_get_contents($file), true, 512, JSON_THROW_ON_ERROR);
            $this->assertSame('v', $doc['Secrets']['K']['Value']);
            $this->assertSame(['live' => 'live-v'], $doc['Secrets']['K']['EnvValues']);
            $this->assertSame(['web', 'user'], $doc['Secrets']['K']['Scopes']);
        } finally {
            @unlink($file);
        }
    }
}
