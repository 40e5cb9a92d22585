//! The operator commands that keep data restorable: `backup`, `restore`, `backup:list`,
//! `backup:forget` and `key:prune`. The work is in [`crate::store::backup`]; this is what they
//! print and audit (actor `operator`, as every operator command).

use std::path::Path;

use super::error::CliError;
use super::ops::operator_audit;
use super::render;
use crate::store::backup::{self, PruneBefore};
use crate::store::{DataDir, Store};

fn audit(store: &Store, action: &str, detail: String) {
    operator_audit(store, action, None, None, Some(detail));
}

fn ids(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// `backup --out DIR`: prints the backup's id.
pub fn backup(dir: &DataDir, out: &Path) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let record = store.backup(out)?;
    let values = record.values.unwrap_or(0);
    audit(
        &store,
        "backup",
        format!("backup {} to {}, {values} values, keys {}", record.id, record.path, ids(&record.key_ids)),
    );
    eprintln!(
        "[success] Backup {} written to {}: {values} values, master key(s) {} (in its master.key).",
        record.id,
        record.path,
        ids(&record.key_ids)
    );
    println!("{}", record.id);
    Ok(())
}

/// `restore --from DIR --data-dir NEW [--key-file FILE]`.
pub fn restore(from: &Path, to: &DataDir, key_file: Option<&Path>) -> Result<(), CliError> {
    let restored = backup::restore(from, to, key_file)?;
    let keys = key_file.map_or_else(|| "the backup's".to_string(), |k| k.display().to_string());
    audit(
        &restored.store,
        "restore",
        format!(
            "from {}, {} values, keys {} from {keys} key file",
            from.display(),
            restored.values,
            ids(&restored.key_ids)
        ),
    );
    eprintln!(
        "[success] Restored {} into {}: all {} values open. Start `serve --data-dir {}`.",
        from.display(),
        to.0.display(),
        restored.values,
        to.0.display()
    );
    Ok(())
}

/// `backup:list`.
pub fn list(dir: &DataDir, format: &str) -> Result<(), CliError> {
    let backups = Store::open(dir)?.backups()?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&backups).unwrap_or_default());
    } else {
        let rows: Vec<Vec<String>> =
            backups.into_iter().map(|b| vec![b.id.to_string(), b.at, b.path, ids(&b.key_ids)]).collect();
        print!("{}", render::table(&["ID", "When", "Directory", "Master keys"], &rows));
    }
    Ok(())
}

/// `backup:forget ID`.
pub fn forget(dir: &DataDir, id: i64) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let record = store.forget_backup(id).map_err(super::ops::with_hint)?;
    audit(
        &store,
        "backup.forget",
        format!("backup {id} of {} at {}, keys {}", record.at, record.path, ids(&record.key_ids)),
    );
    eprintln!("[success] Backup {id} ({}) is no longer recorded; its keys may be pruned.", record.path);
    Ok(())
}

/// `key:prune --before KEY_ID|TIME`: prints the pruned key ids, one a line.
pub fn prune(dir: &DataDir, before: PruneBefore) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let pruned = store.prune_keys(before)?;
    if pruned.is_empty() {
        eprintln!("[notice] No retired master key matches; nothing pruned.");
        return Ok(());
    }
    audit(&store, "key.prune", format!("keys {} removed from the key file", ids(&pruned)));
    eprintln!("[success] Removed master key(s) {} from the key file.", ids(&pruned));
    for id in pruned {
        println!("{id}");
    }
    Ok(())
}
