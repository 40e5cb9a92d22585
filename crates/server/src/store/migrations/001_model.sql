-- 1: the model: organizations, sites, users and tokens, secrets and their sealed values,
-- bindings, the audit trail.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE orgs (name TEXT PRIMARY KEY, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
CREATE TABLE sites (
    name TEXT PRIMARY KEY,
    org TEXT REFERENCES orgs(name),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE site_supporting_orgs (
    site TEXT NOT NULL REFERENCES sites(name),
    org TEXT NOT NULL REFERENCES orgs(name),
    PRIMARY KEY (site, org)
);
CREATE TABLE users (name TEXT PRIMARY KEY, admin INTEGER NOT NULL DEFAULT 0);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE grants (
    user TEXT NOT NULL REFERENCES users(name),
    kind TEXT NOT NULL CHECK (kind IN ('org', 'site')),
    target TEXT NOT NULL,
    PRIMARY KEY (user, kind, target)
);
CREATE TABLE secrets (
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('org', 'site')),
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (owner_kind, owner, name)
);
CREATE TABLE secret_values (
    owner_kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    env TEXT NOT NULL,
    key_id INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (owner_kind, owner, name, env),
    FOREIGN KEY (owner_kind, owner, name) REFERENCES secrets(owner_kind, owner, name) ON DELETE CASCADE
);
CREATE INDEX secret_values_key ON secret_values(key_id);
CREATE TABLE bindings (
    serial TEXT PRIMARY KEY,
    fingerprint BLOB NOT NULL UNIQUE,
    site TEXT NOT NULL REFERENCES sites(name),
    env TEXT NOT NULL,
    build INTEGER NOT NULL,
    not_after TEXT NOT NULL,
    issued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    revoked_at TEXT
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    name TEXT,
    env TEXT,
    detail TEXT
);
