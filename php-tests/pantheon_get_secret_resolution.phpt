--TEST--
pantheon_get_secret(): every precedence pair of the resolution rule
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.environment=live
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$org = ['default' => 'org_default', 'live' => 'org_live'];
$path = ps_document('doc', [
    'ENV_OVER_SITE'       => ps_web('site', ['EnvValues' => ['live' => 'site_live'], 'OrgValues' => $org]),
    'SITE_OVER_ORG_ENV'   => ps_web('site', ['OrgValues' => $org]),
    'ORG_ENV_OVER_DEFAULT'=> ps_web(null, ['OrgValues' => $org]),
    'ORG_DEFAULT_ONLY'    => ps_web(null, ['OrgValues' => ['default' => 'org_default', 'test' => 'org_test']]),
    'OTHER_ENV_ONLY'      => ps_web(null, ['EnvValues' => ['test' => 'site_test']]),
    'EMPTY_IS_A_VALUE'    => ps_web('', ['OrgValues' => $org]),
    'EMPTY_OVERRIDE'      => ps_web('site', ['EnvValues' => ['live' => '']]),
    'NULL_EVERYWHERE'     => ps_web(null, ['EnvValues' => ['live' => null], 'OrgValues' => ['default' => null]]),
    'NOT_WEB'             => ['Type' => 'runtime', 'Value' => 'x', 'Scopes' => ['ic', 'user']],
    'UNKNOWN_TYPE'        => ['Type' => 'file', 'Value' => 'kept', 'Scopes' => ['web']],
    'NO_TYPE'             => ['Value' => 'typeless', 'Scopes' => ['user', 'web']],
]);
ps_use($path);
foreach (json_decode(file_get_contents($path), true)['Secrets'] as $name => $_) {
    printf("%-20s %s\n", $name, var_export(pantheon_get_secret($name), true));
}
unlink($path);
?>
--EXPECT--
ENV_OVER_SITE        'site_live'
SITE_OVER_ORG_ENV    'site'
ORG_ENV_OVER_DEFAULT 'org_live'
ORG_DEFAULT_ONLY     'org_default'
OTHER_ENV_ONLY       NULL
EMPTY_IS_A_VALUE     ''
EMPTY_OVERRIDE       ''
NULL_EVERYWHERE      NULL
NOT_WEB              NULL
UNKNOWN_TYPE         'kept'
NO_TYPE              'typeless'
