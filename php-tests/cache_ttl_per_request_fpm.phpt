--TEST--
cache: under PHP-FPM the TTL is checked at a request's first call; a request keeps its values to its end, the next one fetches; a TTL of 0 still reads on every call
--EXTENSIONS--
pantheon_secrets
posix
--SKIPIF--
<?php
require __DIR__ . '/fpm.inc';
if (!fpm_binary()) die('skip php-fpm is not installed (make deps installs it)');
if (!trim((string) shell_exec('command -v cgi-fcgi'))) die('skip cgi-fcgi is not installed (make deps installs it)');
?>
--FILE--
<?php
require __DIR__ . '/secrets.inc';
require __DIR__ . '/fpm.inc';
// The page reads A, lets the document change and the TTL pass, and reads A again.
$page = <<<'PHP'
<?php
$path = $_GET['doc'];
$first = pantheon_get_secret('A');
if (isset($_GET['next'])) {
    file_put_contents("$path.new", json_encode(['Secrets' => ['A' => ['Value' => $_GET['next'], 'Scopes' => ['web']]]]));
    rename("$path.new", $path);
    usleep((int) $_GET['sleep_ms'] * 1000);
}
echo "BODY $first ", pantheon_get_secret('A'), " fetches=", Pantheon\Secrets\status()['fetch_count'], "\n";
PHP;
foreach (['1' => 1100, '0' => 0] as $ttl => $sleep) {
    $path = ps_document("doc-ttl$ttl", ['A' => ps_web('one')]);
    chmod($path, 0666);
    chmod(dirname($path), 0777);
    $fpm = new Fpm(1, ['pantheon_secrets.backend' => "file://$path", 'pantheon_secrets.ttl' => $ttl], $page);
    echo "ttl=$ttl\n";
    echo $fpm->requests(1, 1, "doc=$path&next=two&sleep_ms=$sleep")[0] ?? 'no answer', "\n";
    echo $fpm->requests(1, 1, "doc=$path")[0] ?? 'no answer', "\n";
    $fpm->stop();
    unlink($path);
}
?>
--EXPECT--
ttl=1
one one fetches=1
two two fetches=2
ttl=0
one two fetches=2
two two fetches=4
