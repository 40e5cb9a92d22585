//! Storage: one SQLite file (WAL) holding organizations, sites, users, bindings, the audit trail
//! and secrets. Names, types and scopes are plaintext; every value is sealed by [`crate::crypto`]
//! before it reaches SQL, bound to its owner, name and environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use secrets_core::document::{Document, Secret, Value};
use secrets_core::validate::{check_env_name, check_name, check_value};

use crate::crypto::{self, Binding, CryptoError, Keyring, Sealed};
use crate::messages;

/// The schema, one numbered migration per entry; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the model.
    r#"
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
    "#,
    // 2: a generation number that every change to a secret or value bumps, in the database
    // itself (triggers), so caches see changes made by any process or tool.
    r#"
    INSERT INTO meta (key, value) VALUES ('generation', '0');
    CREATE TRIGGER secrets_ins AFTER INSERT ON secrets BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
    CREATE TRIGGER secrets_upd AFTER UPDATE ON secrets BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
    CREATE TRIGGER secrets_del AFTER DELETE ON secrets BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
    CREATE TRIGGER values_ins AFTER INSERT ON secret_values BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
    CREATE TRIGGER values_upd AFTER UPDATE ON secret_values BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
    CREATE TRIGGER values_del AFTER DELETE ON secret_values BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
    CREATE TRIGGER sites_upd AFTER UPDATE ON sites BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
    "#,
];

/// The key of `meta` naming the master key new values are sealed with.
const CURRENT_KEY: &str = "current_key";

/// The types a secret may be created with.
pub const TYPES: &[&str] = &["runtime", "env", "composer", "file"];
/// The scopes a secret may carry.
pub const SCOPES: &[&str] = &["web", "ic", "user"];
/// The type of a secret created without one.
pub const DEFAULT_TYPE: &str = "runtime";
/// The scope of a secret created without any.
pub const DEFAULT_SCOPE: &str = "user";

/// Why a storage operation failed. Messages never carry a value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Input that breaks a rule; `code` is stable, the message says which rule.
    #[error("{message}")]
    Invalid {
        /// A stable machine-readable code.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Something named does not exist.
    #[error("{message}")]
    NotFound {
        /// A stable machine-readable code.
        code: &'static str,
        /// What is missing.
        message: String,
    },
    /// Something already exists or may not change.
    #[error("{message}")]
    Conflict {
        /// A stable machine-readable code.
        code: &'static str,
        /// What conflicts.
        message: String,
    },
    /// A stored value did not decrypt.
    #[error("{0}")]
    Decrypt(Box<DecryptFailure>),
    /// The key file.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The database.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Which stored value did not decrypt, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt secret '{name}' of {owner_kind} '{owner}' ({env}): {source}")]
pub struct DecryptFailure {
    /// `org` or `site`.
    pub owner_kind: String,
    /// The owner's id.
    pub owner: String,
    /// The secret's name.
    pub name: String,
    /// The environment, `default` for the default value.
    pub env: String,
    /// The cause.
    pub source: CryptoError,
}

impl StoreError {
    fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::Invalid { code, message: message.into() }
    }
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who owns a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// An organization, by id.
    Org(String),
    /// A site, by id.
    Site(String),
}

impl Owner {
    /// `org` or `site`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::Org(_) => "org",
            Owner::Site(_) => "site",
        }
    }

    /// The owner's id.
    pub fn id(&self) -> &str {
        match self {
            Owner::Org(id) | Owner::Site(id) => id,
        }
    }
}

/// A site and its organizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The site's id.
    pub name: String,
    /// The owner organization, the only one that contributes secrets.
    pub org: Option<String>,
    /// Supporting organizations: they may reach the site, never contribute secrets.
    pub supporting: Vec<String>,
}

/// A management API user, resolved from a bearer token.
#[derive(Debug, Clone)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// An administrator reaches every organization and site.
    pub admin: bool,
    /// Organizations the user belongs to (and so the sites they own).
    pub orgs: Vec<String>,
    /// Sites the user was given directly.
    pub sites: Vec<String>,
}

impl User {
    /// Whether the user may read and change the organization's secrets.
    pub fn reaches_org(&self, org: &str) -> bool {
        self.admin || self.orgs.iter().any(|o| o == org)
    }

    /// Whether the user may read and change the site's secrets.
    pub fn reaches_site(&self, site: &Site) -> bool {
        self.admin
            || self.sites.contains(&site.name)
            || site.org.as_deref().is_some_and(|o| self.reaches_org(o))
    }
}

/// A runtime identity: one client certificate for one site and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRow {
    /// The certificate's serial number, hex.
    pub serial: String,
    /// The site.
    pub site: String,
    /// The environment.
    pub env: String,
    /// An Integrated Composer build identity (reads `ic` secrets) rather than a PHP worker.
    pub build: bool,
    /// Whether `binding:revoke` withdrew it.
    pub revoked: bool,
}

/// One secret of one owner, decrypted.
#[derive(Debug, Clone)]
pub struct StoredSecret {
    /// The name.
    pub name: String,
    /// The type, fixed at creation.
    pub kind: String,
    /// The scopes, fixed at creation.
    pub scopes: Vec<String>,
    /// The default value.
    pub value: Option<Value>,
    /// Per-environment overrides.
    pub env_values: BTreeMap<String, Value>,
}

/// Which values to decrypt.
#[derive(Debug, Clone, Copy)]
pub enum Envs<'a> {
    /// Every environment.
    All,
    /// The default value and this environment's override only.
    Only(&'a str),
}

/// What a create-or-update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// A new secret.
    Created,
    /// A new default value for an existing secret.
    Updated,
}

/// One entry of the audit trail. Never a value.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AuditEvent {
    /// When (UTC), filled in by the database.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub at: String,
    /// Who: `user:NAME`, `binding:SERIAL`, `operator`.
    pub actor: String,
    /// What, e.g. `secret.create`, `runtime.read`.
    pub action: String,
    /// The organization or site, e.g. `site:s1`.
    pub target: Option<String>,
    /// The secret's name.
    pub name: Option<String>,
    /// The environment.
    pub env: Option<String>,
    /// Anything else worth knowing (names read, counts) — never a value.
    pub detail: Option<String>,
}

/// The file names inside a data directory.
#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The SQLite database.
    pub fn db(&self) -> PathBuf {
        self.0.join("secrets.db")
    }
    /// The master key file (kept out of the database).
    pub fn master_key(&self) -> PathBuf {
        self.0.join("master.key")
    }
    /// The service CA's certificate: clients trust it, workers are issued under it.
    pub fn ca_cert(&self) -> PathBuf {
        self.0.join("ca.pem")
    }
    /// The service CA's private key.
    pub fn ca_key(&self) -> PathBuf {
        self.0.join("ca.key")
    }
    /// The HTTPS server's certificate.
    pub fn server_cert(&self) -> PathBuf {
        self.0.join("server.pem")
    }
    /// The HTTPS server's private key.
    pub fn server_key(&self) -> PathBuf {
        self.0.join("server.key")
    }
}

/// The database and the master keys of one data directory.
pub struct Store {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
    keys: Keyring,
}

/// A pooled connection, returned to the pool when dropped.
pub struct Conn<'a> {
    conn: Option<Connection>,
    store: &'a Store,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a pooled connection is present until drop")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a pooled connection is present until drop")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut pool = self.store.pool.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < 16 {
                pool.push(conn);
            }
        }
    }
}

/// Checks an organization or site id: 1–64 of `[A-Za-z0-9_-]`.
pub fn check_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid("invalid_id", format!("a {what} id is 1 to 64 of A-Z a-z 0-9 - _")))
    }
}

/// Checks an environment name: `dev`, `test`, `live` or a multidev (`[a-z0-9][a-z0-9-]*`, at
/// most 63 bytes); `default` is reserved for the organization's value that applies everywhere.
pub fn check_env(env: &str) -> Result<()> {
    let ok = !env.is_empty()
        && env.len() <= 63
        && env.as_bytes()[0].is_ascii_alphanumeric()
        && env.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && env != secrets_core::resolve::ORG_DEFAULT;
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "invalid_env",
            "an environment is dev, test, live or a multidev name ([a-z0-9][a-z0-9-]*, not 'default')",
        ))
    }
}

/// Whether builds (Integrated Composer) may run in this environment: dev and multidevs.
pub fn build_env_allowed(env: &str) -> bool {
    env != "test" && env != "live"
}

fn check_secret_name(name: &str, kind: &str) -> Result<()> {
    let named = if kind == "env" { check_env_name(name.as_bytes()) } else { check_name(name.as_bytes()) };
    named.map_err(|reason| StoreError::invalid("invalid_name", reason.to_string()))
}

fn check_secret_value(value: &str) -> Result<()> {
    check_value(value).map_err(|reason| StoreError::invalid("invalid_value", reason))
}

/// Validates and normalizes scopes: known ones, at least one, no duplicates, order kept.
pub fn normalize_scopes(scopes: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for scope in scopes.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if !SCOPES.contains(&scope) {
            return Err(StoreError::invalid(
                "invalid_scope",
                format!("unknown scope '{scope}': scopes are web, ic and user"),
            ));
        }
        if !out.iter().any(|s| s == scope) {
            out.push(scope.to_string());
        }
    }
    if out.is_empty() {
        return Err(StoreError::invalid("invalid_scope", "a secret needs at least one scope"));
    }
    Ok(out)
}

impl Store {
    /// Creates the database and the master key file of a new data directory.
    pub fn create(dir: &DataDir) -> Result<Store> {
        let keys = Keyring::create(&dir.master_key())?;
        let store = Store { path: dir.db(), pool: Mutex::new(Vec::new()), keys };
        {
            let conn = store.conn()?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, '1')", [CURRENT_KEY])?;
        }
        Ok(store)
    }

    /// Opens the database and master keys of an existing data directory.
    pub fn open(dir: &DataDir) -> Result<Store> {
        if !dir.db().exists() {
            return Err(StoreError::NotFound {
                code: "not_initialized",
                message: format!("no database in {}: run `pantheon-secrets init` first", dir.0.display()),
            });
        }
        let keys = Keyring::open(&dir.master_key())?;
        let store = Store { path: dir.db(), pool: Mutex::new(Vec::new()), keys };
        store.conn()?;
        Ok(store)
    }

    /// A connection from the pool, opened (and migrated) when the pool is empty.
    pub fn conn(&self) -> Result<Conn<'_>> {
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.path)?,
        };
        Ok(Conn { conn: Some(conn), store: self })
    }

    /// A number that changes whenever any secret, value or site changes, by any process:
    /// what the runtime cache compares to know whether a document it holds is current.
    pub fn generation(&self) -> Result<u64> {
        let conn = self.conn()?;
        let value: String = conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'generation'")?
            .query_row([], |r| r.get(0))?;
        value.parse().map_err(|_| StoreError::invalid("corrupt_meta", "meta.generation is not a number"))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ---- organizations, sites, users ----

    /// Creates an organization.
    pub fn create_org(&self, org: &str) -> Result<()> {
        check_id("organization", org)?;
        let conn = self.conn()?;
        let inserted = conn.execute("INSERT OR IGNORE INTO orgs (name) VALUES (?1)", [org])?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                code: "org_exists",
                message: format!("Organization '{org}' already exists."),
            });
        }
        Ok(())
    }

    /// Creates a site with an optional owner organization and supporting organizations.
    pub fn create_site(&self, site: &str, org: Option<&str>, supporting: &[String]) -> Result<()> {
        check_id("site", site)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for o in org.iter().copied().chain(supporting.iter().map(String::as_str)) {
            if !org_exists(&tx, o)? {
                return Err(org_not_found(o));
            }
        }
        let inserted =
            tx.execute("INSERT OR IGNORE INTO sites (name, org) VALUES (?1, ?2)", params![site, org])?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                code: "site_exists",
                message: format!("Site '{site}' already exists."),
            });
        }
        for o in supporting {
            tx.execute(
                "INSERT OR IGNORE INTO site_supporting_orgs (site, org) VALUES (?1, ?2)",
                params![site, o],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The site, or `None`.
    pub fn site(&self, site: &str) -> Result<Option<Site>> {
        let conn = self.conn()?;
        load_site(&conn, site)
    }

    /// Whether the organization exists.
    pub fn org_exists(&self, org: &str) -> Result<bool> {
        let conn = self.conn()?;
        org_exists(&conn, org)
    }

    /// Creates a bearer token for `user` (creating the user if new) and grants it the
    /// organizations and sites given. Returns the token; only its hash is stored.
    pub fn create_token(&self, user: &str, admin: bool, orgs: &[String], sites: &[String]) -> Result<String> {
        check_id("user", user)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for o in orgs {
            if !org_exists(&tx, o)? {
                return Err(org_not_found(o));
            }
        }
        for s in sites {
            if load_site(&tx, s)?.is_none() {
                return Err(site_not_found(s));
            }
        }
        tx.execute(
            "INSERT INTO users (name, admin) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET admin = max(admin, excluded.admin)",
            params![user, admin],
        )?;
        for (kind, targets) in [("org", orgs), ("site", sites)] {
            for target in targets {
                tx.execute(
                    "INSERT OR IGNORE INTO grants (user, kind, target) VALUES (?1, ?2, ?3)",
                    params![user, kind, target],
                )?;
            }
        }
        let token = format!("pss_{}", crypto::to_hex(&crypto::random_bytes(32)));
        tx.execute("INSERT INTO tokens (hash, user) VALUES (?1, ?2)", params![token_hash(&token), user])?;
        tx.commit()?;
        Ok(token)
    }

    /// The user a bearer token belongs to, or `None`.
    pub fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let conn = self.conn()?;
        let found: Option<(String, bool)> = conn
            .query_row(
                "SELECT u.name, u.admin FROM tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?1",
                [token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((name, admin)) = found else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached("SELECT kind, target FROM grants WHERE user = ?1")?;
        let mut user = User { name, admin, orgs: Vec::new(), sites: Vec::new() };
        let rows = stmt.query_map([&user.name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (kind, target) = row?;
            if kind == "org" {
                user.orgs.push(target);
            } else {
                user.sites.push(target);
            }
        }
        Ok(Some(user))
    }

    // ---- secrets ----

    /// Creates a secret, or sets the default value of an existing one. Type and scopes are fixed
    /// at creation: giving either for an existing secret is refused.
    pub fn put_secret(
        &self,
        owner: &Owner,
        name: &str,
        value: &str,
        kind: Option<&str>,
        scopes: Option<&[String]>,
    ) -> Result<Put> {
        check_secret_value(value)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = secret_meta(&tx, owner, name)?;
        let put = match existing {
            Some(_) if kind.is_some() || scopes.is_some() => {
                return Err(StoreError::Conflict {
                    code: "secret_exists",
                    message: messages::secret_exists(name),
                })
            }
            Some(_) => Put::Updated,
            None => {
                let kind = kind.unwrap_or(DEFAULT_TYPE);
                if !TYPES.contains(&kind) {
                    return Err(StoreError::invalid(
                        "invalid_type",
                        format!("unknown type '{kind}': types are runtime, env, composer and file"),
                    ));
                }
                check_secret_name(name, kind)?;
                let scopes = match scopes {
                    Some(s) => normalize_scopes(s)?,
                    None => vec![DEFAULT_SCOPE.to_string()],
                };
                tx.execute(
                    "INSERT INTO secrets (owner_kind, owner, name, type, scopes) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![owner.kind(), owner.id(), name, kind, scopes.join(",")],
                )?;
                Put::Created
            }
        };
        self.write_value(&tx, owner, name, "", value)?;
        tx.commit()?;
        Ok(put)
    }

    /// Sets the default value of an existing secret; a missing one is not created.
    pub fn update_secret(&self, owner: &Owner, name: &str, value: &str) -> Result<()> {
        check_secret_value(value)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if secret_meta(&tx, owner, name)?.is_none() {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing(name),
            });
        }
        self.write_value(&tx, owner, name, "", value)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets (`Some`) or deletes (`None`) the override of an existing secret in `env`.
    pub fn set_override(&self, owner: &Owner, name: &str, env: &str, value: Option<&str>) -> Result<()> {
        check_env(env)?;
        if let Some(v) = value {
            check_secret_value(v)?;
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if secret_meta(&tx, owner, name)?.is_none() {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing_default(name),
            });
        }
        match value {
            Some(v) => self.write_value(&tx, owner, name, env, v)?,
            None => {
                let deleted = tx.execute(
                    "DELETE FROM secret_values WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3 AND env = ?4",
                    params![owner.kind(), owner.id(), name, env],
                )?;
                if deleted == 0 {
                    return Err(StoreError::NotFound {
                        code: "override_not_found",
                        message: format!("Secret '{name}' has no value for environment '{env}'."),
                    });
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes a secret with all its values.
    pub fn delete_secret(&self, owner: &Owner, name: &str) -> Result<()> {
        let conn = self.conn()?;
        let deleted = conn.execute(
            "DELETE FROM secrets WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3",
            params![owner.kind(), owner.id(), name],
        )?;
        if deleted == 0 {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing(name),
            });
        }
        Ok(())
    }

    fn write_value(
        &self,
        tx: &rusqlite::Transaction<'_>,
        owner: &Owner,
        name: &str,
        env: &str,
        value: &str,
    ) -> Result<()> {
        // Read inside the write transaction: key:rotate switches this in its own transaction,
        // so a value is sealed either before the switch (and re-encrypted) or under the new key.
        let key_id = current_key(tx)?;
        let sealed = self.keys.seal(
            key_id,
            Binding { owner_kind: owner.kind(), owner: owner.id(), name, env },
            value.as_bytes(),
        )?;
        tx.execute(
            "INSERT INTO secret_values (owner_kind, owner, name, env, key_id, nonce, ciphertext)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(owner_kind, owner, name, env) DO UPDATE SET
               key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext,
               updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
            params![owner.kind(), owner.id(), name, env, sealed.key_id, sealed.nonce, sealed.ciphertext],
        )?;
        Ok(())
    }

    /// Every secret of `owner`, decrypted: the default values and the overrides `envs` selects.
    pub fn owner_secrets(&self, owner: &Owner, envs: Envs<'_>) -> Result<Vec<StoredSecret>> {
        let conn = self.conn()?;
        let mut secrets: BTreeMap<String, StoredSecret> = BTreeMap::new();
        let mut stmt = conn
            .prepare_cached("SELECT name, type, scopes FROM secrets WHERE owner_kind = ?1 AND owner = ?2")?;
        let rows = stmt.query_map(params![owner.kind(), owner.id()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        for row in rows {
            let (name, kind, scopes) = row?;
            secrets.insert(
                name.clone(),
                StoredSecret {
                    name,
                    kind,
                    scopes: scopes.split(',').map(str::to_string).collect(),
                    value: None,
                    env_values: BTreeMap::new(),
                },
            );
        }
        let (sql, only) = match envs {
            Envs::All => (
                "SELECT name, env, key_id, nonce, ciphertext FROM secret_values
                 WHERE owner_kind = ?1 AND owner = ?2 AND ?3 IS NULL",
                None,
            ),
            Envs::Only(env) => (
                "SELECT name, env, key_id, nonce, ciphertext FROM secret_values
                 WHERE owner_kind = ?1 AND owner = ?2 AND env IN ('', ?3)",
                Some(env),
            ),
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![owner.kind(), owner.id(), only], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                Sealed { key_id: r.get(2)?, nonce: r.get(3)?, ciphertext: r.get(4)? },
            ))
        })?;
        for row in rows {
            let (name, env, sealed) = row?;
            let value = self.open_value(owner, &name, &env, &sealed)?;
            if let Some(secret) = secrets.get_mut(&name) {
                if env.is_empty() {
                    secret.value = Some(value);
                } else {
                    secret.env_values.insert(env, value);
                }
            }
        }
        Ok(secrets.into_values().collect())
    }

    fn open_value(&self, owner: &Owner, name: &str, env: &str, sealed: &Sealed) -> Result<Value> {
        let binding = Binding { owner_kind: owner.kind(), owner: owner.id(), name, env };
        let decrypt = |source| {
            StoreError::Decrypt(Box::new(DecryptFailure {
                owner_kind: owner.kind().to_string(),
                owner: owner.id().to_string(),
                name: name.to_string(),
                env: if env.is_empty() { "default" } else { env }.to_string(),
                source,
            }))
        };
        let bytes = self.keys.open_sealed(sealed, binding).map_err(decrypt)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| decrypt(CryptoError::Open))?;
        Ok(Value::new(text.to_string()))
    }

    /// The secrets document of a site (DESIGN §3): the site's secrets with their overrides, and
    /// under `OrgValues` those of its owner organization — never a supporting organization's.
    /// Where site and organization both have a secret of one name, the site's type and scopes win.
    pub fn site_document(&self, site: &Site, envs: Envs<'_>) -> Result<Document> {
        let mut doc = Document { site_id: site.name.clone(), ..Document::default() };
        if let Some(org) = &site.org {
            for s in self.owner_secrets(&Owner::Org(org.clone()), envs)? {
                let mut org_values: BTreeMap<String, Option<Value>> =
                    s.env_values.into_iter().map(|(e, v)| (e, Some(v))).collect();
                if let Some(v) = s.value {
                    org_values.insert(secrets_core::resolve::ORG_DEFAULT.to_string(), Some(v));
                }
                doc.secrets.insert(
                    s.name,
                    Secret { kind: s.kind, scopes: s.scopes, org_values, ..Secret::default() },
                );
            }
        }
        for s in self.owner_secrets(&Owner::Site(site.name.clone()), envs)? {
            let entry = doc.secrets.entry(s.name).or_default();
            entry.kind = s.kind;
            entry.scopes = s.scopes;
            entry.value = s.value;
            entry.env_values = s.env_values.into_iter().map(|(e, v)| (e, Some(v))).collect();
        }
        doc.count = doc.secrets.len() as u64;
        Ok(doc)
    }

    /// An organization's secrets as a document: `Value` is the organization's default,
    /// `EnvValues` its per-environment values.
    pub fn org_document(&self, org: &str) -> Result<Document> {
        let mut doc = Document::default();
        for s in self.owner_secrets(&Owner::Org(org.to_string()), Envs::All)? {
            doc.secrets.insert(
                s.name,
                Secret {
                    kind: s.kind,
                    scopes: s.scopes,
                    value: s.value,
                    env_values: s.env_values.into_iter().map(|(e, v)| (e, Some(v))).collect(),
                    ..Secret::default()
                },
            );
        }
        doc.count = doc.secrets.len() as u64;
        Ok(doc)
    }

    // ---- bindings ----

    /// Records an issued binding certificate.
    pub fn record_binding(
        &self,
        serial: &str,
        fingerprint: &[u8; 32],
        site: &str,
        env: &str,
        build: bool,
        not_after: &str,
    ) -> Result<()> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO bindings (serial, fingerprint, site, env, build, not_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![serial, &fingerprint[..], site, env, build, not_after],
        )?;
        Ok(())
    }

    /// The binding whose certificate has this SHA-256 fingerprint, or `None`.
    pub fn binding_by_fingerprint(&self, fingerprint: &[u8; 32]) -> Result<Option<BindingRow>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT serial, site, env, build, revoked_at IS NOT NULL FROM bindings WHERE fingerprint = ?1",
        )?;
        Ok(stmt
            .query_row([&fingerprint[..]], |r| {
                Ok(BindingRow {
                    serial: r.get(0)?,
                    site: r.get(1)?,
                    env: r.get(2)?,
                    build: r.get(3)?,
                    revoked: r.get(4)?,
                })
            })
            .optional()?)
    }

    /// Revokes the bindings of `site.env` (only the one with `serial`, if given). Returns the
    /// serial numbers revoked.
    pub fn revoke_bindings(&self, site: &str, env: &str, serial: Option<&str>) -> Result<Vec<String>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "UPDATE bindings SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE site = ?1 AND env = ?2 AND (?3 IS NULL OR serial = ?3) AND revoked_at IS NULL
             RETURNING serial",
        )?;
        let serials =
            stmt.query_map(params![site, env, serial], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
        Ok(serials)
    }

    // ---- audit ----

    /// Appends events to the audit trail in one transaction.
    pub fn audit(&self, events: &[AuditEvent]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO audit (actor, action, target, name, env, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                stmt.execute(params![e.actor, e.action, e.target, e.name, e.env, e.detail])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The latest `limit` audit events, oldest first.
    pub fn audit_list(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT at, actor, action, target, name, env, detail FROM
               (SELECT * FROM audit ORDER BY id DESC LIMIT ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(AuditEvent {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
                name: r.get(4)?,
                env: r.get(5)?,
                detail: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    // ---- key rotation ----

    /// Re-encrypts every value under a new master key, without stopping readers: the new key is
    /// added to the key file first, then made current, then values move over in small
    /// transactions (each row names its key, so readers open old and new rows alike), and only
    /// when no row needs them are the old keys removed from the file. Returns the new key id and
    /// the number of values re-encrypted.
    pub fn rotate_key(&self) -> Result<(u32, usize)> {
        let new_id = self.keys.add_key()?;
        {
            let conn = self.conn()?;
            conn.execute(
                "UPDATE meta SET value = ?1 WHERE key = ?2",
                params![new_id.to_string(), CURRENT_KEY],
            )?;
        }
        let mut moved = 0;
        loop {
            let mut conn = self.conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let batch: Vec<(String, String, String, String, Sealed)> = {
                let mut stmt = tx.prepare(
                    "SELECT owner_kind, owner, name, env, key_id, nonce, ciphertext FROM secret_values
                     WHERE key_id <> ?1 LIMIT 200",
                )?;
                let rows = stmt.query_map([new_id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        Sealed { key_id: r.get(4)?, nonce: r.get(5)?, ciphertext: r.get(6)? },
                    ))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            if batch.is_empty() {
                break;
            }
            for (kind, owner_id, name, env, sealed) in batch {
                let owner = if kind == "org" { Owner::Org(owner_id) } else { Owner::Site(owner_id) };
                let value = self.open_value(&owner, &name, &env, &sealed)?;
                self.write_value(&tx, &owner, &name, &env, &value)?;
                moved += 1;
            }
            tx.commit()?;
        }
        self.keys.retire_all_but(new_id)?;
        Ok((new_id, moved))
    }
}

fn open_connection(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for sql in &MIGRATIONS[version.min(MIGRATIONS.len())..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    tx.commit()?;
    Ok(())
}

fn current_key(conn: &Connection) -> Result<u32> {
    let value: String =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [CURRENT_KEY], |r| r.get(0))?;
    value.parse().map_err(|_| StoreError::invalid("corrupt_meta", "meta.current_key is not a number"))
}

fn org_exists(conn: &Connection, org: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT 1 FROM orgs WHERE name = ?1", [org], |_| Ok(())).optional()?.is_some())
}

fn load_site(conn: &Connection, site: &str) -> Result<Option<Site>> {
    let org: Option<Option<String>> = conn
        .prepare_cached("SELECT org FROM sites WHERE name = ?1")?
        .query_row([site], |r| r.get(0))
        .optional()?;
    let Some(org) = org else { return Ok(None) };
    let mut stmt =
        conn.prepare_cached("SELECT org FROM site_supporting_orgs WHERE site = ?1 ORDER BY org")?;
    let supporting = stmt.query_map([site], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(Some(Site { name: site.to_string(), org, supporting }))
}

fn secret_meta(conn: &Connection, owner: &Owner, name: &str) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT type, scopes FROM secrets WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3",
            params![owner.kind(), owner.id(), name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

fn token_hash(token: &str) -> String {
    crypto::to_hex(&crypto::sha256(token.as_bytes()))
}

/// The error for an organization that does not exist.
pub fn org_not_found(org: &str) -> StoreError {
    StoreError::NotFound { code: "org_not_found", message: format!("Organization '{org}' does not exist.") }
}

/// The error for a site that does not exist.
pub fn site_not_found(site: &str) -> StoreError {
    StoreError::NotFound { code: "site_not_found", message: format!("Site '{site}' does not exist.") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let dir = std::env::temp_dir().join(format!("ps-store-{}", crypto::to_hex(&crypto::random_bytes(8))));
        std::fs::create_dir_all(&dir).unwrap();
        Store::create(&DataDir(dir)).unwrap()
    }

    #[test]
    fn check_env_accepts_multidevs_refuses_default() {
        for ok in ["dev", "test", "live", "pr-12"] {
            assert!(check_env(ok).is_ok(), "{ok}");
        }
        for bad in ["", "default", "Dev", "-x", "a.b"] {
            assert!(check_env(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn site_document_supporting_org_never_contributes() {
        let s = store();
        s.create_org("own").unwrap();
        s.create_org("help").unwrap();
        s.create_site("s1", Some("own"), &["help".to_string()]).unwrap();
        let web = Some(&["web".to_string()][..]);
        s.put_secret(&Owner::Org("own".into()), "A", "a", None, web).unwrap();
        s.put_secret(&Owner::Org("help".into()), "B", "b", None, web).unwrap();
        let site = s.site("s1").unwrap().unwrap();
        let doc = s.site_document(&site, Envs::All).unwrap();
        assert!(doc.secrets.contains_key("A"));
        assert!(!doc.secrets.contains_key("B"));
    }

    #[test]
    fn put_secret_type_and_scopes_fixed() {
        let s = store();
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        assert_eq!(s.put_secret(&owner, "A", "1", None, None).unwrap(), Put::Created);
        assert_eq!(s.put_secret(&owner, "A", "2", None, None).unwrap(), Put::Updated);
        let err = s.put_secret(&owner, "A", "3", Some("env"), None).unwrap_err();
        assert_eq!(err.to_string(), messages::secret_exists("A"));
    }

    #[test]
    fn generation_changes_with_any_write() {
        let s = store();
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        let g0 = s.generation().unwrap();
        s.put_secret(&owner, "A", "1", None, None).unwrap();
        let g1 = s.generation().unwrap();
        assert!(g1 > g0);
        s.set_override(&owner, "A", "live", Some("L")).unwrap();
        let g2 = s.generation().unwrap();
        assert!(g2 > g1);
        // Another connection, as another process or tool would.
        let other = Connection::open(s.path()).unwrap();
        other.execute("DELETE FROM secret_values WHERE env = 'live'", []).unwrap();
        assert!(s.generation().unwrap() > g2);
        assert_eq!(s.generation().unwrap(), s.generation().unwrap());
    }

    #[test]
    fn rotate_key_reencrypts_everything() {
        let s = store();
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        s.put_secret(&owner, "A", "1", None, None).unwrap();
        s.set_override(&owner, "A", "live", Some("L")).unwrap();
        assert_eq!(s.rotate_key().unwrap(), (2, 2));
        let got = s.owner_secrets(&owner, Envs::All).unwrap();
        assert_eq!(got[0].value.as_deref().map(String::as_str), Some("1"));
        assert_eq!(got[0].env_values["live"].as_str(), "L");
    }
}
