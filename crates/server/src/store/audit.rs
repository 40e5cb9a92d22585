//! The audit trail: who read or changed what, when — never a value.

use rusqlite::{params, TransactionBehavior};

use super::{AuditEvent, Result, Store};

impl Store {
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
}
