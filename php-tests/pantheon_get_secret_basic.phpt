--TEST--
pantheon_get_secret(): the extension is loaded and answers from a document
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', ['STRIPE_KEY' => ps_web('sk_site'), 'EMPTY' => ps_web('')]);
ps_use($path);
var_dump(extension_loaded('pantheon_secrets'));
var_dump(phpversion('pantheon_secrets') === (new ReflectionExtension('pantheon_secrets'))->getVersion());
var_dump((bool) preg_match('/^\d+\.\d+\.\d+/', phpversion('pantheon_secrets')));
var_dump(pantheon_get_secret('STRIPE_KEY'));
var_dump(pantheon_get_secret('EMPTY'));
var_dump(pantheon_get_secret('MISSING'));
var_dump(function_exists('pantheon_get_secrets'), function_exists('Pantheon\Secrets\all'));
unlink($path);
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
string(7) "sk_site"
string(0) ""
NULL
bool(false)
bool(true)
