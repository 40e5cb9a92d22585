--TEST--
https: secrets fetched over mutual TLS from the runtime endpoint; one fetch serves many calls
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . '/tls.inc'; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.environment=live
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['STRIPE_KEY' => ps_web('sk_site', ['EnvValues' => ['live' => 'sk_live']]), 'EMPTY' => ps_web('')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini());
for ($i = 0; $i < 50; $i++) {
    $value = pantheon_get_secret('STRIPE_KEY');
}
var_dump($value, pantheon_get_secret('EMPTY'), pantheon_get_secret('MISSING'));
$status = Pantheon\Secrets\status();
printf("backend=%s status=%d fetches=%d\n", str_replace((string) $server->port, 'PORT', $status['backend']), $status['last_status'], $status['fetch_count']);
$counts = $server->counts();
printf("server: %d connection(s), %d handshake(s), %d request(s)\n", $counts['connections'], $counts['handshakes'], $counts['requests']);
$server->stop();
// The test's own certificates, private to it.
$certs = tls_certs();
$modes = array_unique(array_map(fn ($file) => sprintf('%o', fileperms($file) & 0777), glob("$certs/*")));
$own = str_starts_with(basename(dirname($certs)), 'pantheon-secrets-https_basic-');
printf("certificates in %s: directory %o, files %s\n", $own ? "the test's own directory" : $certs, fileperms($certs) & 0777, implode(',', $modes));
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
string(7) "sk_live"
string(0) ""
NULL
backend=https://127.0.0.1:PORT/customer-secrets/v1/runtime/secrets status=200 fetches=1
server: 1 connection(s), 1 handshake(s), 1 request(s)
certificates in the test's own directory: directory 700, files 600
