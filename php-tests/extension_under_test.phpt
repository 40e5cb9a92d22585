--TEST--
the suite runs the build under test: one pantheon_secrets library is mapped, the one the runner names
--EXTENSIONS--
pantheon_secrets
--SKIPIF--
<?php if (getenv('PANTHEON_SECRETS_EXT_UNDER_TEST') === false) echo 'skip run through tools/test.sh, which names the build under test';
--FILE--
<?php
$mapped = [];
foreach (file('/proc/self/maps') as $line) {
    if (preg_match('#\s(/\S*pantheon_secrets[^/\s]*\.so)$#', trim($line), $m)) {
        $mapped[realpath($m[1])] = true;
    }
}
var_dump(count($mapped));
var_dump(array_keys($mapped) === [realpath(getenv('PANTHEON_SECRETS_EXT_UNDER_TEST'))]);
?>
--EXPECT--
int(1)
bool(true)
