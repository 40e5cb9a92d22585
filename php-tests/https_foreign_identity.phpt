--TEST--
https: a client certificate from another CA is refused by the service
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--INI--
pantheon_secrets.client_cert=/tmp/pantheon-secrets-test-certs/other-client.pem
pantheon_secrets.ca_file=/tmp/pantheon-secrets-test-certs/ca.pem
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
$server = new TlsServer(['A' => ps_web('a')]);
ps_with_ini(['pantheon_secrets.backend' => $server->url()]);
var_dump(@pantheon_get_secret('A'));
$counts = $server->waitFor('refused_handshakes', 1);
echo "refused handshakes: ", $counts['refused_handshakes'] >= 1 ? 'yes' : 'no', ", requests answered: ", $counts['requests'], "\n";
echo "status: failures=", Pantheon\Secrets\status()['failures'], "\n";
?>
--EXPECT--
NULL
refused handshakes: yes, requests answered: 0
status: failures=1
