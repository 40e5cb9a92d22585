--TEST--
cache: a failed read warns once per attempt and backs off; the next attempt recovers; a deleted file drops the values
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_path('doc');
ps_use($path);
$warnings = 0;
set_error_handler(function () use (&$warnings) { $warnings++; return true; });
for ($i = 0; $i < 100; $i++) {
    pantheon_get_secret('A');
}
$s = Pantheon\Secrets\status();
echo "missing: $warnings warning(s) in 100 calls, fetches={$s['fetch_count']} failures={$s['failures']} retry_in>0=", var_export($s['retry_in'] > 0, true), "\n";
ps_rewrite($path, ['A' => ps_web('appeared')]);
usleep(1100000); // the first back-off is at most 1 s
echo "after back-off: ", pantheon_get_secret('A'), " warnings=$warnings\n";
$s = Pantheon\Secrets\status();
echo "failures={$s['failures']} last_error kept: ", var_export(str_contains($s['last_error'], 'no such file'), true), "\n";
unlink($path);
var_dump(Pantheon\Secrets\refresh());
echo "deleted: ", var_export(pantheon_get_secret('A'), true), " warnings=$warnings stale=", var_export(Pantheon\Secrets\status()['stale'], true), "\n";
?>
--EXPECT--
missing: 1 warning(s) in 100 calls, fetches=1 failures=1 retry_in>0=true
after back-off: appeared warnings=1
failures=0 last_error kept: true
bool(false)
deleted: NULL warnings=2 stale=false
