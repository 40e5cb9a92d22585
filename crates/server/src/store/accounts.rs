//! Organizations, sites and users (bearer tokens and what they reach).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{check_id, org_not_found, site_not_found, Result, Site, Store, StoreError, User};
use crate::crypto;

impl Store {
    /// Creates an organization.
    pub fn create_org(&self, org: &str) -> Result<()> {
        check_id("organization", org)?;
        let conn = self.conn()?;
        let inserted = conn.execute("INSERT OR IGNORE INTO orgs (name) VALUES (?1)", [org])?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                code: "org_exists",
                message: format!("Organization '{org}' already exists."),
            });
        }
        Ok(())
    }

    /// Creates a site with an optional owner organization and supporting organizations.
    pub fn create_site(&self, site: &str, org: Option<&str>, supporting: &[String]) -> Result<()> {
        check_id("site", site)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for o in org.iter().copied().chain(supporting.iter().map(String::as_str)) {
            if !org_exists(&tx, o)? {
                return Err(org_not_found(o));
            }
        }
        let inserted =
            tx.execute("INSERT OR IGNORE INTO sites (name, org) VALUES (?1, ?2)", params![site, org])?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                code: "site_exists",
                message: format!("Site '{site}' already exists."),
            });
        }
        for o in supporting {
            tx.execute(
                "INSERT OR IGNORE INTO site_supporting_orgs (site, org) VALUES (?1, ?2)",
                params![site, o],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The site, or `None`.
    pub fn site(&self, site: &str) -> Result<Option<Site>> {
        let conn = self.conn()?;
        load_site(&conn, site)
    }

    /// Whether the organization exists.
    pub fn org_exists(&self, org: &str) -> Result<bool> {
        let conn = self.conn()?;
        org_exists(&conn, org)
    }

    /// Creates a bearer token for `user` (creating the user if new) and grants it the
    /// organizations and sites given. Returns the token; only its hash is stored.
    pub fn create_token(&self, user: &str, admin: bool, orgs: &[String], sites: &[String]) -> Result<String> {
        check_id("user", user)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for o in orgs {
            if !org_exists(&tx, o)? {
                return Err(org_not_found(o));
            }
        }
        for s in sites {
            if load_site(&tx, s)?.is_none() {
                return Err(site_not_found(s));
            }
        }
        tx.execute(
            "INSERT INTO users (name, admin) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET admin = max(admin, excluded.admin)",
            params![user, admin],
        )?;
        for (kind, targets) in [("org", orgs), ("site", sites)] {
            for target in targets {
                tx.execute(
                    "INSERT OR IGNORE INTO grants (user, kind, target) VALUES (?1, ?2, ?3)",
                    params![user, kind, target],
                )?;
            }
        }
        let token = format!("pss_{}", crypto::to_hex(&crypto::random_bytes(32)));
        tx.execute("INSERT INTO tokens (hash, user) VALUES (?1, ?2)", params![token_hash(&token), user])?;
        tx.commit()?;
        Ok(token)
    }

    /// The user a bearer token belongs to, or `None`.
    pub fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let conn = self.conn()?;
        let found: Option<(String, bool)> = conn
            .query_row(
                "SELECT u.name, u.admin FROM tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?1",
                [token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((name, admin)) = found else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached("SELECT kind, target FROM grants WHERE user = ?1")?;
        let mut user = User { name, admin, orgs: Vec::new(), sites: Vec::new() };
        let rows = stmt.query_map([&user.name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
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

pub(super) fn org_exists(conn: &Connection, org: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT 1 FROM orgs WHERE name = ?1", [org], |_| Ok(())).optional()?.is_some())
}

pub(super) fn load_site(conn: &Connection, site: &str) -> Result<Option<Site>> {
    let org: Option<Option<String>> = conn
        .prepare_cached("SELECT org FROM sites WHERE name = ?1")?
        .query_row([site], |r| r.get(0))
        .optional()?;
    let Some(org) = org else { return Ok(None) };
    let mut stmt =
        conn.prepare_cached("SELECT org FROM site_supporting_orgs WHERE site = ?1 ORDER BY org")?;
    let supporting = stmt.query_map([site], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(Some(Site { name: site.to_string(), org, supporting }))
}

fn token_hash(token: &str) -> String {
    crypto::to_hex(&crypto::sha256(token.as_bytes()))
}
