//! Runtime identities: the bindings issued, looked up by certificate fingerprint, and revoked.

use rusqlite::{params, OptionalExtension};

use super::{BindingRow, Result, Store};

impl Store {
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
}
