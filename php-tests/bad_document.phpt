--TEST--
bad input: missing, unreadable, empty and malformed documents each warn once, name file and field, and give null; a misnamed secret is skipped (named, never its value) and the others served
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$cases = [
    'missing'    => null,
    'directory'  => 'dir',
    'empty'      => '',
    'not json'   => '{"Secrets": {"A": ',
    'array'      => '["Secrets"]',
    'wrong type' => '{"Secrets": {"A": {"Value": 5, "Scopes": ["web"]}}}',
    'bad scopes' => '{"Secrets": {"A": {"Value": "sk_leak", "Scopes": "web"}}}',
    'bad name'   => '{"Secrets": {"two words": {"Value": "sk_leak", "Scopes": ["web"]}, "A": {"Value": "a", "Scopes": ["web"]}}}',
    'env name'   => '{"Secrets": {"My.Secret-Name": {"Type": "env", "Value": "sk_leak", "Scopes": ["web"]}, "A": {"Type": "env", "Value": "a", "Scopes": ["web"]}}}',
    'too big'    => json_encode(['Secrets' => ['A' => ps_web(str_repeat('s', 16385))]]),
];
// Each case in a process of its own: the backend is a per-directory setting, not ini_set()'s.
$probe = <<<'PHP'
<?php
$warnings = [];
set_error_handler(function ($no, $message) use (&$warnings) { $warnings[] = $message; return true; });
$values = [pantheon_get_secret('A'), pantheon_get_secret('A'), pantheon_get_secret('A')];
restore_error_handler();
echo count($warnings), " warning(s) for 3 calls; values: ", json_encode($values), "\n";
echo str_replace(getenv('PS_FILE'), 'FILE', $warnings[0] ?? ''), "\n";
if (str_contains(implode(' ', $warnings), 'sk_leak')) echo "VALUE LEAKED\n";
PHP;
foreach ($cases as $case => $content) {
    $path = ps_path(str_replace(' ', '-', $case));
    if ($content === 'dir') {
        mkdir($path);
    } elseif ($content !== null) {
        file_put_contents($path, $content);
    }
    echo "-- $case\n";
    echo ps_run(['pantheon_secrets.backend' => "file://$path"], $probe, ['PS_FILE' => $path]);
    $content === 'dir' ? rmdir($path) : @unlink($path);
}
?>
--EXPECT--
-- missing
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: no such file
-- directory
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: is a directory
-- empty
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: the secrets document is empty
-- not json
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: malformed secrets document: Secrets.A: EOF while parsing a value at line 1 column 18
-- array
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: malformed secrets document: .: expected a JSON object
-- wrong type
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: malformed secrets document: Secrets.A.Value: invalid type: integer, expected a string at line 1 column 29
-- bad scopes
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: malformed secrets document: Secrets.A.Scopes: invalid type: string, expected a sequence at line 1 column 54
-- bad name
1 warning(s) for 3 calls; values: ["a","a","a"]
pantheon_get_secret(): secrets from file://FILE: skipped invalid secret name "two words" in Secrets: a secret name is printable ASCII without whitespace (bad byte at offset 3)
-- env name
1 warning(s) for 3 calls; values: ["a","a","a"]
pantheon_get_secret(): secrets from file://FILE: skipped invalid secret name "My.Secret-Name" in Secrets: an env-type secret name must match ^[A-Za-z_][A-Za-z0-9_]*$
-- too big
1 warning(s) for 3 calls; values: [null,null,null]
pantheon_get_secret(): cannot fetch secrets from file://FILE: Secrets.A.Value: a value is at most 16384 bytes, this one is 16385
