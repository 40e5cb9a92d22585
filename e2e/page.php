<?php
// The page every pool serves: what this worker reads, as JSON (values of the test secrets only),
// then the cache's state after those reads.
header('Content-Type: application/json');
$page = [
    'pid' => getmypid(),
    'API_KEY' => pantheon_get_secret('API_KEY'),
    'ORG_SMTP' => pantheon_get_secret('ORG_SMTP'),
    'names' => array_keys(Pantheon\Secrets\all()),
];
$status = Pantheon\Secrets\status();
echo json_encode($page + [
    'fetch_count' => $status['fetch_count'],
    'stale' => $status['stale'],
    'failures' => $status['failures'],
    'last_error' => $status['last_error'],
]), "\n";
