--TEST--
https: a client certificate from another CA is refused by the service
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('a')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()] + tls_ini('other-client.pem'));
var_dump(@pantheon_get_secret('A'));
$counts = $server->waitFor('refused_handshakes', 1);
echo "refused handshakes: ", $counts['refused_handshakes'] >= 1 ? 'yes' : 'no', ", requests answered: ", $counts['requests'], "\n";
echo "status: failures=", Pantheon\Secrets\status()['failures'], "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECT--
NULL
refused handshakes: yes, requests answered: 0
status: failures=1
