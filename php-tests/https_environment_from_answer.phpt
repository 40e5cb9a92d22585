--TEST--
https: an answer resolved for the binding's environment is served as it is, and status() and phpinfo() report that environment
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . '/tls.inc'; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer([]);
// What the service answers a live binding: each secret resolved for live, and the answer says so.
file_put_contents("{$server->dir}/document.json", json_encode(['SiteID' => 'site-under-test', 'Environment' => 'live',
    'Scopes' => ['web'], 'Secrets' => ['STRIPE_KEY' => ['Type' => 'runtime', 'Value' => 'sk_live', 'Scopes' => ['web']]]]));
ps_with_ini(['pantheon_secrets.backend' => $server->url(), 'pantheon_secrets.environment' => 'dev'] + tls_ini());
echo "before the first fetch: ", Pantheon\Secrets\status()['environment'], "\n";
var_dump(pantheon_get_secret('STRIPE_KEY'));
echo "status(): ", Pantheon\Secrets\status()['environment'], "\n";
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
echo str_contains($info, "\nenvironment => live\n") ? "phpinfo(): live\n" : "phpinfo(): MISSING\n";
$server->stop();
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
before the first fetch: dev
string(7) "sk_live"
status(): live
phpinfo(): live
