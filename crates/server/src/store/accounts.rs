//! Organizations, sites and users (bearer tokens and what they reach).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

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
        let conn = self.conn()?;
        let inserted =
            conn.execute("INSERT OR IGNORE INTO orgs (name, uuid) VALUES (?1, ?2)", params![org, uuid])?;
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
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let org = match org {
            Some(o) => Some(load_org(&tx, o)?.ok_or_else(|| org_not_found(o))?.name),
            None => None,
        };
        let mut names: Vec<String> = Vec::new();
        for o in supporting {
            let name = load_org(&tx, o)?.ok_or_else(|| org_not_found(o))?.name;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO sites (name, org, uuid) VALUES (?1, ?2, ?3)",
            params![site, org, uuid],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                code: "site_exists",
                message: format!("Site '{site}' (or one with UUID {uuid}) already exists."),
            });
        }
        for o in &names {
            tx.execute(
                "INSERT OR IGNORE INTO site_supporting_orgs (site, org) VALUES (?1, ?2)",
                params![site, o],
            )?;
        }
        let created = load_site(&tx, site)?.ok_or_else(|| site_not_found(site))?;
        tx.commit()?;
        Ok(created)
    }

    /// The site named by `id`, its name or its UUID, or `None`.
    pub fn site(&self, id: &str) -> Result<Option<Site>> {
        let conn = self.conn()?;
        load_site(&conn, id)
    }

    /// The organization named by `id`, its name or its UUID, or `None`.
    pub fn org(&self, id: &str) -> Result<Option<Org>> {
        let conn = self.conn()?;
        load_org(&conn, id)
    }

    /// Whether the organization (by name or UUID) exists.
    pub fn org_exists(&self, org: &str) -> Result<bool> {
        Ok(self.org(org)?.is_some())
    }

    /// Every organization, by name.
    pub fn orgs(&self) -> Result<Vec<Org>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT name, uuid FROM orgs ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(Org { name: r.get(0)?, uuid: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every site, by name.
    pub fn sites(&self) -> Result<Vec<Site>> {
        let conn = self.conn()?;
        let names: Vec<String> = conn
            .prepare("SELECT name FROM sites ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut sites = Vec::with_capacity(names.len());
        for name in names {
            sites.extend(load_site(&conn, &name)?);
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
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Grants are stored by name; the operator may give names or UUIDs.
        let orgs = orgs
            .iter()
            .map(|o| Ok(load_org(&tx, o)?.ok_or_else(|| org_not_found(o))?.name))
            .collect::<Result<Vec<String>>>()?;
        let sites = sites
            .iter()
            .map(|s| Ok(load_site(&tx, s)?.ok_or_else(|| site_not_found(s))?.name))
            .collect::<Result<Vec<String>>>()?;
        tx.execute("INSERT OR IGNORE INTO users (name) VALUES (?1)", [user])?;
        let token = format!("pss_{}", crypto::to_hex(&crypto::random_bytes(32)));
        let hash = token_hash(&token);
        tx.execute(
            "INSERT INTO tokens (hash, user, admin, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash, user, admin, expires_at],
        )?;
        for (kind, targets) in [("org", &orgs), ("site", &sites)] {
            for target in targets {
                tx.execute(
                    "INSERT OR IGNORE INTO token_grants (token, kind, target) VALUES (?1, ?2, ?3)",
                    params![hash, kind, target],
                )?;
            }
        }
        tx.commit()?;
        Ok(token)
    }

    /// The user a bearer token belongs to, or `None` (unknown, revoked or expired). Read from
    /// the database on every call: nothing caches a token, so `token:revoke` is final at once.
    pub fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let conn = self.conn()?;
        let hash = token_hash(token);
        let found: Option<(String, bool)> = conn
            .prepare_cached(
                "SELECT user, admin FROM tokens WHERE hash = ?1
                 AND (expires_at IS NULL OR julianday(expires_at) > julianday('now'))",
            )?
            .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((name, admin)) = found else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached("SELECT kind, target FROM token_grants WHERE token = ?1")?;
        let mut user = User { name, admin, orgs: Vec::new(), sites: Vec::new() };
        let rows = stmt.query_map([&hash], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (kind, target) = row?;
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
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT hash, user, admin, created_at, expires_at FROM tokens ORDER BY user, created_at, hash",
        )?;
        let rows: Vec<(String, TokenInfo)> = stmt
            .query_map([], |r| {
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
            })?
            .collect::<Result<_, _>>()?;
        let mut grants =
            conn.prepare_cached("SELECT kind, target FROM token_grants WHERE token = ?1 ORDER BY target")?;
        let mut tokens = Vec::with_capacity(rows.len());
        for (hash, mut info) in rows {
            for row in grants.query_map([&hash], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
                let (kind, target) = row?;
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
                        message: format!(
                            "a token id is 8 to 64 hex digits, as token:list shows it; got '{id}'"
                        ),
                    });
                }
                Some(id)
            }
            None => None,
        };
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let hashes: Vec<String> = tx
            .prepare(
                "SELECT hash FROM tokens WHERE (?1 IS NULL OR substr(hash, 1, length(?1)) = ?1)
                 AND (?2 IS NULL OR user = ?2)",
            )?
            .query_map(params![id, user], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
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
        drop(tx);
        drop(conn);
        let revoked: Vec<TokenInfo> =
            self.tokens()?.into_iter().filter(|t| hashes.iter().any(|h| h.starts_with(&t.id))).collect();
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for hash in &hashes {
            tx.execute("DELETE FROM token_grants WHERE token = ?1", [hash])?;
            tx.execute("DELETE FROM tokens WHERE hash = ?1", [hash])?;
        }
        tx.commit()?;
        Ok(revoked)
    }

    /// Deletes a site (by name or UUID). Refused while it has secrets or unrevoked bindings,
    /// unless `force`: then its secrets (all values), bindings, supporting links and token
    /// grants go with it, and its bindings are refused from the next request on.
    pub fn delete_site(&self, id: &str, force: bool) -> Result<Deleted> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let site = load_site(&tx, id)?.ok_or_else(|| site_not_found(id))?;
        let count = |sql: &str| -> Result<usize> { Ok(tx.query_row(sql, [&site.name], |r| r.get(0))?) };
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
        tx.execute("DELETE FROM secrets WHERE owner_kind = 'site' AND owner = ?1", [name])?;
        let bindings = tx.execute("DELETE FROM bindings WHERE site = ?1", [name])?;
        let grants = tx.execute("DELETE FROM token_grants WHERE kind = 'site' AND target = ?1", [name])?;
        tx.execute("DELETE FROM site_supporting_orgs WHERE site = ?1", [name])?;
        tx.execute("DELETE FROM sites WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(Deleted { name: site.name, secrets, bindings, sites: 0, grants })
    }

    /// Deletes an organization (by name or UUID). Refused while it owns sites or has secrets,
    /// unless `force`: then its secrets are deleted, the sites it owned have no owner any more
    /// (they keep their own secrets), and its supporting links and token grants go.
    pub fn delete_org(&self, id: &str, force: bool) -> Result<Deleted> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let org = load_org(&tx, id)?.ok_or_else(|| org_not_found(id))?;
        let count = |sql: &str| -> Result<usize> { Ok(tx.query_row(sql, [&org.name], |r| r.get(0))?) };
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
        tx.execute("DELETE FROM secrets WHERE owner_kind = 'org' AND owner = ?1", [name])?;
        tx.execute("UPDATE sites SET org = NULL WHERE org = ?1", [name])?;
        tx.execute("DELETE FROM site_supporting_orgs WHERE org = ?1", [name])?;
        let grants = tx.execute("DELETE FROM token_grants WHERE kind = 'org' AND target = ?1", [name])?;
        tx.execute("DELETE FROM orgs WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(Deleted { name: org.name, secrets, bindings: 0, sites, grants })
    }
}

/// How many hex digits of a token's hash name it in `token:list`.
const TOKEN_ID_LEN: usize = 12;

/// The organization of this name or, failing that, this UUID.
pub(super) fn load_org(conn: &Connection, id: &str) -> Result<Option<Org>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, uuid, 0 AS k FROM orgs WHERE name = ?1
         UNION ALL SELECT name, uuid, 1 FROM orgs WHERE uuid = ?2 ORDER BY k LIMIT 1",
    )?;
    let uuid = parse_uuid(id);
    Ok(stmt.query_row(params![id, uuid], |r| Ok(Org { name: r.get(0)?, uuid: r.get(1)? })).optional()?)
}

/// The site of this name or, failing that, this UUID.
pub(super) fn load_site(conn: &Connection, id: &str) -> Result<Option<Site>> {
    let found: Option<(String, String, Option<String>)> = conn
        .prepare_cached(
            "SELECT name, uuid, org, 0 AS k FROM sites WHERE name = ?1
             UNION ALL SELECT name, uuid, org, 1 FROM sites WHERE uuid = ?2 ORDER BY k LIMIT 1",
        )?
        .query_row(params![id, parse_uuid(id)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((name, uuid, org)) = found else { return Ok(None) };
    let mut stmt =
        conn.prepare_cached("SELECT org FROM site_supporting_orgs WHERE site = ?1 ORDER BY org")?;
    let supporting = stmt.query_map([&name], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(Some(Site { name, uuid, org, supporting }))
}

fn token_hash(token: &str) -> String {
    crypto::to_hex(&crypto::sha256(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TestStore;

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
        let site = load_site(&conn, "s1").unwrap().unwrap();
        let org = load_org(&conn, "o1").unwrap().unwrap();
        assert_eq!(parse_uuid(&site.uuid).as_deref(), Some(site.uuid.as_str()));
        assert_eq!(&site.uuid[14..15], "4");
        assert_ne!(site.uuid, org.uuid);
        assert_eq!(load_site(&conn, &site.uuid).unwrap().unwrap().name, "s1");
        assert_eq!(load_org(&conn, &org.uuid.to_ascii_uppercase()).unwrap().unwrap().name, "o1");
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

    #[test]
    fn create_site_by_org_uuid_stores_names() {
        let s = TestStore::new();
        let org = s.create_org_with("o1", None).unwrap();
        let help = s.create_org_with("o2", None).unwrap();
        let site = s.create_site_with("s1", Some(&org.uuid), std::slice::from_ref(&help.uuid), None).unwrap();
        assert_eq!(site.org.as_deref(), Some("o1"));
        assert_eq!(site.supporting, ["o2"]);
        assert_eq!(s.site(&site.uuid).unwrap(), Some(site));
    }
}
