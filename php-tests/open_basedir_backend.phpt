--TEST--
open_basedir: a file backend outside the jail is refused with one message whatever is there; PHP code cannot change the backend
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$base = ps_test_dir(true);
[$jail, $outside] = ["$base/jail", "$base/outside"];
mkdir($jail, 0700, true);
mkdir("$outside/dir", 0700, true);
file_put_contents("$outside/not.json", "not json, and not to be echoed");
file_put_contents("$outside/secrets.json", json_encode(['Secrets' => ['A' => ps_web('another-sites-value')]]));
file_put_contents("$jail/secrets.json", json_encode(['Secrets' => ['A' => ps_web('own-value')]]));
symlink("$outside/secrets.json", "$jail/link.json");

// Site code in the jail: it reads A, tries to point the backend elsewhere, and reports the error.
$probe = <<<'PHP'
<?php
set_error_handler(fn () => true);
$value = pantheon_get_secret('A');
$status = Pantheon\Secrets\status();
$switched = ini_set('pantheon_secrets.backend', 'file://' . getenv('PS_OUTSIDE') . '/secrets.json');
echo var_export($value, true), '; ini_set: ', var_export($switched, true), '; ',
    str_replace(substr($status['backend'], 7), 'PATH', (string) $status['last_error']), "\n";
PHP;
$jailed = ['open_basedir' => $jail];
$env = ['PS_OUTSIDE' => $outside];
foreach ([
    'missing' => "file://$outside/missing.json",
    'directory' => "file://$outside/dir",
    'not json' => "file://$outside/not.json",
    "another site's" => "file://$outside/secrets.json",
    'symlink out' => "file://$jail/link.json",
    'dot-dot out' => "file://$jail/../outside/secrets.json",
    'own' => "file://$jail/secrets.json",
] as $case => $backend) {
    echo "$case: ", ps_run($jailed + ['pantheon_secrets.backend' => $backend], $probe, $env);
}
echo 'fake file outside: ', ps_run($jailed, $probe, $env + ['CUSTOMER_SECRETS_FAKE_FILE' => "$outside/secrets.json"]);
echo 'no jail: ', ps_run(['pantheon_secrets.backend' => "file://$outside/secrets.json"], $probe, $env);
echo 'ini_get_all access: ', ini_get_all('pantheon_secrets')['pantheon_secrets.backend']['access'], "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/secrets.inc';
exec('rm -rf ' . escapeshellarg(ps_test_dir()));
?>
--EXPECT--
missing: NULL; ini_set: false; cannot fetch secrets from file://PATH: the path is outside open_basedir
directory: NULL; ini_set: false; cannot fetch secrets from file://PATH: the path is outside open_basedir
not json: NULL; ini_set: false; cannot fetch secrets from file://PATH: the path is outside open_basedir
another site's: NULL; ini_set: false; cannot fetch secrets from file://PATH: the path is outside open_basedir
symlink out: NULL; ini_set: false; cannot fetch secrets from file://PATH: the path is outside open_basedir
dot-dot out: NULL; ini_set: false; cannot fetch secrets from file://PATH: the path is outside open_basedir
own: 'own-value'; ini_set: false; 
fake file outside: NULL; ini_set: false; cannot fetch secrets from file://PATH: the path is outside open_basedir
no jail: 'another-sites-value'; ini_set: false; 
ini_get_all access: 6
