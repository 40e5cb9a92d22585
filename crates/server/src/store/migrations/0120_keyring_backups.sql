-- 120: the keyring and the backups. Retired master keys stay in the key file for opening old
-- copies of the database; `master_keys` records when each key was added, when a newer one
-- replaced it (what `key:prune --before TIME` goes by) and when it was pruned. `backups`
-- records each `backup` with the key ids its copy needs, so `key:prune` never removes a key a
-- recorded backup still needs. The key current before this schema is recorded as added now.
CREATE TABLE master_keys (
    id INTEGER PRIMARY KEY,
    added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    retired_at TEXT,
    pruned_at TEXT
);
INSERT INTO master_keys (id) SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'current_key';
CREATE TABLE backups (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    path TEXT NOT NULL,
    key_ids TEXT NOT NULL
);
