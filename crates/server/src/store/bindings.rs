//! Runtime identities: the bindings issued, looked up by certificate fingerprint, and revoked.

use super::db::{args, Sql, NOW};
use super::{generation, BindingInfo, BindingRow, Result, Site, Store};

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
        self.conn()?.execute(
            "INSERT INTO bindings (serial, fingerprint, site, env, build, not_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            args![serial, &fingerprint[..], site, env, build, not_after],
        )?;
        Ok(())
    }

    /// The binding whose certificate has this SHA-256 fingerprint, or `None`.
    pub fn binding_by_fingerprint(&self, fingerprint: &[u8; 32]) -> Result<Option<BindingRow>> {
        self.conn()?.query_opt(
            "SELECT serial, site, env, build, revoked_at IS NOT NULL FROM bindings WHERE fingerprint = ?1",
            args![&fingerprint[..]],
            |r| {
                Ok(BindingRow {
                    serial: r.get(0)?,
                    site: r.get(1)?,
                    env: r.get(2)?,
                    build: r.get(3)?,
                    revoked: r.get(4)?,
                })
            },
        )
    }

    /// What a runtime request needs to know about its caller, in one call on one connection:
    /// the store's generation (read in the same statement as the binding, so a cached answer is
    /// never newer than what it is checked against), the binding whose certificate has this
    /// fingerprint, and its site. `None` for an unknown certificate (or one whose site is gone).
    pub fn runtime_identity(&self, fingerprint: &[u8; 32]) -> Result<Option<(u64, BindingRow, Site)>> {
        let mut conn = self.conn()?;
        let found = conn.query_opt(
            "SELECT b.serial, b.site, b.env, b.build, b.revoked_at IS NOT NULL, s.uuid, s.org,
                    (SELECT value FROM meta WHERE key = 'generation')
             FROM bindings b JOIN sites s ON s.name = b.site WHERE b.fingerprint = ?1",
            args![&fingerprint[..]],
            |r| {
                let binding = BindingRow {
                    serial: r.get(0)?,
                    site: r.get(1)?,
                    env: r.get(2)?,
                    build: r.get(3)?,
                    revoked: r.get(4)?,
                };
                let site = Site {
                    name: binding.site.clone(),
                    uuid: r.get(5)?,
                    org: r.get(6)?,
                    supporting: Vec::new(),
                };
                Ok((r.get::<String>(7)?, binding, site))
            },
        )?;
        let Some((generation_text, binding, mut site)) = found else {
            // An unknown certificate still reads the generation, so the answer is one call.
            generation(&mut conn)?;
            return Ok(None);
        };
        let generation = generation_text
            .parse()
            .map_err(|_| super::StoreError::invalid("corrupt_meta", "meta.generation is not a number"))?;
        site.supporting = conn.query(
            "SELECT org FROM site_supporting_orgs WHERE site = ?1 ORDER BY org",
            args![site.name.as_str()],
            |r| r.get(0),
        )?;
        Ok(Some((generation, binding, site)))
    }

    /// Revokes the bindings of `site.env` (only the one with `serial`, if given). Returns the
    /// serial numbers revoked.
    pub fn revoke_bindings(&self, site: &str, env: &str, serial: Option<&str>) -> Result<Vec<String>> {
        let sql = format!(
            "UPDATE bindings SET revoked_at = {NOW}
             WHERE site = ?1 AND env = ?2 AND (CAST(?3 AS TEXT) IS NULL OR serial = ?3) AND revoked_at IS NULL
             RETURNING serial"
        );
        self.conn()?.query(&sql, args![site, env, serial], |r| r.get(0))
    }

    /// Every binding issued, optionally of one site (by name) and environment, oldest first.
    pub fn bindings(&self, site: Option<&str>, env: Option<&str>) -> Result<Vec<BindingInfo>> {
        self.conn()?.query(
            "SELECT serial, site, env, build, issued_at, not_after, revoked_at FROM bindings
             WHERE (CAST(?1 AS TEXT) IS NULL OR site = ?1) AND (CAST(?2 AS TEXT) IS NULL OR env = ?2)
             ORDER BY issued_at, serial",
            args![site, env],
            |r| {
                Ok(BindingInfo {
                    serial: r.get(0)?,
                    site: r.get(1)?,
                    env: r.get(2)?,
                    build: r.get(3)?,
                    issued_at: r.get(4)?,
                    not_after: r.get(5)?,
                    revoked_at: r.get(6)?,
                })
            },
        )
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
        let not_after: Vec<String> =
            self.conn()?
                .query("SELECT not_after FROM bindings WHERE revoked_at IS NULL", args![], |r| r.get(0))?;
        let now = now_julian();
        let (mut near, mut expired) = (0, 0);
        for t in not_after.iter().filter_map(|t| julian(t)) {
            if t <= now {
                expired += 1;
            } else if t <= now + f64::from(days) {
                near += 1;
            }
        }
        Ok((near, expired))
    }
}

/// The key of `meta` holding the server certificate's extra names (a JSON array).
const SERVER_NAMES: &str = "server_hostnames";

impl Store {
    /// The names the server certificate was last issued for (besides the defaults), as `init`
    /// and `cert:renew` recorded them; `None` for a data directory made before they were.
    pub fn server_hostnames(&self) -> Result<Option<Vec<String>>> {
        let text: Option<String> =
            self.conn()?
                .query_opt("SELECT value FROM meta WHERE key = ?1", args![SERVER_NAMES], |r| r.get(0))?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Records the names the server certificate was issued for.
    pub fn set_server_hostnames(&self, names: &[String]) -> Result<()> {
        let text = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        self.conn()?.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            args![SERVER_NAMES, text],
        )?;
        Ok(())
    }
}

/// Now as a Julian day number.
pub(super) fn now_julian() -> f64 {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    2_440_587.5 + secs / 86_400.0
}

/// An RFC 3339 time as a Julian day number, or `None` when it does not parse.
pub(super) fn julian(rfc3339: &str) -> Option<f64> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()?;
    Some(2_440_587.5 + (t.unix_timestamp_nanos() as f64 / 1e9) / 86_400.0)
}

#[cfg(test)]
mod tests {

    fn at(days: f64) -> String {
        let t = time::OffsetDateTime::now_utc() + time::Duration::seconds_f64(days * 86_400.0);
        t.format(&time::format_description::well_known::Rfc3339).unwrap()
    }

    engine_test! {
    fn bindings_expiring_counts_near_and_expired_not_revoked(s) {
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
}
