//! Organizations, sites and users (bearer tokens and what they reach).

use super::db::{args, Sql};
use super::{
    check_id, check_new_name, check_uuid, new_uuid, org_not_found, parse_uuid, site_not_found, Deleted, Org,
    Result, Site, Store, StoreError, TokenInfo, User,
};
use crate::crypto;

impl Store {
    /// Creates an organization with a new UUID.
    pub fn create_org(&self, org: &str) -> Result<()> {
        self.create_org_with(org, None).map(drop)
    }

    /// Creates an organization with the UUID given (an import) or a new one.
    pub fn create_org_with(&self, org: &str, uuid: Option<&str>) -> Result<Org> {
        check_new_name("organization", org)?;
        let uuid = match uuid {
            Some(u) => check_uuid("organization", u)?,
            None => new_uuid(),
        };
        let inserted = self.conn()?.execute(
            "INSERT INTO orgs (name, uuid) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![org, uuid.as_str()],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                code: "org_exists",
                message: format!("Organization '{org}' (or one with UUID {uuid}) already exists."),
            });
        }
        Ok(Org { name: org.to_string(), uuid })
    }

    /// Creates a site with an optional owner organization and supporting organizations (each by
    /// name or UUID), and a new UUID.
    pub fn create_site(&self, site: &str, org: Option<&str>, supporting: &[String]) -> Result<()> {
        self.create_site_with(site, org, supporting, None).map(drop)
    }

    /// Creates a site as [`Store::create_site`] does, with the UUID given (an import) or a new one.
    pub fn create_site_with(
        &self,
        site: &str,
        org: Option<&str>,
        supporting: &[String],
        uuid: Option<&str>,
    ) -> Result<Site> {
        check_new_name("site", site)?;
        let uuid = match uuid {
            Some(u) => check_uuid("site", u)?,
            None => new_uuid(),
        };
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let org = match org {
            Some(o) => Some(load_org(&mut tx, o)?.ok_or_else(|| org_not_found(o))?.name),
            None => None,
        };
        let mut names: Vec<String> = Vec::new();
        for o in supporting {
            let name = load_org(&mut tx, o)?.ok_or_else(|| org_not_found(o))?.name;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let inserted = tx.execute(
            "INSERT INTO sites (name, org, uuid) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![site, org.as_deref(), uuid.as_str()],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                code: "site_exists",
                message: format!("Site '{site}' (or one with UUID {uuid}) already exists."),
            });
        }
        for o in &names {
            tx.execute(
                "INSERT INTO site_supporting_orgs (site, org) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![site, o.as_str()],
            )?;
        }
        let created = load_site(&mut tx, site)?.ok_or_else(|| site_not_found(site))?;
        tx.commit()?;
        Ok(created)
    }

    /// The site named by `id`, its name or its UUID, or `None`.
    pub fn site(&self, id: &str) -> Result<Option<Site>> {
        load_site(&mut self.conn()?, id)
    }

    /// The organization named by `id`, its name or its UUID, or `None`.
    pub fn org(&self, id: &str) -> Result<Option<Org>> {
        load_org(&mut self.conn()?, id)
    }

    /// Whether the organization (by name or UUID) exists.
    pub fn org_exists(&self, org: &str) -> Result<bool> {
        Ok(self.org(org)?.is_some())
    }

    /// Every organization, by name.
    pub fn orgs(&self) -> Result<Vec<Org>> {
        self.conn()?.query("SELECT name, uuid FROM orgs ORDER BY name", args![], |r| {
            Ok(Org { name: r.get(0)?, uuid: r.get(1)? })
        })
    }

    /// Every site, by name.
    pub fn sites(&self) -> Result<Vec<Site>> {
        let mut conn = self.conn()?;
        let names: Vec<String> = conn.query("SELECT name FROM sites ORDER BY name", args![], |r| r.get(0))?;
        let mut sites = Vec::with_capacity(names.len());
        for name in names {
            sites.extend(load_site(&mut conn, &name)?);
        }
        Ok(sites)
    }

    /// Creates a bearer token for `user` (creating the user if new) with exactly these rights:
    /// admin or not, and the organizations and sites given (names or UUIDs). The rights are the
    /// token's, fixed now: other tokens of the user keep theirs. Returns the token; only its
    /// hash is stored.
    pub fn create_token(&self, user: &str, admin: bool, orgs: &[String], sites: &[String]) -> Result<String> {
        self.create_token_expiring(user, admin, orgs, sites, None)
    }

    /// Creates a token as [`Store::create_token`] does, refused from `expires_at` on (RFC 3339;
    /// `None`: never).
    pub fn create_token_expiring(
        &self,
        user: &str,
        admin: bool,
        orgs: &[String],
        sites: &[String],
        expires_at: Option<&str>,
    ) -> Result<String> {
        check_id("user", user)?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        // Grants are stored by name; the operator may give names or UUIDs.
        let mut org_names = Vec::with_capacity(orgs.len());
        for o in orgs {
            org_names.push(load_org(&mut tx, o)?.ok_or_else(|| org_not_found(o))?.name);
        }
        let mut site_names = Vec::with_capacity(sites.len());
        for s in sites {
            site_names.push(load_site(&mut tx, s)?.ok_or_else(|| site_not_found(s))?.name);
        }
        tx.execute("INSERT INTO users (name) VALUES (?1) ON CONFLICT DO NOTHING", args![user])?;
        let token = format!("pss_{}", crypto::to_hex(&crypto::random_bytes(32)));
        let hash = token_hash(&token);
        tx.execute(
            "INSERT INTO tokens (hash, \"user\", admin, expires_at) VALUES (?1, ?2, ?3, ?4)",
            args![hash.as_str(), user, admin, expires_at],
        )?;
        for (kind, targets) in [("org", &org_names), ("site", &site_names)] {
            for target in targets {
                tx.execute(
                    "INSERT INTO token_grants (token, kind, target) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    args![hash.as_str(), kind, target.as_str()],
                )?;
            }
        }
        tx.commit()?;
        Ok(token)
    }

    /// The user a bearer token belongs to, or `None` (unknown, revoked or expired). Read from
    /// the database on every call: nothing caches a token, so `token:revoke` is final at once.
    pub fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let mut conn = self.conn()?;
        let hash = token_hash(token);
        let found: Option<(String, bool, Option<String>)> = conn.query_opt(
            "SELECT \"user\", admin, expires_at FROM tokens WHERE hash = ?1",
            args![hash.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let Some((name, admin, expires_at)) = found else {
            return Ok(None);
        };
        // An expiry that does not read as a time is expired: refused rather than kept forever.
        if expires_at
            .is_some_and(|t| super::bindings::julian(&t).is_none_or(|t| t <= super::bindings::now_julian()))
        {
            return Ok(None);
        }
        let mut user = User { name, admin, orgs: Vec::new(), sites: Vec::new() };
        let rows = conn.query(
            "SELECT kind, target FROM token_grants WHERE token = ?1",
            args![hash.as_str()],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
        )?;
        for (kind, target) in rows {
            if kind == "org" {
                user.orgs.push(target);
            } else {
                user.sites.push(target);
            }
        }
        Ok(Some(user))
    }
}

impl Store {
    /// Every token, by user then age: ids, users, rights and expiry; never a token.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, TokenInfo)> = conn.query(
            "SELECT hash, \"user\", admin, created_at, expires_at FROM tokens ORDER BY \"user\", created_at, hash",
            args![],
            |r| {
                let hash: String = r.get(0)?;
                Ok((
                    hash.clone(),
                    TokenInfo {
                        id: hash[..TOKEN_ID_LEN.min(hash.len())].to_string(),
                        user: r.get(1)?,
                        admin: r.get(2)?,
                        orgs: Vec::new(),
                        sites: Vec::new(),
                        created_at: r.get(3)?,
                        expires_at: r.get(4)?,
                    },
                ))
            },
        )?;
        let mut tokens = Vec::with_capacity(rows.len());
        for (hash, mut info) in rows {
            let grants = conn.query(
                "SELECT kind, target FROM token_grants WHERE token = ?1 ORDER BY target",
                args![hash.as_str()],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )?;
            for (kind, target) in grants {
                if kind == "org" {
                    info.orgs.push(target);
                } else {
                    info.sites.push(target);
                }
            }
            tokens.push(info);
        }
        Ok(tokens)
    }

    /// Deletes the token whose id (as [`Store::tokens`] shows it, or a longer start of its hash,
    /// at least 8 hex digits) is `id`, or every token of `user`. Returns what was deleted; the
    /// service refuses a deleted token on its next request.
    pub fn revoke_tokens(&self, id: Option<&str>, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        let id = match id {
            Some(id) => {
                let id = id.to_ascii_lowercase();
                if id.len() < 8 || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(StoreError::Invalid {
                        code: "invalid_token_id",
                        message: format!("a token id is 8 to 64 hex digits; got '{id}'"),
                    });
                }
                Some(id)
            }
            None => None,
        };
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        drop(tx);
        let hashes: Vec<String> = conn.query(
            "SELECT hash FROM tokens WHERE (CAST(?1 AS TEXT) IS NULL OR substr(hash, 1, length(?1)) = ?1)
             AND (CAST(?2 AS TEXT) IS NULL OR \"user\" = ?2)",
            args![id.as_deref(), user],
            |r| r.get(0),
        )?;
        if id.is_some() && hashes.len() > 1 {
            return Err(StoreError::Conflict {
                code: "ambiguous_token_id",
                message: format!(
                    "token id '{}' names {} tokens: give more digits",
                    id.unwrap_or_default(),
                    hashes.len()
                ),
            });
        }
        drop(conn);
        let revoked: Vec<TokenInfo> =
            self.tokens()?.into_iter().filter(|t| hashes.iter().any(|h| h.starts_with(&t.id))).collect();
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        for hash in &hashes {
            tx.execute("DELETE FROM token_grants WHERE token = ?1", args![hash.as_str()])?;
            tx.execute("DELETE FROM tokens WHERE hash = ?1", args![hash.as_str()])?;
        }
        tx.commit()?;
        Ok(revoked)
    }

    /// Deletes a site (by name or UUID). Refused while it has secrets or unrevoked bindings,
    /// unless `force`: then its secrets (all values), bindings, supporting links and token
    /// grants go with it, and its bindings are refused from the next request on.
    pub fn delete_site(&self, id: &str, force: bool) -> Result<Deleted> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let site = load_site(&mut tx, id)?.ok_or_else(|| site_not_found(id))?;
        let mut count =
            |sql: &str| -> Result<usize> { tx.query_row(sql, args![site.name.as_str()], |r| r.get(0)) };
        let secrets = count("SELECT COUNT(*) FROM secrets WHERE owner_kind = 'site' AND owner = ?1")?;
        let live = count("SELECT COUNT(*) FROM bindings WHERE site = ?1 AND revoked_at IS NULL")?;
        if !force && (secrets > 0 || live > 0) {
            return Err(StoreError::Conflict {
                code: "site_in_use",
                message: format!(
                    "Site '{}' has {secrets} secret(s) and {live} unrevoked binding(s).",
                    site.name
                ),
            });
        }
        let name = site.name.as_str();
        tx.execute("DELETE FROM secrets WHERE owner_kind = 'site' AND owner = ?1", args![name])?;
        let bindings = tx.execute("DELETE FROM bindings WHERE site = ?1", args![name])?;
        let grants =
            tx.execute("DELETE FROM token_grants WHERE kind = 'site' AND target = ?1", args![name])?;
        tx.execute("DELETE FROM site_supporting_orgs WHERE site = ?1", args![name])?;
        tx.execute("DELETE FROM sites WHERE name = ?1", args![name])?;
        tx.commit()?;
        Ok(Deleted { name: site.name, secrets, bindings, sites: 0, grants })
    }

    /// Deletes an organization (by name or UUID). Refused while it owns sites or has secrets,
    /// unless `force`: then its secrets are deleted, the sites it owned have no owner any more
    /// (they keep their own secrets), and its supporting links and token grants go.
    pub fn delete_org(&self, id: &str, force: bool) -> Result<Deleted> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let org = load_org(&mut tx, id)?.ok_or_else(|| org_not_found(id))?;
        let mut count =
            |sql: &str| -> Result<usize> { tx.query_row(sql, args![org.name.as_str()], |r| r.get(0)) };
        let secrets = count("SELECT COUNT(*) FROM secrets WHERE owner_kind = 'org' AND owner = ?1")?;
        let sites = count("SELECT COUNT(*) FROM sites WHERE org = ?1")?;
        if !force && (secrets > 0 || sites > 0) {
            return Err(StoreError::Conflict {
                code: "org_in_use",
                message: format!(
                    "Organization '{}' owns {sites} site(s) and has {secrets} secret(s).",
                    org.name
                ),
            });
        }
        let name = org.name.as_str();
        tx.execute("DELETE FROM secrets WHERE owner_kind = 'org' AND owner = ?1", args![name])?;
        tx.execute("UPDATE sites SET org = NULL WHERE org = ?1", args![name])?;
        tx.execute("DELETE FROM site_supporting_orgs WHERE org = ?1", args![name])?;
        let grants =
            tx.execute("DELETE FROM token_grants WHERE kind = 'org' AND target = ?1", args![name])?;
        tx.execute("DELETE FROM orgs WHERE name = ?1", args![name])?;
        tx.commit()?;
        Ok(Deleted { name: org.name, secrets, bindings: 0, sites, grants })
    }
}

/// How many hex digits of a token's hash name it in `token:list`.
const TOKEN_ID_LEN: usize = 12;

/// The organization of this name or, failing that, this UUID.
pub(super) fn load_org(conn: &mut impl Sql, id: &str) -> Result<Option<Org>> {
    conn.query_opt(
        "SELECT name, uuid, 0 AS k FROM orgs WHERE name = ?1
         UNION ALL SELECT name, uuid, 1 FROM orgs WHERE uuid = ?2 ORDER BY k LIMIT 1",
        args![id, parse_uuid(id)],
        |r| Ok(Org { name: r.get(0)?, uuid: r.get(1)? }),
    )
}

/// The site of this name or, failing that, this UUID.
pub(super) fn load_site(conn: &mut impl Sql, id: &str) -> Result<Option<Site>> {
    let found: Option<(String, String, Option<String>)> = conn.query_opt(
        "SELECT name, uuid, org, 0 AS k FROM sites WHERE name = ?1
         UNION ALL SELECT name, uuid, org, 1 FROM sites WHERE uuid = ?2 ORDER BY k LIMIT 1",
        args![id, parse_uuid(id)],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some((name, uuid, org)) = found else { return Ok(None) };
    let supporting = conn.query(
        "SELECT org FROM site_supporting_orgs WHERE site = ?1 ORDER BY org",
        args![name.as_str()],
        |r| r.get(0),
    )?;
    Ok(Some(Site { name, uuid, org, supporting }))
}

/// An RFC 3339 time in the one form the store writes (UTC, milliseconds, `Z`), which sorts and
/// compares as text the same on every engine; `what` names it in the error.
pub(super) fn stored_time(what: &str, text: &str) -> Result<String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        StoreError::invalid("invalid_time", format!("the {what} '{text}' is not an RFC 3339 time"))
    })?;
    let t = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&format)
        .map_err(|_| StoreError::invalid("invalid_time", format!("the {what} '{text}' is out of range")))
}

fn token_hash(token: &str) -> String {
    crypto::to_hex(&crypto::sha256(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn migration_ids_gives_existing_rows_a_uuid() {
        let dir = std::env::temp_dir().join(format!("ps-ids-{}", crypto::to_hex(&crypto::random_bytes(8))));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secrets.db");
        {
            // A database as the service left it before UUIDs existed.
            let conn = Connection::open(&path).unwrap();
            for migration in &super::super::MIGRATIONS[..3] {
                conn.execute_batch(migration.sql()).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO orgs (name) VALUES ('o1'); INSERT INTO sites (name, org) VALUES ('s1', 'o1');",
            )
            .unwrap();
        }
        let keys = crypto::Keyring::create(&dir.join("master.key")).unwrap();
        let conn = super::super::open_connection(&path, &keys).unwrap();
        let mut sql = super::super::db::Sqlite(&conn);
        let site = load_site(&mut sql, "s1").unwrap().unwrap();
        let org = load_org(&mut sql, "o1").unwrap().unwrap();
        assert_eq!(parse_uuid(&site.uuid).as_deref(), Some(site.uuid.as_str()));
        assert_eq!(&site.uuid[14..15], "4");
        assert_ne!(site.uuid, org.uuid);
        assert_eq!(load_site(&mut sql, &site.uuid).unwrap().unwrap().name, "s1");
        assert_eq!(load_org(&mut sql, &org.uuid.to_ascii_uppercase()).unwrap().unwrap().name, "o1");
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn migration_token_rights_keeps_what_each_token_could_do() {
        let dir = std::env::temp_dir().join(format!("ps-tok-{}", crypto::to_hex(&crypto::random_bytes(8))));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secrets.db");
        {
            let conn = Connection::open(&path).unwrap();
            for migration in &super::super::MIGRATIONS[..4] {
                conn.execute_batch(migration.sql()).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute_batch(
                "INSERT INTO users (name, admin) VALUES ('root', 1), ('ann', 0);
                 INSERT INTO grants (user, kind, target) VALUES ('ann', 'site', 's1'), ('ann', 'org', 'o1');
                 INSERT INTO tokens (hash, user) VALUES ('h-root', 'root'), ('h-ann', 'ann');",
            )
            .unwrap();
        }
        let keys = crypto::Keyring::create(&dir.join("master.key")).unwrap();
        let conn = super::super::open_connection(&path, &keys).unwrap();
        let admin = |hash: &str| -> bool {
            conn.query_row("SELECT admin FROM tokens WHERE hash = ?1", [hash], |r| r.get(0)).unwrap()
        };
        assert!(admin("h-root") && !admin("h-ann"));
        let grants: Vec<(String, String)> = conn
            .prepare("SELECT kind, target FROM token_grants WHERE token = 'h-ann' ORDER BY kind")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(grants, [("org".to_string(), "o1".to_string()), ("site".to_string(), "s1".to_string())]);
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    engine_test! {
    fn create_site_by_org_uuid_stores_names(s) {
        let org = s.create_org_with("o1", None).unwrap();
        let help = s.create_org_with("o2", None).unwrap();
        let site = s.create_site_with("s1", Some(&org.uuid), std::slice::from_ref(&help.uuid), None).unwrap();
        assert_eq!(site.org.as_deref(), Some("o1"));
        assert_eq!(site.supporting, ["o2"]);
        assert_eq!(s.site(&site.uuid).unwrap(), Some(site));
    }
    }
}
