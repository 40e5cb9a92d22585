//! Secrets: create, change and delete them, seal and open their values, assemble the documents
//! of ARCHITECTURE §3, and rotate the master key.

use std::collections::BTreeMap;

use secrets_core::document::{Document, Secret, Value};
use zeroize::Zeroizing;

use secrets_core::{Scope, SecretType};

use super::db::{args, Sql, Tx, NOW};
use super::model::{check_secret_name, check_secret_value, check_type};
use super::{
    check_env, current_key, normalize_scopes, DecryptFailure, Owner, Put, Result, Site, Store, StoreError,
    StoredSecret, View, CURRENT_KEY, DEFAULT_SCOPE, LAST_KEY, USER_SCOPE,
};
use crate::crypto::{Binding, CryptoError, Keyring, Sealed};
use crate::messages;

impl Store {
    /// Creates a secret. An existing one is refused (`secret_exists`, a 400 whose message says
    /// PATCH, as Pantheon answers): its value changes with [`Store::update_secret`], and its type
    /// and scopes are fixed at creation.
    pub fn put_secret(
        &self,
        owner: &Owner,
        name: &str,
        value: &str,
        kind: Option<&str>,
        scopes: Option<&[String]>,
    ) -> Result<Put> {
        check_secret_value(value)?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let existing = secret_meta(&mut tx, owner, name)?;
        let (put, meta) = match existing {
            Some(_) => {
                return Err(StoreError::invalid("secret_exists", messages::secret_exists_use_patch(name)))
            }
            None => {
                let kind = check_type(kind)?;
                check_secret_name(name, &kind)?;
                let scopes = match scopes {
                    Some(s) => normalize_scopes(s)?,
                    None => vec![DEFAULT_SCOPE],
                };
                let scopes: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
                let meta = (kind.as_str().to_string(), scopes.join(","));
                tx.execute(
                    "INSERT INTO secrets (owner_kind, owner, name, type, scopes) VALUES (?1, ?2, ?3, ?4, ?5)",
                    args![owner.kind(), owner.id(), name, meta.0.as_str(), meta.1.as_str()],
                )?;
                (Put::Created, meta)
            }
        };
        self.write_value(&mut tx, owner, name, "", &meta, value)?;
        tx.commit()?;
        Ok(put)
    }

    /// Sets the default value of an existing secret; a missing one is not created.
    pub fn update_secret(&self, owner: &Owner, name: &str, value: &str) -> Result<()> {
        check_secret_value(value)?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let Some(meta) = secret_meta(&mut tx, owner, name)? else {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing(name),
            });
        };
        self.write_value(&mut tx, owner, name, "", &meta, value)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets (`Some`) or deletes (`None`) the override of an existing secret in `env`.
    pub fn set_override(&self, owner: &Owner, name: &str, env: &str, value: Option<&str>) -> Result<()> {
        check_env(env)?;
        if let Some(v) = value {
            check_secret_value(v)?;
        }
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let Some(meta) = secret_meta(&mut tx, owner, name)? else {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing_default(name),
            });
        };
        match value {
            Some(v) => self.write_value(&mut tx, owner, name, env, &meta, v)?,
            None => {
                let deleted = tx.execute(
                    "DELETE FROM secret_values WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3 AND env = ?4",
                    args![owner.kind(), owner.id(), name, env],
                )?;
                if deleted == 0 {
                    return Err(StoreError::NotFound {
                        code: "override_not_found",
                        message: format!("Secret '{name}' has no value for environment '{env}'."),
                    });
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes a secret with all its values.
    pub fn delete_secret(&self, owner: &Owner, name: &str) -> Result<()> {
        let deleted = self.conn()?.execute(
            "DELETE FROM secrets WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3",
            args![owner.kind(), owner.id(), name],
        )?;
        if deleted == 0 {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing(name),
            });
        }
        Ok(())
    }

    fn write_value(
        &self,
        tx: &mut Tx<'_, '_>,
        owner: &Owner,
        name: &str,
        env: &str,
        (kind, scopes): &(String, String),
        value: &str,
    ) -> Result<()> {
        // Read inside the write transaction: key:rotate switches this in its own transaction,
        // so a value is sealed either before the switch (and re-encrypted) or under the new key.
        let key_id = current_key(tx)?;
        let binding = Binding { owner_kind: owner.kind(), owner: owner.id(), name, env, kind, scopes };
        let sealed = self.keys.seal(key_id, binding, value.as_bytes())?;
        let sql = format!(
            "INSERT INTO secret_values (owner_kind, owner, name, env, key_id, nonce, ciphertext)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(owner_kind, owner, name, env) DO UPDATE SET
               key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext,
               updated_at = {NOW}"
        );
        tx.execute(
            &sql,
            args![
                owner.kind(),
                owner.id(),
                name,
                env,
                i64::from(sealed.key_id),
                sealed.nonce.as_slice(),
                sealed.ciphertext.as_slice()
            ],
        )?;
        Ok(())
    }

    /// The secrets of `owner` that `view` lets take part, with the values it lets be seen;
    /// values it hides are not decrypted.
    pub fn owner_secrets(&self, owner: &Owner, view: View<'_>) -> Result<Vec<StoredSecret>> {
        let mut conn = self.conn()?;
        // Each secret with its stored scopes (bound into its values) and whether to open them.
        let mut secrets: BTreeMap<String, (StoredSecret, String, bool)> = BTreeMap::new();
        let rows = conn.query(
            "SELECT name, type, scopes FROM secrets WHERE owner_kind = ?1 AND owner = ?2",
            args![owner.kind(), owner.id()],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)),
        )?;
        for (name, kind, stored_scopes) in rows {
            let scopes: Vec<Scope> = stored_scopes.split(',').map(Scope::parse).collect();
            let open = match view {
                View::Shown => scopes.contains(&USER_SCOPE),
                View::Scope { scope, .. } if scopes.contains(scope) => true,
                View::Scope { .. } => continue,
            };
            let kind = SecretType::parse(&kind);
            let secret =
                StoredSecret { name: name.clone(), kind, scopes, value: None, env_values: BTreeMap::new() };
            secrets.insert(name, (secret, stored_scopes, open));
        }
        let (sql, only) = match view {
            View::Shown => (
                "SELECT name, env, key_id, nonce, ciphertext FROM secret_values
                 WHERE owner_kind = ?1 AND owner = ?2 AND CAST(?3 AS TEXT) IS NULL",
                None,
            ),
            View::Scope { env, .. } => (
                "SELECT name, env, key_id, nonce, ciphertext FROM secret_values
                 WHERE owner_kind = ?1 AND owner = ?2 AND env IN ('', ?3)",
                Some(env),
            ),
        };
        let rows = conn.query(sql, args![owner.kind(), owner.id(), only], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                Sealed { key_id: r.get(2)?, nonce: r.get(3)?, ciphertext: r.get(4)? },
            ))
        })?;
        drop(conn);
        for (name, env, sealed) in rows {
            let Some((secret, scopes, open)) = secrets.get_mut(&name) else { continue };
            let binding = Binding {
                owner_kind: owner.kind(),
                owner: owner.id(),
                name: &name,
                env: &env,
                kind: secret.kind.as_str(),
                scopes,
            };
            let value = if *open { Some(self.open_value(binding, &sealed)?) } else { None };
            if env.is_empty() {
                secret.value = value;
            } else {
                secret.env_values.insert(env, value);
            }
        }
        Ok(secrets.into_values().map(|(secret, _, _)| secret).collect())
    }

    fn open_value(&self, binding: Binding<'_>, sealed: &Sealed) -> Result<Value> {
        decrypted(binding, self.keys.open_sealed(sealed, binding))
    }

    /// The secrets document of a site (ARCHITECTURE §3): the site's secrets with their overrides, and
    /// under `OrgValues` those of its owner organization — never a supporting organization's.
    /// `view` decides which secrets take part on each side and which values are opened, before
    /// the two are merged: a secret the view leaves out on one side neither hides nor reveals the
    /// other side's. Where both sides have a secret of one name, the site's type and scopes win.
    pub fn site_document(&self, site: &Site, view: View<'_>) -> Result<Document> {
        let mut doc = Document { site_id: site.name.clone(), ..Document::default() };
        if let Some(org) = &site.org {
            for s in self.owner_secrets(&Owner::Org(org.clone()), view)? {
                let mut org_values = s.env_values;
                org_values.insert(secrets_core::resolve::ORG_DEFAULT.to_string(), s.value);
                doc.secrets.insert(
                    s.name,
                    Secret { kind: s.kind, scopes: s.scopes, org_values, ..Secret::default() },
                );
            }
        }
        for s in self.owner_secrets(&Owner::Site(site.name.clone()), view)? {
            let entry = doc.secrets.entry(s.name).or_default();
            entry.kind = s.kind;
            entry.scopes = s.scopes;
            entry.value = s.value;
            entry.env_values = s.env_values;
        }
        doc.count = doc.secrets.len() as u64;
        Ok(doc)
    }

    /// An organization's secrets as a document for a person: `Value` is the organization's
    /// default, `EnvValues` its per-environment values, both `null` without the `user` scope.
    pub fn org_document(&self, org: &str) -> Result<Document> {
        let mut doc = Document::default();
        for s in self.owner_secrets(&Owner::Org(org.to_string()), View::Shown)? {
            doc.secrets.insert(
                s.name,
                Secret {
                    kind: s.kind,
                    scopes: s.scopes,
                    value: s.value,
                    env_values: s.env_values,
                    ..Secret::default()
                },
            );
        }
        doc.count = doc.secrets.len() as u64;
        Ok(doc)
    }

    /// Re-encrypts every value under a new master key, without stopping readers: the new key is
    /// added to the key file first, then made current (the old one is recorded as retired), then
    /// values move over in small transactions (each row names its key, so readers open old and
    /// new rows alike). Retired keys stay in the key file for opening copies of the database
    /// taken before, until [`Store::prune_keys`]. Returns the new key id and the number of values
    /// re-encrypted.
    ///
    /// One rotation at a time: a second one waits for the first to finish (an exclusive lock of
    /// the data directory, which `key:prune` and `backup` take too). A new key's id is above
    /// every id ever handed out (the database remembers the highest).
    pub fn rotate_key(&self) -> Result<(u32, usize)> {
        let _lock = self.lock_keys()?;
        let new_id = {
            let mut conn = self.conn()?;
            let new_id = self.keys.add_key(next_key_floor(&mut conn)?)?;
            let mut tx = conn.begin()?;
            tx.execute("UPDATE meta SET value = ?1 WHERE key = ?2", args![new_id.to_string(), CURRENT_KEY])?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                args![LAST_KEY, new_id.to_string()],
            )?;
            tx.execute(
                &format!("UPDATE master_keys SET retired_at = {NOW} WHERE retired_at IS NULL AND id <> ?1"),
                args![i64::from(new_id)],
            )?;
            tx.execute(
                "INSERT INTO master_keys (id) VALUES (?1) ON CONFLICT DO NOTHING",
                args![i64::from(new_id)],
            )?;
            tx.commit()?;
            new_id
        };
        let mut moved = 0;
        loop {
            let mut conn = self.conn()?;
            let mut tx = conn.begin()?;
            let batch = sealed_rows(&mut tx, "WHERE v.key_id <> ?1 LIMIT 200", args![i64::from(new_id)])?;
            if batch.is_empty() {
                break;
            }
            for row in &batch {
                let value = self.open_value(row.binding(), &row.sealed)?;
                row.reseal(&mut tx, self.keys.seal(new_id, row.binding(), value.as_bytes())?)?;
                moved += 1;
            }
            tx.commit()?;
        }
        Ok((new_id, moved))
    }
}

/// The lowest id a new master key may take: above the current key, every key a value names,
/// and the highest id ever handed out.
fn next_key_floor(conn: &mut super::Conn<'_>) -> Result<u32> {
    let last: Option<String> =
        conn.query_opt("SELECT value FROM meta WHERE key = ?1", args![LAST_KEY], |r| r.get(0))?;
    let last = match last {
        Some(v) => {
            v.parse().map_err(|_| StoreError::invalid("corrupt_meta", "meta.last_key is not a number"))?
        }
        None => 0,
    };
    let rows: Option<u32> = conn.query_row("SELECT MAX(key_id) FROM secret_values", args![], |r| r.get(0))?;
    Ok(last.max(rows.unwrap_or(0)).max(current_key(conn)?) + 1)
}

/// Migration 3: values sealed before their secret's type and scopes were bound into the
/// associated data are opened with the old binding and sealed again, under the same key, with
/// the new one. One value that does not open stops the upgrade (and the transaction undoes it):
/// a wrong key file must not turn into values that can never be opened.
pub(super) fn reseal_unbound(conn: &mut super::db::Sqlite<'_>, keys: &Keyring) -> Result<()> {
    for row in sealed_rows(conn, "", args![])? {
        let binding = row.binding();
        let value = decrypted(binding, keys.open_sealed_v1(&row.sealed, binding))?;
        row.reseal(conn, keys.seal(row.sealed.key_id, binding, value.as_bytes())?)?;
    }
    Ok(())
}

/// One stored value, with the type and scopes of its secret that its associated data binds.
pub(super) struct SealedRow {
    owner_kind: String,
    owner: String,
    name: String,
    env: String,
    kind: String,
    scopes: String,
    pub(super) sealed: Sealed,
}

impl SealedRow {
    pub(super) fn binding(&self) -> Binding<'_> {
        Binding {
            owner_kind: &self.owner_kind,
            owner: &self.owner,
            name: &self.name,
            env: &self.env,
            kind: &self.kind,
            scopes: &self.scopes,
        }
    }

    /// Replaces this row's ciphertext (the value is the same: re-encryption, not a change).
    pub(super) fn reseal(&self, conn: &mut impl Sql, sealed: Sealed) -> Result<()> {
        conn.execute(
            "UPDATE secret_values SET key_id = ?1, nonce = ?2, ciphertext = ?3
             WHERE owner_kind = ?4 AND owner = ?5 AND name = ?6 AND env = ?7",
            args![
                i64::from(sealed.key_id),
                sealed.nonce.as_slice(),
                sealed.ciphertext.as_slice(),
                self.owner_kind.as_str(),
                self.owner.as_str(),
                self.name.as_str(),
                self.env.as_str()
            ],
        )?;
        Ok(())
    }
}

/// The stored values that `filter` (SQL after the join, with `params`) selects.
pub(super) fn sealed_rows(
    conn: &mut impl Sql,
    filter: &str,
    params: &[&dyn super::db::Param],
) -> Result<Vec<SealedRow>> {
    let sql = format!(
        "SELECT v.owner_kind, v.owner, v.name, v.env, s.type, s.scopes, v.key_id, v.nonce, v.ciphertext
         FROM secret_values v
         JOIN secrets s ON s.owner_kind = v.owner_kind AND s.owner = v.owner AND s.name = v.name
         {filter}"
    );
    conn.query(&sql, params, |r| {
        Ok(SealedRow {
            owner_kind: r.get(0)?,
            owner: r.get(1)?,
            name: r.get(2)?,
            env: r.get(3)?,
            kind: r.get(4)?,
            scopes: r.get(5)?,
            sealed: Sealed { key_id: r.get(6)?, nonce: r.get(7)?, ciphertext: r.get(8)? },
        })
    })
}

/// The value a decryption gave, or the error naming the row (never the value).
pub(super) fn decrypted(
    binding: Binding<'_>,
    opened: Result<Zeroizing<Vec<u8>>, CryptoError>,
) -> Result<Value> {
    let decrypt = |source| {
        StoreError::Decrypt(Box::new(DecryptFailure {
            owner_kind: binding.owner_kind.to_string(),
            owner: binding.owner.to_string(),
            name: binding.name.to_string(),
            env: if binding.env.is_empty() { "default" } else { binding.env }.to_string(),
            source,
        }))
    };
    let bytes = opened.map_err(decrypt)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| decrypt(CryptoError::Open))?;
    Ok(Value::new(text.to_string()))
}

fn secret_meta(conn: &mut impl Sql, owner: &Owner, name: &str) -> Result<Option<(String, String)>> {
    conn.query_opt(
        "SELECT type, scopes FROM secrets WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3",
        args![owner.kind(), owner.id(), name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    engine_test! {
    fn site_document_supporting_org_never_contributes(s) {
        s.create_org("own").unwrap();
        s.create_org("help").unwrap();
        s.create_site("s1", Some("own"), &["help".to_string()]).unwrap();
        let web = Some(&["web".to_string()][..]);
        s.put_secret(&Owner::Org("own".into()), "A", "a", None, web).unwrap();
        s.put_secret(&Owner::Org("help".into()), "B", "b", None, web).unwrap();
        let site = s.site("s1").unwrap().unwrap();
        let doc = s.site_document(&site, View::Shown).unwrap();
        assert!(doc.secrets.contains_key("A"));
        assert!(!doc.secrets.contains_key("B"));
    }
    }

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    engine_test! {
    fn site_document_shown_each_owner_redacted_by_its_own_scopes(s) {
        s.create_org("own").unwrap();
        s.create_site("s1", Some("own"), &[]).unwrap();
        let (org, site) = (Owner::Org("own".into()), Owner::Site("s1".into()));
        s.put_secret(&org, "A", "org-a", None, Some(&scopes(&["web"]))).unwrap();
        s.set_override(&org, "A", "live", Some("org-a-live")).unwrap();
        s.put_secret(&site, "A", "site-a", None, Some(&scopes(&["user"]))).unwrap();
        s.put_secret(&org, "B", "org-b", None, Some(&scopes(&["user"]))).unwrap();
        s.put_secret(&site, "B", "site-b", None, Some(&scopes(&["web"]))).unwrap();
        let doc = s.site_document(&s.site("s1").unwrap().unwrap(), View::Shown).unwrap();
        let a = &doc.secrets["A"];
        assert_eq!(a.value.as_deref().map(String::as_str), Some("site-a"));
        assert_eq!(a.scopes, ["user"]);
        assert_eq!(a.org_values.keys().collect::<Vec<_>>(), ["default", "live"]);
        assert!(a.org_values.values().all(Option::is_none));
        let b = &doc.secrets["B"];
        assert_eq!(b.value, None);
        assert_eq!(b.org_values["default"].as_deref().map(String::as_str), Some("org-b"));
    }
    }

    engine_test! {
    fn site_document_scope_site_secret_outside_it_keeps_org_secret(s) {
        s.create_org("own").unwrap();
        s.create_site("s1", Some("own"), &[]).unwrap();
        let (org, site) = (Owner::Org("own".into()), Owner::Site("s1".into()));
        s.put_secret(&org, "A", "org-a", Some("env"), Some(&scopes(&["web"]))).unwrap();
        s.put_secret(&site, "A", "site-a", None, Some(&scopes(&["user", "ic"]))).unwrap();
        s.put_secret(&org, "B", "org-b", None, Some(&scopes(&["web"]))).unwrap();
        s.put_secret(&site, "B", "site-b", None, Some(&scopes(&["web"]))).unwrap();
        let site_row = s.site("s1").unwrap().unwrap();
        let web = s.site_document(&site_row, View::Scope { scope: &Scope::Web, env: "dev" }).unwrap();
        let a = &web.secrets["A"];
        assert_eq!((a.kind.as_str(), a.value.as_ref()), ("env", None));
        assert_eq!(a.org_values["default"].as_deref().map(String::as_str), Some("org-a"));
        let b = &web.secrets["B"];
        assert_eq!(b.value.as_deref().map(String::as_str), Some("site-b"), "in scope, the site wins");
        let ic = s.site_document(&site_row, View::Scope { scope: &Scope::Ic, env: "dev" }).unwrap();
        assert_eq!(ic.secrets.keys().collect::<Vec<_>>(), ["A"]);
        assert_eq!(ic.secrets["A"].value.as_deref().map(String::as_str), Some("site-a"));
        assert!(ic.secrets["A"].org_values.is_empty());
    }
    }

    engine_test! {
    fn put_secret_type_and_scopes_fixed(s) {
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        assert_eq!(s.put_secret(&owner, "A", "1", None, None).unwrap(), Put::Created);
        for kind in [None, Some("env")] {
            let err = s.put_secret(&owner, "A", "3", kind, None).unwrap_err();
            assert_eq!(err.to_string(), messages::secret_exists_use_patch("A"));
        }
    }
    }

    engine_test! {
    fn generation_changes_with_any_write(s) {
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        let g0 = s.generation().unwrap();
        s.put_secret(&owner, "A", "1", None, None).unwrap();
        let g1 = s.generation().unwrap();
        assert!(g1 > g0);
        s.set_override(&owner, "A", "live", Some("L")).unwrap();
        let g2 = s.generation().unwrap();
        assert!(g2 > g1);
        // Another connection, as another process or tool would.
        s.execute_elsewhere("DELETE FROM secret_values WHERE env = 'live'");
        assert!(s.generation().unwrap() > g2);
        assert_eq!(s.generation().unwrap(), s.generation().unwrap());
    }
    }

    engine_test! {
    fn rotate_key_reencrypts_everything(s) {
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        s.put_secret(&owner, "A", "1", None, None).unwrap();
        s.set_override(&owner, "A", "live", Some("L")).unwrap();
        assert_eq!(s.rotate_key().unwrap(), (2, 2));
        let got = s.owner_secrets(&owner, View::Shown).unwrap();
        assert_eq!(got[0].value.as_deref().map(String::as_str), Some("1"));
        assert_eq!(got[0].env_values["live"].as_deref().map(String::as_str), Some("L"));
    }
    }
}
