--TEST--
mock: an array nested 20,000 deep or one that contains itself raises SecretsException instead of crashing PHP
--EXTENSIONS--
pantheon_secrets
--INI--
pantheon_secrets.allow_mock=1
--FILE--
<?php
$deep = 'leaf';
for ($i = 0; $i < 20000; $i++) {
    $deep = [$deep];
}
$loop = ['Value' => 'x'];
$loop['Self'] = &$loop;
foreach (['deep' => ['A' => ['Value' => 'x', 'Extra' => $deep]], 'loop' => ['B' => $loop], 'top' => null] as $what => $secrets) {
    if ($secrets === null) {
        $secrets = ['C' => 'c'];
        $secrets['D'] = &$secrets;
    }
    try {
        Pantheon\Secrets\mock($secrets);
        echo "$what: accepted\n";
    } catch (Pantheon\Secrets\SecretsException $e) {
        echo "$what: ", preg_replace('/(\.0){3,}/', '.0.0...', $e->getMessage()), "\n";
    }
}
$shallow = ['Value' => 'x', 'EnvValues' => ['live' => 'y']];
Pantheon\Secrets\mock(['E' => $shallow]);
var_dump(pantheon_get_secret('E'));
?>
--EXPECT--
deep: Secrets.A.Extra.0.0...: nested deeper than 64 levels
loop: Secrets.B.Self: the array contains itself
top: Secrets.D: the array contains itself
string(1) "x"
