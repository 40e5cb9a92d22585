//! Keeping data restorable: consistent online copies of the database with the keys they need,
//! restoring one into a new data directory, and pruning retired master keys only when neither a
//! stored value nor a recorded backup needs them.
//!
//! A copy is made with SQLite's online backup API in one step: one read transaction over the
//! whole database, which in WAL mode never blocks `serve`'s writers and sees every committed
//! change, including those still in the WAL (a `cp` of `secrets.db` misses those). The key
//! lock that `key:rotate` and `key:prune` take is held from the copy until the backup is
//! recorded, so no key the copy needs can be pruned in between.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

use super::db::{args, Sql, NOW};
use super::secrets::{decrypted, sealed_rows};
use super::{create_private_db, current_key, secure_dir, DataDir, Result, Store, StoreError, DIR_MODE};
use crate::crypto::Keyring;

/// How long a copy retries while the source is busy or locked (a migration, a checkpoint).
const COPY_WAIT: Duration = Duration::from_secs(30);

/// The files of a data directory besides the database and the key file that a backup carries:
/// the CA (bindings are issued under it and workers trust it) and the server's certificate.
const CARRIED: &[(&str, u32)] =
    &[("ca.pem", 0o644), ("ca.key", 0o600), ("server.pem", 0o644), ("server.key", 0o600)];

/// The manifest a backup directory holds beside the copy (for people; `restore` does not need it).
pub const MANIFEST: &str = "backup.json";

/// A recorded backup: when, where, and which master keys its copy needs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupRecord {
    /// The record's id (what `backup:forget` takes).
    pub id: i64,
    /// When it was taken (UTC, RFC 3339).
    pub at: String,
    /// The backup directory, as an absolute path when it was taken.
    pub path: String,
    /// The ids of the master keys its values are sealed with (and the key current then).
    pub key_ids: Vec<u32>,
    /// How many values the copy holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<usize>,
}

/// What `key:prune --before` goes by: keys with a lower id, or keys retired before a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneBefore {
    /// Every retired key whose id is below this one.
    Key(u32),
    /// Every key a newer one replaced before this time.
    Time(OffsetDateTime),
}

/// Parses `key:prune --before`: a key id (digits) or an RFC 3339 time.
pub fn parse_prune_before(text: &str) -> std::result::Result<PruneBefore, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map(PruneBefore::Key).map_err(|_| format!("key id '{text}' is too large"));
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(PruneBefore::Time)
        .map_err(|_| {
            format!("expected a key id or an RFC 3339 time such as 2026-01-31T00:00:00Z, got '{text}'")
        })
}

/// What a restore brought back.
pub struct Restored {
    /// The restored service's store.
    pub store: Store,
    /// How many values were opened to check them: all of them.
    pub values: usize,
    /// The key ids those values need.
    pub key_ids: Vec<u32>,
}

impl std::fmt::Debug for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Restored").field("values", &self.values).field("key_ids", &self.key_ids).finish()
    }
}

fn io_error(what: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::invalid("backup_io", format!("{}: {e}", what.display()))
}

fn join_ids(ids: &BTreeSet<u32>) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn split_ids(text: &str) -> Vec<u32> {
    text.split(',').filter_map(|id| id.trim().parse().ok()).collect()
}

/// Makes `dir` a new, private (0700), empty directory: creates it (and its parents) when
/// missing; an existing one must be empty. Returns whether it was created.
fn prepare_empty_dir(dir: &Path, what: &str) -> Result<bool> {
    use std::os::unix::fs::DirBuilderExt;
    let created = match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(StoreError::Conflict {
                    code: "not_empty",
                    message: format!("{what} {} is not empty: give a new or empty directory", dir.display()),
                });
            }
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)
                .map_err(|e| io_error(dir, e))?;
            true
        }
        Err(e) => return Err(io_error(dir, e)),
    };
    secure_dir(dir)?;
    Ok(created)
}

/// Copies the whole of `src` into the empty database `dst` in one step of the online backup
/// API: one read transaction, so the copy is one consistent state of the source.
fn copy_database(src: &Connection, dst: &mut Connection) -> Result<()> {
    let deadline = Instant::now() + COPY_WAIT;
    let backup = Backup::new(src, dst)?;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            _ => {
                return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some(format!("the database stayed busy for {} s", COPY_WAIT.as_secs())),
                )))
            }
        }
    }
}

/// The master keys the values of a database need, and the key it names as current.
fn needed_keys(conn: &mut impl Sql) -> Result<BTreeSet<u32>> {
    let mut ids: BTreeSet<u32> =
        conn.query("SELECT DISTINCT key_id FROM secret_values", args![], |r| r.get(0))?.into_iter().collect();
    ids.insert(current_key(conn)?);
    Ok(ids)
}

/// Copies the carried files (CA, server certificate) that exist from one directory to another:
/// into a backup all 0600, into a data directory with the modes `init` gives them.
fn copy_carried(from: &Path, to: &Path, into_backup: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (name, mode) in CARRIED {
        let source = from.join(name);
        let bytes = match std::fs::read(&source) {
            Ok(bytes) => zeroize::Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(&source, e)),
        };
        let target = to.join(name);
        crate::private_file::write(&target, &bytes).map_err(|e| io_error(&target, e))?;
        if !into_backup {
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(*mode))
                .map_err(|e| io_error(&target, e))?;
        }
    }
    Ok(())
}

impl Store {
    /// Writes a consistent copy of the database into `out` (a new or empty directory, made
    /// 0700), with the master keys its values need (`master.key`, 0600), the CA and server
    /// certificate, and a manifest; then records the backup. Safe while `serve` writes: it
    /// neither stops nor blocks writers. Waits for a running `key:rotate` or `key:prune`.
    pub fn backup(&self, out: &Path) -> Result<BackupRecord> {
        if self.engine() != "sqlite" {
            return Err(StoreError::invalid(
                "backup_engine",
                "backup copies the SQLite store; a PostgreSQL store is copied with the database's own \
                 tools (pg_dump: its values stay sealed), with the data directory's master.key kept beside it",
            ));
        }
        let created = prepare_empty_dir(out, "backup directory")?;
        let made = self.backup_into(out);
        if made.is_err() {
            remove_contents(out, created);
        }
        made
    }

    fn backup_into(&self, out: &Path) -> Result<BackupRecord> {
        let out = std::fs::canonicalize(out).map_err(|e| io_error(out, e))?;
        let copy = DataDir(out.clone());
        let _lock = self.lock_keys()?;
        create_private_db(&copy.db())?;
        let (key_ids, values) = {
            let mut src = self.conn()?;
            let Some(src) = src.sqlite() else {
                return Err(StoreError::invalid("backup_engine", "backup copies the SQLite store"));
            };
            let mut dst = Connection::open(copy.db())?;
            copy_database(src, &mut dst)?;
            // One self-contained file: no WAL beside the copy.
            dst.pragma_update(None, "journal_mode", "DELETE")?;
            let check: String = dst.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
            if check != "ok" {
                return Err(StoreError::invalid(
                    "backup_corrupt",
                    format!("the copy fails its check: {check}"),
                ));
            }
            let values: usize = dst.query_row("SELECT COUNT(*) FROM secret_values", [], |r| r.get(0))?;
            (needed_keys(&mut super::db::Sqlite(&dst))?, values)
        };
        self.keys.write_copy(&copy.master_key(), Some(&key_ids))?;
        copy_carried(&self.dir.0, &out, true)?;
        // Recorded only once the manifest is written: a backup that failed (and was removed)
        // leaves no record that would hold its keys.
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let (id, at): (i64, String) = tx.query_row(
            "INSERT INTO backups (path, key_ids) VALUES (?1, ?2) RETURNING id, at",
            args![out.display().to_string(), join_ids(&key_ids)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let record = BackupRecord {
            id,
            at,
            path: out.display().to_string(),
            key_ids: key_ids.into_iter().collect(),
            values: Some(values),
        };
        let manifest = serde_json::to_vec_pretty(&record).unwrap_or_default();
        let path = out.join(MANIFEST);
        crate::private_file::write(&path, &manifest).map_err(|e| io_error(&path, e))?;
        tx.commit()?;
        Ok(record)
    }

    /// The recorded backups, oldest first.
    pub fn backups(&self) -> Result<Vec<BackupRecord>> {
        self.conn()?.query("SELECT id, at, path, key_ids FROM backups ORDER BY id", args![], |r| {
            Ok(BackupRecord {
                id: r.get(0)?,
                at: r.get(1)?,
                path: r.get(2)?,
                key_ids: split_ids(&r.get::<String>(3)?),
                values: None,
            })
        })
    }

    /// Removes a backup's record (once the backup itself is destroyed), so the keys it needed
    /// may be pruned. Returns the record.
    pub fn forget_backup(&self, id: i64) -> Result<BackupRecord> {
        let _lock = self.lock_keys()?;
        let record =
            self.backups()?.into_iter().find(|b| b.id == id).ok_or_else(|| StoreError::NotFound {
                code: "backup_record_not_found",
                message: format!("no recorded backup has id {id}"),
            })?;
        self.conn()?.execute("DELETE FROM backups WHERE id = ?1", args![id])?;
        Ok(record)
    }

    /// Opens every stored value (without keeping any) and returns how many there are: the first
    /// that does not open is the error, naming its row.
    pub fn verify_values(&self) -> Result<usize> {
        let rows = sealed_rows(&mut self.conn()?, "", args![])?;
        for row in &rows {
            decrypted(row.binding(), self.keys.open_sealed(&row.sealed, row.binding()))?;
        }
        Ok(rows.len())
    }

    /// Removes from the key file the retired master keys `before` selects, and returns their
    /// ids (none: nothing to prune). The current key is never removed. Refused, changing
    /// nothing, while a stored value is sealed with one of them (`key:rotate` first) or a
    /// recorded backup needs one (`backup:forget` once that backup is destroyed). Exclusive
    /// with `key:rotate` and `backup`.
    pub fn prune_keys(&self, before: PruneBefore) -> Result<Vec<u32>> {
        let _lock = self.lock_keys()?;
        let mut conn = self.conn()?;
        let current = current_key(&mut conn)?;
        let mut prune = BTreeSet::new();
        for id in self.keys.file_ids()? {
            if id == current {
                continue;
            }
            let selected = match before {
                PruneBefore::Key(below) => id < below,
                PruneBefore::Time(t) => {
                    // Retired before `t`; a key with no record of retiring is pruned by id only.
                    let retired: Option<String> = conn.query_opt(
                        "SELECT retired_at FROM master_keys WHERE id = ?1 AND retired_at IS NOT NULL",
                        args![i64::from(id)],
                        |r| r.get(0),
                    )?;
                    let retired = retired.and_then(|at| {
                        OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339).ok()
                    });
                    retired.is_some_and(|at| at < t)
                }
            };
            if selected {
                prune.insert(id);
            }
        }
        if prune.is_empty() {
            return Ok(Vec::new());
        }
        for &id in &prune {
            let sealing: usize = conn.query_row(
                "SELECT COUNT(*) FROM secret_values WHERE key_id = ?1",
                args![i64::from(id)],
                |r| r.get(0),
            )?;
            if sealing > 0 {
                return Err(StoreError::Conflict {
                    code: "key_in_use",
                    message: format!("master key {id} still seals {sealing} value(s); nothing pruned"),
                });
            }
        }
        drop(conn);
        for backup in self.backups()? {
            if let Some(id) = backup.key_ids.iter().find(|id| prune.contains(id)) {
                return Err(StoreError::Conflict {
                    code: "key_needed_by_backup",
                    message: format!(
                        "master key {id} is needed by backup {} ({}, {}); nothing pruned",
                        backup.id, backup.at, backup.path
                    ),
                });
            }
        }
        self.keys.remove(&prune)?;
        let mut conn = self.conn()?;
        for &id in &prune {
            conn.execute(
                &format!(
                    "INSERT INTO master_keys (id, retired_at) VALUES (?1, {NOW}) ON CONFLICT(id) DO NOTHING"
                ),
                args![i64::from(id)],
            )?;
            conn.execute(
                &format!("UPDATE master_keys SET pruned_at = {NOW} WHERE id = ?1"),
                args![i64::from(id)],
            )?;
        }
        Ok(prune.into_iter().collect())
    }
}

/// Restores the backup in `from` into the new data directory `to` (created 0700, or an empty
/// one): the database through the online backup API (WAL mode again, 0600), the key file (the
/// backup's own, or `key_file`: a data directory's current one, which keeps retired keys),
/// the CA and the server certificate. Then every value is opened: a key file that lacks a key
/// they need fails the restore, which then leaves `to` as it found it.
pub fn restore(from: &Path, to: &DataDir, key_file: Option<&Path>) -> Result<Restored> {
    let source = DataDir(from.to_path_buf());
    if !source.db().is_file() {
        return Err(StoreError::NotFound {
            code: "backup_not_found",
            message: format!("{} holds no backup (no secrets.db)", from.display()),
        });
    }
    let keys_from: PathBuf = key_file.map_or_else(|| source.master_key(), Path::to_path_buf);
    let keys = Keyring::open(&keys_from)?;
    let created = prepare_empty_dir(&to.0, "data directory")?;
    let restored = restore_into(&source, to, &keys);
    if restored.is_err() {
        remove_contents(&to.0, created);
    }
    restored
}

fn restore_into(source: &DataDir, to: &DataDir, keys: &Keyring) -> Result<Restored> {
    let needed = {
        let src = Connection::open_with_flags(
            source.db(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let needed = needed_keys(&mut super::db::Sqlite(&src))?;
        let missing: BTreeSet<u32> = needed.difference(&keys.file_ids()?).copied().collect();
        if !missing.is_empty() {
            return Err(StoreError::invalid(
                "key_missing",
                format!(
                    "the key file lacks master key(s) {} that the backup's values need: use the \
                     backup's own master.key, or a key file that still holds them (retired keys stay \
                     until `key:prune`)",
                    join_ids(&missing)
                ),
            ));
        }
        create_private_db(&to.db())?;
        let mut dst = Connection::open(to.db())?;
        copy_database(&src, &mut dst)?;
        dst.pragma_update(None, "journal_mode", "WAL")?;
        needed
    };
    keys.write_copy(&to.master_key(), None)?;
    copy_carried(&source.0, &to.0, false)?;
    let store = Store::open(to)?;
    let values = store.verify_values()?;
    Ok(Restored { store, values, key_ids: needed.into_iter().collect() })
}

/// Undoes a failed backup or restore: removes what it put into `dir`, and `dir` itself when it
/// made it. Best effort: the error that caused it is the one reported.
fn remove_contents(dir: &Path, created: bool) {
    if created {
        let _ = std::fs::remove_dir_all(dir);
    } else if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Owner, TestStore, View};

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("ps-{name}-{}", crate::crypto::to_hex(&crate::crypto::random_bytes(8))))
    }

    #[test]
    fn parse_prune_before_key_id_or_rfc3339() {
        assert_eq!(parse_prune_before("3"), Ok(PruneBefore::Key(3)));
        let t = parse_prune_before("2026-01-31T10:00:00+02:00").unwrap();
        assert_eq!(t, parse_prune_before("2026-01-31T08:00:00Z").unwrap());
        assert_eq!(t, PruneBefore::Time(OffsetDateTime::from_unix_timestamp(1_769_846_400).unwrap()));
        for bad in ["", "yesterday", "2026-01-31", "-1", "99999999999"] {
            assert!(parse_prune_before(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prune_keys_refused_while_a_backup_needs_them_then_allowed() {
        let s = TestStore::new();
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        s.put_secret(&owner, "A", "a", None, None).unwrap();
        let out = temp("backup");
        let record = s.backup(&out).unwrap();
        assert_eq!((record.key_ids.clone(), record.values), (vec![1], Some(1)));
        assert_eq!(s.rotate_key().unwrap(), (2, 1));
        assert_eq!(s.keys.file_ids().unwrap(), BTreeSet::from([1, 2]), "the retired key stays");
        let err = s.prune_keys(PruneBefore::Key(2)).unwrap_err();
        assert!(err.to_string().starts_with("master key 1 is needed by backup 1 ("), "{err}");
        assert_eq!(s.keys.file_ids().unwrap(), BTreeSet::from([1, 2]), "nothing pruned");
        s.forget_backup(record.id).unwrap();
        let before_epoch = parse_prune_before("1970-01-02T00:00:00Z").unwrap();
        assert_eq!(s.prune_keys(before_epoch).unwrap(), Vec::<u32>::new(), "retired after that time");
        let now = PruneBefore::Time(OffsetDateTime::now_utc() + time::Duration::seconds(1));
        assert_eq!(s.prune_keys(now).unwrap(), vec![1]);
        assert_eq!(s.keys.file_ids().unwrap(), BTreeSet::from([2]));
        assert_eq!(s.prune_keys(PruneBefore::Key(99)).unwrap(), Vec::<u32>::new(), "never the current key");
        let got = s.owner_secrets(&owner, View::Shown).unwrap();
        assert_eq!(got[0].value.as_deref().map(String::as_str), Some("a"));
        let _ = std::fs::remove_dir_all(out);
    }

    engine_test! {
    fn prune_keys_refused_while_a_value_is_sealed_with_them(s) {
        s.create_site("s1", None, &[]).unwrap();
        s.put_secret(&Owner::Site("s1".into()), "A", "a", None, None).unwrap();
        s.rotate_key().unwrap();
        s.conn().unwrap().execute("UPDATE secret_values SET key_id = 1", args![]).unwrap();
        let err = s.prune_keys(PruneBefore::Key(2)).unwrap_err();
        assert!(err.to_string().starts_with("master key 1 still seals 1 value(s)"), "{err}");
        assert_eq!(s.keys.file_ids().unwrap(), BTreeSet::from([1, 2]));
    }
    }

    #[test]
    fn restore_key_file_without_a_needed_key_fails_and_leaves_nothing() {
        let s = TestStore::new();
        s.create_site("s1", None, &[]).unwrap();
        s.put_secret(&Owner::Site("s1".into()), "A", "a", None, None).unwrap();
        let out = temp("backup");
        s.backup(&out).unwrap();
        // A key file that has only a newer key: what `key:prune` would leave without its checks.
        let other = temp("keys");
        std::fs::create_dir_all(&other).unwrap();
        let lone = Keyring::create(&other.join("master.key")).unwrap();
        lone.add_key(5).unwrap();
        lone.remove(&BTreeSet::from([1])).unwrap();
        let to = DataDir(temp("restored"));
        let err = restore(&out, &to, Some(&other.join("master.key"))).unwrap_err();
        assert!(err.to_string().starts_with("the key file lacks master key(s) 1 "), "{err}");
        assert!(!to.0.exists(), "the directory it made is removed");
        let restored = restore(&out, &to, None).unwrap();
        assert_eq!(restored.values, 1);
        let err = restore(&out, &to, None).unwrap_err();
        assert!(err.to_string().contains("is not empty"), "{err}");
        for dir in [out, other, to.0] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
