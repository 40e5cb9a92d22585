//! Storage: one SQLite file (WAL) holding organizations, sites, users, bindings, the audit trail
//! and secrets. Names, types and scopes are plaintext; every value is sealed by [`crate::crypto`]
//! before it reaches SQL, bound to its owner, name and environment.
//!
//! [`model`] holds the types and the rules on ids, environments and scopes; [`accounts`]
//! organizations, sites and users; [`secrets`] secrets, their encryption and key rotation;
//! [`bindings`] runtime identities; [`audit`] the trail. Migrations are numbered SQL files.

mod accounts;
mod audit;
mod bindings;
pub mod model;
mod secrets;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::crypto::{CryptoError, Keyring};

pub use model::*;

/// The schema, one numbered migration per file; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_model.sql"),
    include_str!("migrations/002_generation.sql"),
    include_str!("migrations/0100_ids.sql"),
    include_str!("migrations/0101_token_rights.sql"),
];

/// The key of `meta` naming the master key new values are sealed with.
const CURRENT_KEY: &str = "current_key";

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

/// The error for an organization that does not exist.
pub fn org_not_found(org: &str) -> StoreError {
    StoreError::NotFound { code: "org_not_found", message: format!("Organization '{org}' does not exist.") }
}

/// The error for a site that does not exist.
pub fn site_not_found(site: &str) -> StoreError {
    StoreError::NotFound { code: "site_not_found", message: format!("Site '{site}' does not exist.") }
}

/// A store in a fresh temporary directory, removed when dropped (for unit tests).
#[cfg(test)]
pub(crate) struct TestStore(pub Store, PathBuf);

#[cfg(test)]
impl TestStore {
    pub(crate) fn new() -> TestStore {
        let dir = std::env::temp_dir()
            .join(format!("ps-store-{}", crate::crypto::to_hex(&crate::crypto::random_bytes(8))));
        std::fs::create_dir_all(&dir).unwrap();
        TestStore(Store::create(&DataDir(dir.clone())).unwrap(), dir)
    }
}

#[cfg(test)]
impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.0
    }
}

#[cfg(test)]
impl Drop for TestStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.1);
    }
}
