//! Organizations, sites and users (bearer tokens and what they reach).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    check_id, check_new_name, check_uuid, new_uuid, org_not_found, parse_uuid, site_not_found, Org, Result,
    Site, Store, StoreError, User,
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
        tx.execute("INSERT INTO tokens (hash, user, admin) VALUES (?1, ?2, ?3)", params![hash, user, admin])?;
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

    /// The user a bearer token belongs to, or `None`.
    pub fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let conn = self.conn()?;
        let hash = token_hash(token);
        let found: Option<(String, bool)> = conn
            .prepare_cached("SELECT user, admin FROM tokens WHERE hash = ?1")?
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
