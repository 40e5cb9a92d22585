--TEST--
Pantheon\Secrets\all() and status(): web secrets only, and a status that never holds a value
--EXTENSIONS--
pantheon_secrets
--FILE--
<?php
require __DIR__ . '/secrets.inc';
$path = ps_document('doc', [
    'B_WEB' => ps_web('value-b'),
    'A_WEB' => ps_web(null, ['OrgValues' => ['default' => 'value-a']]),
    'IC_ONLY' => ['Type' => 'composer', 'Value' => 'value-ic', 'Scopes' => ['ic']],
    'NO_VALUE' => ps_web(null),
]);
ps_use($path);
var_dump(Pantheon\Secrets\all());
$status = Pantheon\Secrets\status();
echo implode(',', array_keys($status)), "\n";
printf("backend=%s env=%s pid=%s fetches=%d count=%d ttl=%d stale=%s failures=%d error=%s\n",
    str_replace($path, 'FILE', $status['backend']), $status['environment'], $status['pid'] === getmypid() ? 'mine' : 'other',
    $status['fetch_count'], $status['count'], $status['ttl'], var_export($status['stale'], true), $status['failures'],
    var_export($status['last_error'], true));
var_dump(is_float($status['fetched_at']) && abs($status['fetched_at'] - microtime(true)) < 60, $status['age'] >= 0 && $status['age'] < 60);
echo str_contains(serialize($status), 'value-') ? "VALUE LEAKED\n" : "no value in status\n";
unlink($path);
?>
--EXPECT--
array(2) {
  ["A_WEB"]=>
  string(7) "value-a"
  ["B_WEB"]=>
  string(7) "value-b"
}
backend,environment,pid,fetch_count,fetched_at,age,count,ttl,stale,failures,retry_in,last_status,last_error
backend=file://FILE env=dev pid=mine fetches=1 count=2 ttl=900 stale=false failures=0 error=NULL
bool(true)
bool(true)
no value in status
