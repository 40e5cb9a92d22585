--TEST--
https: a client certificate file without a key is named in the warning, and its content is not
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php require __DIR__ . "/tls.inc"; if ($why = tls_skip_reason()) die("skip $why"); ?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
ps_with_ini(['pantheon_secrets.backend' => 'https://127.0.0.1:' . tls_dead_port()] + tls_ini('client.crt'));
// The warning names the file: this test's own certificate directory, shown as CERTS.
set_error_handler(function ($no, $message) {
    printf("%s: %s\n", $no === E_WARNING ? 'Warning' : "error $no", str_replace(tls_certs(), 'CERTS', $message));
    return true;
});
var_dump(pantheon_get_secret('A'));
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/tls.inc';
tls_clean();
?>
--EXPECTF--
Warning: pantheon_get_secret(): cannot fetch secrets from https://127.0.0.1:%d/customer-secrets/v1/runtime/secrets: pantheon_secrets.client_cert CERTS/client.crt: no private key in it (set pantheon_secrets.client_key)
NULL
