--TEST--
mock: replaces the secrets in-process until unmock(); missing secrets, odd bytes, overrides, bad fields
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.allow_mock=1
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['FROM_FILE' => ps_web('file-value'), 'SHADOWED' => ps_web('file')]);
ps_use($path);
echo pantheon_get_secret('FROM_FILE'), "\n";
$odd = "nul\0 newline\n quote\" emoji🔑";
Pantheon\Secrets\mock([
    'PLAIN' => 'plain-value',
    'ODD' => $odd,
    'OVERRIDDEN' => ['Value' => 'site', 'EnvValues' => ['live' => 'live-value']],
    'NOT_WEB' => ['Value' => 'x', 'Scopes' => ['ic']],
    'SHADOWED' => null,
]);
var_dump(pantheon_get_secret('PLAIN'), pantheon_get_secret('ODD') === $odd, pantheon_get_secret('OVERRIDDEN'),
    pantheon_get_secret('NOT_WEB'), pantheon_get_secret('SHADOWED'), pantheon_get_secret('FROM_FILE'));
echo Pantheon\Secrets\status()['backend'], "\n";
ini_set('pantheon_secrets.environment', 'live');
var_dump(pantheon_get_secret('OVERRIDDEN'));
echo json_encode(array_keys(\Pantheon\Internal\CustomerSecrets\CustomerSecretsClient::create()->get()['Secrets'])), "\n";
foreach ([['BAD NAME' => 'x'], ['BIG' => str_repeat('b', 16385)], ['T' => ['Value' => 5]], ['O' => new stdClass]] as $bad) {
    try {
        Pantheon\Secrets\mock($bad);
    } catch (Pantheon\Secrets\SecretsException $e) {
        echo $e->getMessage(), "\n";
    }
}
var_dump(pantheon_get_secret('PLAIN'));
Pantheon\Secrets\unmock();
var_dump(pantheon_get_secret('PLAIN'), pantheon_get_secret('FROM_FILE'));
unlink($path);
?>
--EXPECTF--
file-value
string(11) "plain-value"
bool(true)
string(4) "site"
NULL
NULL
NULL
mock
string(10) "live-value"
["ODD","OVERRIDDEN","PLAIN"]
invalid secret name "BAD NAME" in Secrets: a secret name is printable ASCII without whitespace (bad byte at offset 3)
Secrets.BIG.Value: a value is at most 16384 bytes, this one is 16385
malformed secrets document: Secrets.T.Value: invalid type: integer, expected a string at line 1 column %d
Secrets.O: expected a string, an array of fields or null
string(11) "plain-value"
NULL
string(10) "file-value"
