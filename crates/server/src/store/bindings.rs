//! Runtime identities: the bindings issued, looked up by certificate fingerprint, and revoked.

use rusqlite::{params, OptionalExtension};

use super::{BindingInfo, BindingRow, Result, Store};

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

    /// Every binding issued, optionally of one site (by name) and environment, oldest first.
    pub fn bindings(&self, site: Option<&str>, env: Option<&str>) -> Result<Vec<BindingInfo>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT serial, site, env, build, issued_at, not_after, revoked_at FROM bindings
             WHERE (?1 IS NULL OR site = ?1) AND (?2 IS NULL OR env = ?2) ORDER BY issued_at, serial",
        )?;
        let rows = stmt.query_map(params![site, env], |r| {
            Ok(BindingInfo {
                serial: r.get(0)?,
                site: r.get(1)?,
                env: r.get(2)?,
                build: r.get(3)?,
                issued_at: r.get(4)?,
                not_after: r.get(5)?,
                revoked_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The unrevoked bindings of `site.env` (build or not) whose certificate is still valid but
    /// expires within `days` days.
    pub fn bindings_expiring_for(
        &self,
        site: &str,
        env: &str,
        build: bool,
        days: u32,
    ) -> Result<Vec<BindingInfo>> {
        let now = now_julian();
        Ok(self
            .bindings(Some(site), Some(env))?
            .into_iter()
            .filter(|b| b.build == build && b.revoked_at.is_none())
            .filter(|b| julian(&b.not_after).is_some_and(|t| t > now && t <= now + f64::from(days)))
            .collect())
    }

    /// How many unrevoked bindings expire within `days` days, and how many have expired.
    pub fn bindings_expiring(&self, days: u32) -> Result<(u64, u64)> {
        let conn = self.conn()?;
        let counts = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(julianday(not_after) > julianday('now')
                                 AND julianday(not_after) <= julianday('now') + ?1), 0),
                    COALESCE(SUM(julianday(not_after) <= julianday('now')), 0)
             FROM bindings WHERE revoked_at IS NULL",
            )?
            .query_row([days], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        Ok((counts.0.max(0) as u64, counts.1.max(0) as u64))
    }
}

/// The key of `meta` holding the server certificate's extra names (a JSON array).
const SERVER_NAMES: &str = "server_hostnames";

impl Store {
    /// The names the server certificate was last issued for (besides the defaults), as `init`
    /// and `cert:renew` recorded them; `None` for a data directory made before they were.
    pub fn server_hostnames(&self) -> Result<Option<Vec<String>>> {
        let conn = self.conn()?;
        let text: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [SERVER_NAMES], |r| r.get(0))
            .optional()?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Records the names the server certificate was issued for.
    pub fn set_server_hostnames(&self, names: &[String]) -> Result<()> {
        let conn = self.conn()?;
        let text = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![SERVER_NAMES, text],
        )?;
        Ok(())
    }
}

/// Now as a Julian day number (what SQLite's `julianday` gives).
fn now_julian() -> f64 {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    2_440_587.5 + secs / 86_400.0
}

/// An RFC 3339 time as a Julian day number, or `None` when it does not parse.
fn julian(rfc3339: &str) -> Option<f64> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()?;
    Some(2_440_587.5 + (t.unix_timestamp_nanos() as f64 / 1e9) / 86_400.0)
}

#[cfg(test)]
mod tests {
    use crate::store::TestStore;

    fn at(days: f64) -> String {
        let t = time::OffsetDateTime::now_utc() + time::Duration::seconds_f64(days * 86_400.0);
        t.format(&time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn bindings_expiring_counts_near_and_expired_not_revoked() {
        let s = TestStore::new();
        s.create_site("s1", None, &[]).unwrap();
        for (serial, days) in [("a", 10.0), ("b", 29.0), ("c", 40.0), ("d", -1.0), ("e", 5.0)] {
            s.record_binding(
                serial,
                &crate::crypto::sha256(serial.as_bytes()),
                "s1",
                "dev",
                false,
                &at(days),
            )
            .unwrap();
        }
        s.revoke_bindings("s1", "dev", Some("e")).unwrap();
        assert_eq!(s.bindings_expiring(30).unwrap(), (2, 1));
        let near: Vec<String> =
            s.bindings_expiring_for("s1", "dev", false, 30).unwrap().into_iter().map(|b| b.serial).collect();
        assert_eq!(near, ["a", "b"]);
        assert!(s.bindings_expiring_for("s1", "dev", true, 30).unwrap().is_empty(), "build is another kind");
        assert!(s.bindings_expiring_for("s1", "live", false, 30).unwrap().is_empty());
        let all = s.bindings(None, None).unwrap();
        assert_eq!(all.len(), 5);
        assert!(all.iter().find(|b| b.serial == "e").unwrap().revoked_at.is_some());
    }
}
