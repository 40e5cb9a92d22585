--TEST--
SDK: code written like Pantheon's SDK finds the internal client and reads resolved web secrets
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.environment=live
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', [
    'STRIPE_KEY' => ps_web('sk_site', ['EnvValues' => ['live' => 'sk_live', 'test' => 'sk_TEST_ONLY'], 'Scopes' => ['web', 'user']]),
    'ORG_ONLY'   => ps_web(null, ['OrgValues' => ['default' => 'org', 'dev' => 'org_DEV_ONLY']]),
    'BUILD_ONLY' => ['Type' => 'composer', 'Value' => 'ic_VALUE', 'Scopes' => ['ic']],
    'NO_VALUE'   => ps_web(null, ['EnvValues' => ['dev' => 'DEV_ONLY']]),
]);
ps_use($path);

// As PantheonSystems\CustomerSecrets\CustomerSecrets and its CustomerSecretsClient do:
if (class_exists('\Pantheon\Internal\CustomerSecrets\CustomerSecretsClient')) {
    $internal = \Pantheon\Internal\CustomerSecrets\CustomerSecretsClient::create(['version' => '1']);
    $result = $internal->get();
    foreach ($result['Secrets'] as $name => $secret) {
        printf("%s: %s %s [%s]\n", $name, $secret['Type'], $secret['Value'], implode(',', $secret['Scopes']));
    }
    unset($result['Secrets']);
    echo json_encode($result), "\n";
} else {
    echo "the SDK would fall back to its fake client\n";
}
$all = json_encode(\Pantheon\Internal\CustomerSecrets\CustomerSecretsClient::create()->get());
foreach (['TEST_ONLY', 'DEV_ONLY', 'ic_VALUE'] as $leak) {
    if (str_contains($all, $leak)) echo "LEAKED $leak\n";
}
var_dump($internal instanceof \Pantheon\Internal\CustomerSecrets\CustomerSecretsClientInterface);
var_dump(is_subclass_of('\Pantheon\Internal\CustomerSecrets\CustomerSecretsClient', '\Pantheon\Internal\CustomerSecrets\CustomerSecretsClientInterface'));
echo "fetches=", Pantheon\Secrets\status()['fetch_count'], "\n";
try {
    new \Pantheon\Internal\CustomerSecrets\CustomerSecretsClient();
} catch (Exception $e) {
    echo "new: ", $e->getMessage(), "\n";
}
unlink($path);
?>
--EXPECT--
ORG_ONLY: runtime org [web]
STRIPE_KEY: runtime sk_live [web,user]
{"SiteID":"site-under-test","Count":2,"Version":"","Scopes":["web"]}
bool(true)
bool(true)
fetches=1
new: You cannot instantiate this class from PHP.
