//! Storage: one database holding organizations, sites, users, bindings, the audit trail and
//! secrets — the data directory's SQLite file (WAL; the default) or a PostgreSQL database that
//! replicas share ([`db`], ARCHITECTURE §7). Names, types and scopes are plaintext; every value
//! is sealed by [`crate::crypto`] before it reaches SQL, bound to its owner, name, environment,
//! type and scopes. The master keys never go into the database: they stay in the data
//! directory's key file, whichever the engine.
//!
//! [`model`] holds the types and the rules on ids, environments and scopes; [`accounts`]
//! organizations, sites and users; [`secrets`] secrets, their encryption and key rotation;
//! [`bindings`] runtime identities; [`audit`] the trail; [`backup`] online copies, restoring
//! them, and pruning retired master keys. Migrations are numbered SQL files.
//!
//! Files are private whatever the umask: the data directory is 0700 and the database (hence the
//! WAL and shared-memory files SQLite makes with the database's mode) 0600, set when created and
//! narrowed again whenever a store is opened.

/// Defines a store test once and runs it on each engine, as `NAME::sqlite` and
/// `NAME::postgres` (on a throwaway server, [`crate::test_postgres`]); without a PostgreSQL
/// server installed the second is ignored, with the reason, rather than passed.
#[cfg(test)]
macro_rules! engine_test {
    ($(#[$meta:meta])* fn $name:ident($s:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$meta])*
            fn body($s: $crate::store::TestStore) $body
            #[test]
            fn sqlite() {
                body($crate::store::TestStore::sqlite())
            }
            #[test]
            #[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
            fn postgres() {
                body($crate::store::TestStore::postgres())
            }
        }
    };
}

mod accounts;
mod audit;
pub mod backup;
mod bindings;
pub mod db;
pub mod limits;
pub mod model;
mod secrets;

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use crate::crypto::{CryptoError, Keyring};
use db::{args, Engine, Raw, Sql};

pub use audit::AuditFilter;
pub use db::Database;
pub use model::*;

/// One numbered step of the schema.
enum Migration {
    /// A SQL file.
    Sql(&'static str),
    /// A SQL file, then a step over the data that needs the master keys.
    SqlThen(&'static str, fn(&mut db::Sqlite<'_>, &Keyring) -> Result<()>),
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
    Migration::Sql(include_str!("migrations/0300_rate_buckets.sql")),
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
    /// The SQLite database.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL database.
    #[error("database: {}", db::pg_message(.0))]
    Postgres(#[from] postgres::Error),
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
    /// Whether the database could not be reached (a PostgreSQL server that is down, restarting
    /// or unreachable): a passing condition, answered `503` with `Retry-After`, not a fault.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Postgres(e) => {
                e.is_closed()
                    || e.as_db_error().is_some_and(|db| db.code().code().starts_with("57P"))
                    || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
            }
            StoreError::Migration { source, .. } => source.is_unavailable(),
            _ => false,
        }
    }

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
    /// The database a data directory uses when it is not its SQLite file: the PostgreSQL
    /// connection string `init --database` recorded (0600: it may hold a password).
    pub fn database_record(&self) -> PathBuf {
        self.0.join("database")
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
    engine: Engine,
    pool: Pool,
    keys: Keyring,
}

/// The exclusive right to change the master keys, held until dropped. It belongs to the storage
/// engine: for SQLite a flock(2) on the data directory's `key.lock`, which the kernel releases
/// when the process dies; for PostgreSQL an advisory lock held by a connection of its own, which
/// the server releases when that connection closes, so replicas on other hosts exclude each
/// other too.
#[allow(dead_code)]
enum KeyLock {
    File(std::fs::File),
    Postgres(Box<postgres::Client>),
}

/// At most [`MAX_CONNECTIONS`] connections: the idle ones, and how many exist in all.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Raw>,
    open: usize,
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing a PostgreSQL connection blocks on its own runtime, which may not be done on a
        // thread that runs async tasks (the service drops its store at the end of `serve`).
        let idle = std::mem::take(&mut self.state.get_mut().unwrap_or_else(|e| e.into_inner()).idle);
        if idle.iter().any(|c| matches!(c, Raw::Postgres(_))) {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

/// A pooled connection (of either engine: [`db`]), returned to the pool when dropped, unless it
/// broke (the database server went away): then it is closed and a new one opened on demand.
pub struct Conn<'a> {
    conn: Option<Raw>,
    broken: bool,
    store: &'a Store,
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut pool = self.store.pool.state.lock().unwrap_or_else(|e| e.into_inner());
            if self.broken || conn.is_broken() {
                pool.open -= 1;
            } else {
                pool.idle.push(conn);
            }
            drop(pool);
            self.store.pool.returned.notify_one();
        }
    }
}

impl Store {
    /// Creates the SQLite database and the master key file of a new data directory.
    pub fn create(dir: &DataDir) -> Result<Store> {
        Store::create_in(dir, &Database::Sqlite)
    }

    /// Creates the master key file of a new data directory and the store in `database`: the
    /// data directory's SQLite file, or an empty PostgreSQL database (its schema made by the
    /// migrations; one that already holds a store is refused), which the data directory then
    /// records for every later command.
    pub fn create_in(dir: &DataDir, database: &Database) -> Result<Store> {
        secure_dir(&dir.0)?;
        let engine = match database {
            Database::Sqlite => {
                create_private_db(&dir.db())?;
                Engine::Sqlite(dir.db())
            }
            Database::Postgres(url) => {
                let config = db::pg_config(url)?;
                let mut client = db::pg_connect(&config)?;
                db::pg_migrate(&mut client)?;
                let held = client.query_opt("SELECT value FROM meta WHERE key = $1", &[&CURRENT_KEY])?;
                if held.is_some() {
                    return Err(StoreError::Conflict {
                        code: "database_in_use",
                        message: "the PostgreSQL database already holds a store: give each store its own \
                                  database (replicas share one store by copying its data directory)"
                            .into(),
                    });
                }
                crate::private_file::write(&dir.database_record(), url.as_bytes()).map_err(|e| {
                    StoreError::invalid("file_mode", format!("{}: {e}", dir.database_record().display()))
                })?;
                Engine::Postgres(Box::new(config))
            }
        };
        let keys = Keyring::create(&dir.master_key())?;
        let store = Store::with(dir, engine, keys);
        {
            let mut conn = store.conn()?;
            if let Some(sqlite) = conn.sqlite() {
                sqlite.pragma_update(None, "journal_mode", "WAL")?;
            }
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, '1') ON CONFLICT DO NOTHING",
                args![CURRENT_KEY],
            )?;
            conn.execute("INSERT INTO master_keys (id) VALUES (1) ON CONFLICT DO NOTHING", args![])?;
        }
        Ok(store)
    }

    /// Opens the store of an existing data directory: the database it records (`init
    /// --database`), or its SQLite file.
    pub fn open(dir: &DataDir) -> Result<Store> {
        let database = Database::recorded(dir)?;
        Store::open_in(dir, &database)
    }

    /// Opens the store in `database` with the master keys of the data directory `dir`.
    pub fn open_in(dir: &DataDir, database: &Database) -> Result<Store> {
        let engine = match database {
            Database::Sqlite => {
                if !dir.db().exists() {
                    return Err(StoreError::NotFound {
                        code: "not_initialized",
                        message: format!("no database in {}", dir.0.display()),
                    });
                }
                secure_dir(&dir.0)?;
                for file in std::iter::once(dir.db()).chain(dir.db_companions()) {
                    secure_file(&file)?;
                }
                Engine::Sqlite(dir.db())
            }
            Database::Postgres(url) => {
                secure_dir(&dir.0)?;
                let config = db::pg_config(url)?;
                let mut client = db::pg_connect(&config)?;
                db::pg_migrate(&mut client)?;
                Engine::Postgres(Box::new(config))
            }
        };
        let keys = Keyring::open(&dir.master_key())?;
        let store = Store::with(dir, engine, keys);
        store.conn()?;
        Ok(store)
    }

    fn with(dir: &DataDir, engine: Engine, keys: Keyring) -> Store {
        Store { dir: dir.clone(), engine, pool: Pool::default(), keys }
    }

    /// Which engine the store runs on: `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgres",
        }
    }

    /// A connection from the pool, opened (and migrated) when none is idle and fewer than
    /// [`MAX_CONNECTIONS`] exist; otherwise waits for one to be returned (a busy error after
    /// 30 s).
    pub fn conn(&self) -> Result<Conn<'_>> {
        let deadline = Instant::now() + CONNECTION_WAIT;
        let mut pool = self.pool.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(Conn { conn: Some(conn), broken: false, store: self });
            }
            if pool.open < MAX_CONNECTIONS {
                pool.open += 1;
                drop(pool);
                let opened = match &self.engine {
                    Engine::Sqlite(path) => open_connection(path, &self.keys).map(Raw::Sqlite),
                    Engine::Postgres(config) => db::pg_connect(config).map(Raw::postgres),
                };
                return match opened {
                    Ok(conn) => Ok(Conn { conn: Some(conn), broken: false, store: self }),
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
        generation(&mut self.conn()?)
    }

    /// Whether the store can serve: the database answers and the current master key is loaded
    /// (re-reading the key file once, as a rotation by another process adds keys there).
    pub fn readiness(&self) -> Result<()> {
        let current = current_key(&mut self.conn()?)?;
        if self.keys.ids().contains(&current) {
            return Ok(());
        }
        if Keyring::open(&self.dir.master_key())?.ids().contains(&current) {
            return Ok(());
        }
        Err(StoreError::Crypto(CryptoError::UnknownKey(current)))
    }

    /// The SQLite database file of the data directory.
    pub fn path(&self) -> PathBuf {
        self.dir.db()
    }

    /// Waits for, then takes, the exclusive right to change the master keys.
    fn lock_keys(&self) -> Result<KeyLock> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        if let Engine::Postgres(config) = &self.engine {
            return Ok(KeyLock::Postgres(Box::new(db::pg_key_lock(config)?)));
        }
        let lock_path = self.dir.key_lock();
        let failed = |e: std::io::Error| {
            StoreError::invalid("key_lock", format!("cannot lock {}: {e}", lock_path.display()))
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&lock_path)
            .map_err(failed)?;
        loop {
            // SAFETY: flock(2) on a descriptor this function owns (it lives in `file`), no pointers.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(KeyLock::File(file));
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
    // Every statement of the store is prepared once per connection (db.rs): room for all.
    conn.set_prepared_statement_cache_capacity(128);
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
                step(&mut db::Sqlite(&tx), keys).map_err(failed)?;
            }
        }
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    tx.commit()?;
    Ok(())
}

fn current_key(conn: &mut impl Sql) -> Result<u32> {
    let value: String =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", args![CURRENT_KEY], |r| r.get(0))?;
    value.parse().map_err(|_| StoreError::invalid("corrupt_meta", "meta.current_key is not a number"))
}

fn generation(conn: &mut impl Sql) -> Result<u64> {
    let value: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'generation'", args![], |r| r.get(0))?;
    value.parse().map_err(|_| StoreError::invalid("corrupt_meta", "meta.generation is not a number"))
}

impl Database {
    /// The database a data directory records (`init --database`), or its SQLite file.
    pub fn recorded(dir: &DataDir) -> Result<Database> {
        match std::fs::read_to_string(dir.database_record()) {
            Ok(text) => Database::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Database::Sqlite),
            Err(e) => Err(StoreError::invalid(
                "database_record",
                format!("{}: {e}", dir.database_record().display()),
            )),
        }
    }
}

/// The error for an organization that does not exist.
pub fn org_not_found(org: &str) -> StoreError {
    StoreError::NotFound { code: "org_not_found", message: format!("Organization '{org}' does not exist.") }
}

/// The error for a site that does not exist.
pub fn site_not_found(site: &str) -> StoreError {
    StoreError::NotFound { code: "site_not_found", message: format!("Site '{site}' does not exist.") }
}

/// A store in a fresh temporary directory, removed when dropped (for unit tests), on SQLite or
/// on a new database of the test PostgreSQL server.
#[cfg(test)]
pub(crate) struct TestStore(pub Store, PathBuf, Database);

#[cfg(test)]
impl TestStore {
    /// A SQLite store (the tests of what only SQLite has: its migrations, its backups).
    pub(crate) fn new() -> TestStore {
        TestStore::sqlite()
    }

    pub(crate) fn sqlite() -> TestStore {
        TestStore::on(Database::Sqlite)
    }

    pub(crate) fn postgres() -> TestStore {
        TestStore::on(Database::Postgres(crate::test_postgres::database()))
    }

    fn on(database: Database) -> TestStore {
        let dir = std::env::temp_dir()
            .join(format!("ps-store-{}", crate::crypto::to_hex(&crate::crypto::random_bytes(8))));
        std::fs::create_dir_all(&dir).unwrap();
        TestStore(Store::create_in(&DataDir(dir.clone()), &database).unwrap(), dir, database)
    }

    /// Runs `sql` on a connection of its own, outside the store, as another process would.
    pub(crate) fn execute_elsewhere(&self, sql: &str) {
        match &self.2 {
            Database::Sqlite => {
                Connection::open(self.path()).unwrap().execute_batch(sql).unwrap();
            }
            Database::Postgres(url) => {
                postgres::Client::connect(url, postgres::NoTls).unwrap().batch_execute(sql).unwrap();
            }
        }
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
        let err = open_connection(&s.path(), &s.keys).expect_err("the upgrade fails");
        let message = err.to_string();
        assert!(
            message.starts_with("upgrading the database to schema 3: cannot decrypt secret 'A' of site 's1'"),
            "{message}"
        );
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!((version, sealed(&conn)), (2, before));
    }

    engine_test! {
    fn store_conn_pool_bounded_waits_for_a_returned_connection(store) {
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

    engine_test! {
    fn store_create_then_open_same_data_dir_reads_it(s) {
        s.create_site("s1", None, &[]).unwrap();
        s.put_secret(&Owner::Site("s1".into()), "A", "a", None, None).unwrap();
        let opened = Store::open(&s.dir).unwrap();
        assert_eq!(opened.engine(), s.2.engine(), "the data directory records its database");
        let got = opened.owner_secrets(&Owner::Site("s1".into()), View::Shown).unwrap();
        assert_eq!(got[0].value.as_deref().map(String::as_str), Some("a"));
    }
    }

    #[test]
    #[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
    fn store_create_in_postgres_database_holding_a_store_refused() {
        let first = TestStore::postgres();
        let dir = std::env::temp_dir()
            .join(format!("ps-store-{}", crate::crypto::to_hex(&crate::crypto::random_bytes(8))));
        std::fs::create_dir_all(&dir).unwrap();
        let err = Store::create_in(&DataDir(dir.clone()), &first.2).err().expect("refused");
        assert!(matches!(err, StoreError::Conflict { code: "database_in_use", .. }), "{err}");
        assert!(!DataDir(dir.clone()).master_key().exists(), "no key file for a refused store");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn database_parse_sqlite_or_postgres_never_shows_a_password() {
        assert!(matches!(Database::parse("sqlite"), Ok(Database::Sqlite)));
        let pg = Database::parse("postgres://app:hunter2@db.internal/secrets").unwrap();
        assert_eq!(pg.engine(), "postgres");
        assert!(!format!("{pg:?}").contains("hunter2"));
        assert!(Database::parse("host=/run/postgresql dbname=secrets").is_ok());
        let err = Database::parse("mysql://x").unwrap_err();
        assert!(err.to_string().contains("PostgreSQL connection string"), "{err}");
    }
}
