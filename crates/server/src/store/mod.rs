//! Storage: one SQLite file (WAL) holding organizations, sites, users, bindings, the audit trail
//! and secrets. Names, types and scopes are plaintext; every value is sealed by [`crate::crypto`]
//! before it reaches SQL, bound to its owner, name, environment, type and scopes.
//!
//! [`model`] holds the types and the rules on ids, environments and scopes; [`accounts`]
//! organizations, sites and users; [`secrets`] secrets, their encryption and key rotation;
//! [`bindings`] runtime identities; [`audit`] the trail; [`backup`] online copies, restoring
//! them, and pruning retired master keys. Migrations are numbered SQL files.
//!
//! Files are private whatever the umask: the data directory is 0700 and the database (hence the
//! WAL and shared-memory files SQLite makes with the database's mode) 0600, set when created and
//! narrowed again whenever a store is opened.

mod accounts;
mod audit;
pub mod backup;
mod bindings;
pub mod model;
mod secrets;

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use crate::crypto::{CryptoError, Keyring};

pub use audit::AuditFilter;
pub use model::*;

/// One numbered step of the schema.
enum Migration {
    /// A SQL file.
    Sql(&'static str),
    /// A SQL file, then a step over the data that needs the master keys.
    SqlThen(&'static str, fn(&Connection, &Keyring) -> Result<()>),
}

impl Migration {
    /// The SQL of the migration (tests build older schemas from it).
    #[cfg(test)]
    fn sql(&self) -> &'static str {
        match self {
            Migration::Sql(sql) | Migration::SqlThen(sql, _) => sql,
        }
    }
}

/// The schema, one numbered migration per file; `PRAGMA user_version` records how many ran.
/// All pending ones run in one transaction: a failure leaves the database as it was.
const MIGRATIONS: &[Migration] = &[
    Migration::Sql(include_str!("migrations/001_model.sql")),
    Migration::Sql(include_str!("migrations/002_generation.sql")),
    Migration::SqlThen(include_str!("migrations/003_seal_type_scopes.sql"), secrets::reseal_unbound),
    Migration::Sql(include_str!("migrations/0100_ids.sql")),
    Migration::Sql(include_str!("migrations/0101_token_rights.sql")),
    Migration::Sql(include_str!("migrations/0120_keyring_backups.sql")),
    Migration::Sql(include_str!("migrations/0200_token_expiry.sql")),
];

/// The key of `meta` naming the master key new values are sealed with.
const CURRENT_KEY: &str = "current_key";
/// The key of `meta` holding the highest master key id ever handed out.
const LAST_KEY: &str = "last_key";

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
    /// A migration failed; the database is as it was before.
    #[error("upgrading the database to schema {number}: {source}")]
    Migration {
        /// The migration's number.
        number: usize,
        /// Why.
        source: Box<StoreError>,
    },
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

/// The mode of a data directory (and of a backup's directory): only its owner enters it.
pub const DIR_MODE: u32 = 0o700;

/// The mode of the database and of its WAL and shared-memory files.
pub const DB_MODE: u32 = 0o600;

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
    /// The database's write-ahead log and shared-memory index (SQLite names them after it).
    pub fn db_companions(&self) -> [PathBuf; 2] {
        [self.0.join("secrets.db-wal"), self.0.join("secrets.db-shm")]
    }
    /// The lock file `key:rotate` holds (flock) while it changes the master keys.
    pub fn key_lock(&self) -> PathBuf {
        self.0.join("key.lock")
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

/// The most database connections a store opens at once: each holds descriptors (the
/// database, its WAL and shared-memory files), so a flood of requests must queue for one
/// rather than open more until the process runs out.
pub const MAX_CONNECTIONS: usize = 16;

/// How long [`Store::conn`] waits for a connection when all are in use.
const CONNECTION_WAIT: Duration = Duration::from_secs(30);

/// The database and the master keys of one data directory.
pub struct Store {
    dir: DataDir,
    path: PathBuf,
    lock_path: PathBuf,
    pool: Pool,
    keys: Keyring,
}

/// The exclusive right to change the master keys, held until dropped. It belongs to the storage
/// engine: here a flock(2) on the data directory's `key.lock`, which the kernel releases when
/// the process dies; an engine on a database server would take that database's own lock.
struct KeyLock(#[allow(dead_code)] std::fs::File);

/// At most [`MAX_CONNECTIONS`] connections: the idle ones, and how many exist in all.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Connection>,
    open: usize,
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
            let mut pool = self.store.pool.state.lock().unwrap_or_else(|e| e.into_inner());
            pool.idle.push(conn);
            drop(pool);
            self.store.pool.returned.notify_one();
        }
    }
}

impl Store {
    /// Creates the database and the master key file of a new data directory.
    pub fn create(dir: &DataDir) -> Result<Store> {
        secure_dir(&dir.0)?;
        create_private_db(&dir.db())?;
        let keys = Keyring::create(&dir.master_key())?;
        let store = Store::with(dir, keys);
        {
            let conn = store.conn()?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, '1')", [CURRENT_KEY])?;
            conn.execute("INSERT OR IGNORE INTO master_keys (id) VALUES (1)", [])?;
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
        secure_dir(&dir.0)?;
        for file in std::iter::once(dir.db()).chain(dir.db_companions()) {
            secure_file(&file)?;
        }
        let keys = Keyring::open(&dir.master_key())?;
        let store = Store::with(dir, keys);
        store.conn()?;
        Ok(store)
    }

    fn with(dir: &DataDir, keys: Keyring) -> Store {
        Store { dir: dir.clone(), path: dir.db(), lock_path: dir.key_lock(), pool: Pool::default(), keys }
    }

    /// A connection from the pool, opened (and migrated) when none is idle and fewer than
    /// [`MAX_CONNECTIONS`] exist; otherwise waits for one to be returned (a busy error after
    /// 30 s).
    pub fn conn(&self) -> Result<Conn<'_>> {
        let deadline = Instant::now() + CONNECTION_WAIT;
        let mut pool = self.pool.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(Conn { conn: Some(conn), store: self });
            }
            if pool.open < MAX_CONNECTIONS {
                pool.open += 1;
                drop(pool);
                return match open_connection(&self.path, &self.keys) {
                    Ok(conn) => Ok(Conn { conn: Some(conn), store: self }),
                    Err(e) => {
                        self.pool.state.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
                        self.pool.returned.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some(format!("all {MAX_CONNECTIONS} database connections stayed in use")),
                )));
            }
            pool = self.pool.returned.wait_timeout(pool, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
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

    /// Whether the store can serve: the database answers and the current master key is loaded
    /// (re-reading the key file once, as a rotation by another process adds keys there).
    pub fn readiness(&self) -> Result<()> {
        let conn = self.conn()?;
        let current = current_key(&conn)?;
        drop(conn);
        if self.keys.ids().contains(&current) {
            return Ok(());
        }
        let key_file = self.path.with_file_name("master.key");
        if Keyring::open(&key_file)?.ids().contains(&current) {
            return Ok(());
        }
        Err(StoreError::Crypto(CryptoError::UnknownKey(current)))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for, then takes, the exclusive right to change the master keys.
    fn lock_keys(&self) -> Result<KeyLock> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let failed = |e: std::io::Error| {
            StoreError::invalid("key_lock", format!("cannot lock {}: {e}", self.lock_path.display()))
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.lock_path)
            .map_err(failed)?;
        loop {
            // SAFETY: flock(2) on a descriptor this function owns (it lives in `file`), no pointers.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(KeyLock(file));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(failed(e));
            }
        }
    }
}

/// The error for a file or directory whose mode cannot be checked or narrowed.
fn mode_error(path: &Path, want: u32, e: std::io::Error) -> StoreError {
    StoreError::invalid("file_mode", format!("cannot make {} mode {want:04o}: {e}", path.display()))
}

/// Narrows a directory to [`DIR_MODE`] (the data directory, a backup's directory).
pub(crate) fn secure_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(dir).map_err(|e| mode_error(dir, DIR_MODE, e))?;
    if !meta.is_dir() {
        return Err(StoreError::invalid("file_mode", format!("{} is not a directory", dir.display())));
    }
    if meta.permissions().mode() & 0o7777 != DIR_MODE {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
            .map_err(|e| mode_error(dir, DIR_MODE, e))?;
    }
    Ok(())
}

/// Narrows an existing file to [`DB_MODE`]; a missing one is left missing.
fn secure_file(file: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(mode_error(file, DB_MODE, e)),
    };
    if meta.permissions().mode() & 0o7777 != DB_MODE {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(DB_MODE))
            .map_err(|e| mode_error(file, DB_MODE, e))?;
    }
    Ok(())
}

/// Creates an empty database file, mode [`DB_MODE`] whatever the umask, before SQLite opens it:
/// SQLite gives a new database 0644 less the umask, and its WAL and shared-memory files the
/// database's own mode. Fails if anything is at `path` already.
pub(crate) fn create_private_db(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |e: std::io::Error| StoreError::invalid("file_mode", format!("{}: {e}", path.display()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(DB_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(failed)?;
    // The mode given to open(2) is narrowed by the umask, never widened; set it exactly.
    file.set_permissions(std::fs::Permissions::from_mode(DB_MODE)).map_err(failed)
}

fn open_connection(path: &Path, keys: &Keyring) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(&mut conn, keys)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, keys: &Keyring) -> Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (number, migration) in MIGRATIONS.iter().enumerate().skip(version).map(|(i, m)| (i + 1, m)) {
        let failed = |e: StoreError| StoreError::Migration { number, source: Box::new(e) };
        match migration {
            Migration::Sql(sql) => tx.execute_batch(sql).map_err(|e| failed(e.into()))?,
            Migration::SqlThen(sql, step) => {
                tx.execute_batch(sql).map_err(|e| failed(e.into()))?;
                step(&tx, keys).map_err(failed)?;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_value_that_does_not_open_stops_the_upgrade_and_changes_nothing() {
        let s = TestStore::new();
        s.create_site("s1", None, &[]).unwrap();
        s.put_secret(&Owner::Site("s1".into()), "A", "a", None, None).unwrap();
        // Back to schema 2 with a value the old binding does not open (it is sealed the new way).
        let conn = Connection::open(s.path()).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        let sealed = |c: &Connection| -> Vec<u8> {
            c.query_row("SELECT ciphertext FROM secret_values", [], |r| r.get(0)).unwrap()
        };
        let before = sealed(&conn);
        let err = open_connection(s.path(), &s.keys).expect_err("the upgrade fails");
        let message = err.to_string();
        assert!(
            message.starts_with("upgrading the database to schema 3: cannot decrypt secret 'A' of site 's1'"),
            "{message}"
        );
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!((version, sealed(&conn)), (2, before));
    }

    #[test]
    fn store_conn_pool_bounded_waits_for_a_returned_connection() {
        let store = std::sync::Arc::new(TestStore::new());
        let held: Vec<Conn<'_>> = (0..MAX_CONNECTIONS).map(|_| store.conn().unwrap()).collect();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let conn = store.conn().unwrap();
                tx.send(()).unwrap();
                drop(conn);
            });
            assert!(
                rx.recv_timeout(Duration::from_millis(300)).is_err(),
                "no connection beyond the cap while all are held"
            );
            drop(held);
            rx.recv_timeout(Duration::from_secs(10)).expect("a returned connection is handed on");
        });
        assert!(store.pool.state.lock().unwrap().open <= MAX_CONNECTIONS);
    }
}
