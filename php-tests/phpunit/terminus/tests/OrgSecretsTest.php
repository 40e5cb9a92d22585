<?php
declare(strict_types=1);

namespace TerminusPluginTest;

/** The plugin's organization commands, with the organization's UUID in every URL. */
final class OrgSecretsTest extends PluginTestCase
{
    public function testSetListUpdate(): void
    {
        $this->assertSame(PluginCommands::SET, $this->terminus->orgSet($this->orgUuid, 'O', 'o1'));
        $this->assertSame(PluginCommands::SET, $this->terminus->orgSet($this->orgUuid, 'O', 'o2'));
        $this->assertSame(
            ['name' => 'O', 'type' => 'runtime', 'value' => 'o2', 'scopes' => ['user'], 'env-values' => []],
            $this->rows('organizations')['O']
        );
    }

    public function testSetWithTypeAndScopesThenRefusedOnExisting(): void
    {
        $this->terminus->orgSet($this->orgUuid, 'GH', 'tok', 'composer', 'ic,user');
        $row = $this->rows('organizations')['GH'];
        $this->assertSame(['composer', ['ic', 'user']], [$row['type'], $row['scopes']]);
        $this->assertPluginError(
            PluginCommands::secretExists('GH'),
            fn () => $this->terminus->orgSet($this->orgUuid, 'GH', 'x', 'env')
        );
    }

    public function testOverrideSetAndDeleteIdempotent(): void
    {
        $this->terminus->orgSet($this->orgUuid, 'O', 'o', null, 'web,user');
        $this->assertSame(PluginCommands::SET, $this->terminus->orgSet($this->orgUuid, 'O', 'o-live', null, null, 'live'));
        $this->assertSame(['live' => 'o-live'], $this->rows('organizations')['O']['env-values']);
        $this->assertSame(['default' => 'o', 'live' => 'o-live'], $this->rows()['O']['org-values'], 'the site inherits both');
        for ($i = 0; $i < 2; $i++) {
            $this->assertSame(PluginCommands::OVERRIDE_DELETED, $this->terminus->orgDelete($this->orgUuid, 'O', 'live'));
        }
        $this->assertSame([], $this->rows('organizations')['O']['env-values']);
    }

    public function testDelete(): void
    {
        $this->terminus->orgSet($this->orgUuid, 'O', 'o');
        $this->assertSame(PluginCommands::DELETED, $this->terminus->orgDelete($this->orgUuid, 'O'));
        $this->assertSame([], $this->rows('organizations'));
        $this->assertPluginError("Secret 'O' does not exist.", fn () => $this->terminus->orgDelete($this->orgUuid, 'O'));
    }

    public function testOrgNameWorksAsWellAsUuid(): void
    {
        $this->terminus->orgSet($this->org, 'BY_NAME', 'n');
        $this->assertSame('n', $this->rows('organizations')['BY_NAME']['value']);
    }
}
