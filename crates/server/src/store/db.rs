//! The storage engines behind one boundary (ARCHITECTURE §7): the embedded SQLite file of a
//! data directory (the default) or a PostgreSQL database that several replicas share.
//!
//! The store's SQL is written once, in the subset of SQL both engines share; the engine
//! translates the two things that differ: placeholders (`?1` in SQLite, `$1` in PostgreSQL) and
//! the current time as text ([`NOW`]). Everything that differs more (time arithmetic, sums of
//! conditions) is done in Rust. Parameters and columns go through [`Param`] and [`Column`],
//! implemented only for the types both drivers map the same way (`i64`, not `u32`, which the
//! PostgreSQL driver takes for an OID).
//!
//! Connections come from one bounded pool per store, whichever the engine. A write transaction
//! ([`Conn::begin`]) excludes every other writer: SQLite's `BEGIN IMMEDIATE`, and in PostgreSQL
//! a transaction-scoped advisory lock, so the read-then-write steps of the store are as safe
//! across replicas as they are across the processes sharing one SQLite file.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::{Result, StoreError};

/// The current UTC time as the store writes it (`2026-01-31T08:00:00.000Z`), in SQLite's words;
/// the PostgreSQL engine replaces it with [`PG_NOW`].
pub const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// [`NOW`] in PostgreSQL's words.
const PG_NOW: &str = r#"to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#;

/// The advisory lock every PostgreSQL write transaction takes (for that transaction).
const PG_WRITER_LOCK: i64 = 0x7073_0001;
/// The advisory lock `key:rotate`, `key:prune` and `backup:forget` hold (for a session).
const PG_KEY_LOCK: i64 = 0x7073_0002;

/// How long a new PostgreSQL connection may take before the attempt fails.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a store keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// The SQLite file `secrets.db` of the data directory.
    Sqlite,
    /// A PostgreSQL database, by connection string (`postgres://user:password@host/db` or
    /// `host=… dbname=…`). The master key stays in the data directory's key file.
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite => f.write_str("Sqlite"),
            // A connection string may hold a password.
            Database::Postgres(_) => f.write_str("Postgres([REDACTED])"),
        }
    }
}

impl Database {
    /// Reads `--database`: `sqlite` (the data directory's file), or a PostgreSQL connection
    /// string (`postgres://…`, `postgresql://…`, or key=value pairs with `host=`).
    pub fn parse(text: &str) -> Result<Database> {
        let text = text.trim();
        if text == "sqlite" {
            return Ok(Database::Sqlite);
        }
        let postgres = text.starts_with("postgres://")
            || text.starts_with("postgresql://")
            || text.split_whitespace().any(|pair| pair.starts_with("host=") || pair.starts_with("dbname="));
        if !postgres {
            return Err(StoreError::invalid(
                "invalid_database",
                "a database is `sqlite` or a PostgreSQL connection string (postgres://USER@HOST/DB)",
            ));
        }
        pg_config(text)?;
        Ok(Database::Postgres(text.to_string()))
    }

    /// `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

/// The connection settings of a PostgreSQL connection string, with a connect timeout.
pub(super) fn pg_config(url: &str) -> Result<postgres::Config> {
    let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
        // The driver's message names the bad part, never the password.
        StoreError::invalid("invalid_database", format!("the PostgreSQL connection string: {e}"))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(PG_CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("pantheon-secrets");
    }
    Ok(config)
}

/// How a store reaches its database.
pub(super) enum Engine {
    /// The SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres(Box<postgres::Config>),
}

/// One open connection of either engine.
pub(super) enum Raw {
    /// SQLite.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL, with the statements it prepared (by their translated SQL).
    Postgres(Box<PgConn>),
}

/// A PostgreSQL connection and its prepared statements.
pub(super) struct PgConn {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

/// A PostgreSQL error with its cause (the driver's own text says only "db error" or "error
/// connecting to server"). The server's messages name rows by key, never a value: values reach
/// it sealed.
pub fn pg_message(e: &postgres::Error) -> String {
    match (e.as_db_error(), std::error::Error::source(e)) {
        (Some(db), _) => format!("{e}: {} ({})", db.message(), db.code().code()),
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}

/// Opens a PostgreSQL connection.
pub(super) fn pg_connect(config: &postgres::Config) -> Result<postgres::Client> {
    Ok(config.connect(postgres::NoTls)?)
}

/// What runs the store's SQL: a pooled [`super::Conn`] (or its [`Tx`]), either engine's raw
/// connection, or a bare SQLite connection (the SQLite migrations).
pub trait Sql {
    /// Runs one statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize>;

    /// Runs a query and maps each row with `f`.
    fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>>;

    /// The first row of a query, if any.
    fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        Ok(self.query(sql, params, f)?.into_iter().next())
    }

    /// The first row of a query, which must have one.
    fn query_row<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?.ok_or_else(|| StoreError::invalid("no_row", "a query found no row"))
    }
}

/// A SQLite connection as a [`Sql`].
pub struct Sqlite<'c>(pub &'c rusqlite::Connection);

impl Sql for Sqlite<'_> {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter().map(|p| p.sqlite())))?)
    }

    fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut stmt = self.0.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(|p| p.sqlite())))?;
        while let Some(row) = rows.next()? {
            out.push(f(&Row::Sqlite(row))?);
        }
        Ok(out)
    }
}

impl Sql for PgConn {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let args: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.postgres()).collect();
        Ok(self.client.execute(&stmt, &args)? as usize)
    }

    fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let stmt = self.statement(sql)?;
        let args: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.postgres()).collect();
        self.client.query(&stmt, &args)?.iter().map(|row| f(&Row::Postgres(row))).collect()
    }
}

impl Sql for Raw {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        match self {
            Raw::Sqlite(conn) => Sqlite(conn).execute(sql, params),
            Raw::Postgres(pg) => pg.execute(sql, params),
        }
    }

    fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            Raw::Sqlite(conn) => Sqlite(conn).query(sql, params, f),
            Raw::Postgres(pg) => pg.query(sql, params, f),
        }
    }
}

impl Raw {
    pub(super) fn postgres(client: postgres::Client) -> Raw {
        Raw::Postgres(Box::new(PgConn { client, statements: HashMap::new() }))
    }

    /// Whether the connection can no longer be used (the server went away).
    pub(super) fn is_broken(&self) -> bool {
        match self {
            Raw::Sqlite(_) => false,
            Raw::Postgres(pg) => pg.client.is_closed(),
        }
    }

    /// Runs statements without parameters or results.
    fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Raw::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Raw::Postgres(pg) => Ok(pg.client.batch_execute(&translate(sql))?),
        }
    }
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        let sql = translate(sql);
        if let Some(stmt) = self.statements.get(&sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(&sql)?;
        self.statements.insert(sql, stmt.clone());
        Ok(stmt)
    }
}

/// The store's SQL in PostgreSQL's words: `?N` → `$N`, [`NOW`] → [`PG_NOW`].
fn translate(sql: &str) -> String {
    sql.replace(NOW, PG_NOW).replace('?', "$")
}

/// One row of a result, of either engine.
pub enum Row<'r> {
    /// SQLite.
    Sqlite(&'r rusqlite::Row<'r>),
    /// PostgreSQL.
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as a `T`.
    pub fn get<T: Column>(&self, i: usize) -> Result<T> {
        match self {
            Row::Sqlite(row) => T::sqlite(row, i),
            Row::Postgres(row) => T::postgres(row, i),
        }
    }
}

/// A value both engines read the same way from a column.
pub trait Column: Sized {
    /// From a SQLite row.
    fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> Result<Self>;
    /// From a PostgreSQL row.
    fn postgres(row: &postgres::Row, i: usize) -> Result<Self>;
}

macro_rules! column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> Result<Self> {
                Ok(row.get(i)?)
            }
            fn postgres(row: &postgres::Row, i: usize) -> Result<Self> {
                Ok(row.try_get(i)?)
            }
        }
    )*};
}

column!(String, Option<String>, i64, Option<i64>, f64, bool, Vec<u8>);

/// Integers other than `i64` are stored as `BIGINT` and checked on the way out.
macro_rules! column_from_i64 {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> Result<Self> {
                Ok(row.get(i)?)
            }
            fn postgres(row: &postgres::Row, i: usize) -> Result<Self> {
                let wide: i64 = row.try_get(i)?;
                <$t>::try_from(wide).map_err(|_| out_of_range(i))
            }
        }
        impl Column for Option<$t> {
            fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> Result<Self> {
                Ok(row.get(i)?)
            }
            fn postgres(row: &postgres::Row, i: usize) -> Result<Self> {
                let wide: Option<i64> = row.try_get(i)?;
                wide.map(<$t>::try_from).transpose().map_err(|_| out_of_range(i))
            }
        }
    )*};
}

column_from_i64!(u32, usize);

fn out_of_range(i: usize) -> StoreError {
    StoreError::invalid("corrupt_row", format!("column {i} of a stored row is out of range"))
}

/// A value both engines bind the same way as a parameter.
pub trait Param {
    /// For SQLite.
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
    /// For PostgreSQL.
    fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync);
}

macro_rules! param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn sqlite(&self) -> &dyn rusqlite::ToSql {
                self
            }
            fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync) {
                self
            }
        }
    )*};
}

param!(&str, String, Option<&str>, Option<String>, bool, i64, Option<i64>, f64, &[u8], Vec<u8>);

/// The parameters of one statement: `args![a, b]`.
macro_rules! args {
    ($($x:expr),* $(,)?) => {
        &[$(&$x as &dyn $crate::store::db::Param),*] as &[&dyn $crate::store::db::Param]
    };
}
pub(crate) use args;

impl Sql for super::Conn<'_> {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        self.fail_on_error(|raw| raw.execute(sql, params))
    }

    fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.fail_on_error(|raw| raw.query(sql, params, f))
    }
}

impl<'a> super::Conn<'a> {
    fn raw(&mut self) -> &mut Raw {
        self.conn.as_mut().expect("a pooled connection is present until drop")
    }

    /// Runs statements without parameters or results.
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.fail_on_error(|raw| raw.batch(sql))
    }

    /// Begins a write transaction, excluding every other writer until it ends (see the module
    /// documentation). Dropped without [`Tx::commit`], it rolls back.
    pub fn begin(&mut self) -> Result<Tx<'_, 'a>> {
        if self.is_postgres() {
            self.batch("BEGIN")?;
            if let Err(e) = self.execute("SELECT pg_advisory_xact_lock(?1)::text", args![PG_WRITER_LOCK]) {
                let _ = self.batch("ROLLBACK");
                return Err(e);
            }
        } else {
            self.batch("BEGIN IMMEDIATE")?;
        }
        Ok(Tx { conn: self, done: false })
    }

    /// The SQLite connection, for SQLite's own steps (WAL, online backups); `None` on PostgreSQL.
    pub(super) fn sqlite(&mut self) -> Option<&mut rusqlite::Connection> {
        match self.raw() {
            Raw::Sqlite(conn) => Some(conn),
            Raw::Postgres(_) => None,
        }
    }

    /// Whether this is a PostgreSQL connection.
    pub(super) fn is_postgres(&mut self) -> bool {
        matches!(self.raw(), Raw::Postgres(_))
    }

    /// Runs `f`; a connection that failed at the connection level is not returned to the pool.
    fn fail_on_error<T>(&mut self, f: impl FnOnce(&mut Raw) -> Result<T>) -> Result<T> {
        let raw = self.raw();
        let result = f(raw);
        if result.is_err() && raw.is_broken() {
            self.broken = true;
        }
        result
    }
}

/// A write transaction on a pooled connection; rolled back unless committed.
pub struct Tx<'c, 'a> {
    conn: &'c mut super::Conn<'a>,
    done: bool,
}

impl Tx<'_, '_> {
    /// Makes the transaction's changes durable and visible.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.batch("COMMIT")
    }
}

impl Sql for Tx<'_, '_> {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        self.conn.execute(sql, params)
    }

    fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.conn.query(sql, params, f)
    }
}

impl<'a> std::ops::Deref for Tx<'_, 'a> {
    type Target = super::Conn<'a>;
    fn deref(&self) -> &super::Conn<'a> {
        self.conn
    }
}

impl<'a> std::ops::DerefMut for Tx<'_, 'a> {
    fn deref_mut(&mut self) -> &mut super::Conn<'a> {
        self.conn
    }
}

impl Drop for Tx<'_, '_> {
    fn drop(&mut self) {
        if !self.done && self.conn.batch("ROLLBACK").is_err() {
            // A connection whose transaction state is unknown is not handed out again.
            self.conn.broken = true;
        }
    }
}

/// The exclusive right to change the master keys on a PostgreSQL store: a session advisory lock
/// on a connection of its own, released when the connection closes (also when the process dies).
pub(super) fn pg_key_lock(config: &postgres::Config) -> Result<postgres::Client> {
    let mut client = pg_connect(config)?;
    client.execute("SELECT pg_advisory_lock($1)::text", &[&PG_KEY_LOCK])?;
    Ok(client)
}

/// The PostgreSQL schema, one numbered migration per file; `schema_migrations` records those
/// that ran. PostgreSQL support began at the schema SQLite reaches with its 0200, so its
/// first file is that schema.
const PG_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/postgres/0001_schema.sql")),
    (2, include_str!("migrations/postgres/0002_rate_buckets.sql")),
];

/// The advisory lock migrations run under, so replicas starting together upgrade once.
const PG_MIGRATE_LOCK: i64 = 0x7073_0003;

/// Brings a PostgreSQL database up to the current schema, all pending migrations in one
/// transaction (PostgreSQL's DDL is transactional: a failure leaves the database as it was).
pub(super) fn pg_migrate(client: &mut postgres::Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)::text", &[&PG_MIGRATE_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
    )?;
    let done: Option<i64> = tx.query_one("SELECT MAX(version) FROM schema_migrations", &[])?.get(0);
    for (number, sql) in PG_MIGRATIONS.iter().filter(|(n, _)| *n > done.unwrap_or(0)) {
        let failed = |e: postgres::Error| StoreError::Migration {
            number: *number as usize,
            source: Box::new(e.into()),
        };
        tx.batch_execute(sql).map_err(failed)?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[number]).map_err(failed)?;
    }
    tx.commit()?;
    Ok(())
}
