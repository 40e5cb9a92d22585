//! Secrets: create, change and delete them, seal and open their values, assemble the documents
//! of DESIGN §3, and rotate the master key.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use secrets_core::document::{Document, Secret, Value};

use super::model::{check_secret_name, check_secret_value};
use super::{
    check_env, current_key, normalize_scopes, DecryptFailure, Envs, Owner, Put, Result, Site, Store,
    StoreError, StoredSecret, CURRENT_KEY, DEFAULT_SCOPE, DEFAULT_TYPE, TYPES,
};
use crate::crypto::{Binding, CryptoError, Sealed};
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
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = secret_meta(&tx, owner, name)?;
        let put = match existing {
            Some(_) => {
                return Err(StoreError::invalid("secret_exists", messages::secret_exists_use_patch(name)))
            }
            None => {
                let kind = kind.unwrap_or(DEFAULT_TYPE);
                if !TYPES.contains(&kind) {
                    return Err(StoreError::invalid(
                        "invalid_type",
                        format!("unknown type '{kind}': types are {}", TYPES.join(", ")),
                    ));
                }
                check_secret_name(name, kind)?;
                let scopes = match scopes {
                    Some(s) => normalize_scopes(s)?,
                    None => vec![DEFAULT_SCOPE.to_string()],
                };
                tx.execute(
                    "INSERT INTO secrets (owner_kind, owner, name, type, scopes) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![owner.kind(), owner.id(), name, kind, scopes.join(",")],
                )?;
                Put::Created
            }
        };
        self.write_value(&tx, owner, name, "", value)?;
        tx.commit()?;
        Ok(put)
    }

    /// Sets the default value of an existing secret; a missing one is not created.
    pub fn update_secret(&self, owner: &Owner, name: &str, value: &str) -> Result<()> {
        check_secret_value(value)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if secret_meta(&tx, owner, name)?.is_none() {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing(name),
            });
        }
        self.write_value(&tx, owner, name, "", value)?;
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
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if secret_meta(&tx, owner, name)?.is_none() {
            return Err(StoreError::NotFound {
                code: "secret_not_found",
                message: messages::secret_missing_default(name),
            });
        }
        match value {
            Some(v) => self.write_value(&tx, owner, name, env, v)?,
            None => {
                let deleted = tx.execute(
                    "DELETE FROM secret_values WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3 AND env = ?4",
                    params![owner.kind(), owner.id(), name, env],
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
        let conn = self.conn()?;
        let deleted = conn.execute(
            "DELETE FROM secrets WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3",
            params![owner.kind(), owner.id(), name],
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
        tx: &rusqlite::Transaction<'_>,
        owner: &Owner,
        name: &str,
        env: &str,
        value: &str,
    ) -> Result<()> {
        // Read inside the write transaction: key:rotate switches this in its own transaction,
        // so a value is sealed either before the switch (and re-encrypted) or under the new key.
        let key_id = current_key(tx)?;
        let sealed = self.keys.seal(
            key_id,
            Binding { owner_kind: owner.kind(), owner: owner.id(), name, env },
            value.as_bytes(),
        )?;
        tx.execute(
            "INSERT INTO secret_values (owner_kind, owner, name, env, key_id, nonce, ciphertext)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(owner_kind, owner, name, env) DO UPDATE SET
               key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext,
               updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
            params![owner.kind(), owner.id(), name, env, sealed.key_id, sealed.nonce, sealed.ciphertext],
        )?;
        Ok(())
    }

    /// Every secret of `owner`, decrypted: the default values and the overrides `envs` selects.
    pub fn owner_secrets(&self, owner: &Owner, envs: Envs<'_>) -> Result<Vec<StoredSecret>> {
        let conn = self.conn()?;
        let mut secrets: BTreeMap<String, StoredSecret> = BTreeMap::new();
        let mut stmt = conn
            .prepare_cached("SELECT name, type, scopes FROM secrets WHERE owner_kind = ?1 AND owner = ?2")?;
        let rows = stmt.query_map(params![owner.kind(), owner.id()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        for row in rows {
            let (name, kind, scopes) = row?;
            secrets.insert(
                name.clone(),
                StoredSecret {
                    name,
                    kind,
                    scopes: scopes.split(',').map(str::to_string).collect(),
                    value: None,
                    env_values: BTreeMap::new(),
                },
            );
        }
        let (sql, only) = match envs {
            Envs::All => (
                "SELECT name, env, key_id, nonce, ciphertext FROM secret_values
                 WHERE owner_kind = ?1 AND owner = ?2 AND ?3 IS NULL",
                None,
            ),
            Envs::Only(env) => (
                "SELECT name, env, key_id, nonce, ciphertext FROM secret_values
                 WHERE owner_kind = ?1 AND owner = ?2 AND env IN ('', ?3)",
                Some(env),
            ),
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![owner.kind(), owner.id(), only], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                Sealed { key_id: r.get(2)?, nonce: r.get(3)?, ciphertext: r.get(4)? },
            ))
        })?;
        for row in rows {
            let (name, env, sealed) = row?;
            let value = self.open_value(owner, &name, &env, &sealed)?;
            if let Some(secret) = secrets.get_mut(&name) {
                if env.is_empty() {
                    secret.value = Some(value);
                } else {
                    secret.env_values.insert(env, value);
                }
            }
        }
        Ok(secrets.into_values().collect())
    }

    fn open_value(&self, owner: &Owner, name: &str, env: &str, sealed: &Sealed) -> Result<Value> {
        let binding = Binding { owner_kind: owner.kind(), owner: owner.id(), name, env };
        let decrypt = |source| {
            StoreError::Decrypt(Box::new(DecryptFailure {
                owner_kind: owner.kind().to_string(),
                owner: owner.id().to_string(),
                name: name.to_string(),
                env: if env.is_empty() { "default" } else { env }.to_string(),
                source,
            }))
        };
        let bytes = self.keys.open_sealed(sealed, binding).map_err(decrypt)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| decrypt(CryptoError::Open))?;
        Ok(Value::new(text.to_string()))
    }

    /// The secrets document of a site (DESIGN §3): the site's secrets with their overrides, and
    /// under `OrgValues` those of its owner organization — never a supporting organization's.
    /// Where site and organization both have a secret of one name, the site's type and scopes win.
    pub fn site_document(&self, site: &Site, envs: Envs<'_>) -> Result<Document> {
        let mut doc = Document { site_id: site.name.clone(), ..Document::default() };
        if let Some(org) = &site.org {
            for s in self.owner_secrets(&Owner::Org(org.clone()), envs)? {
                let mut org_values: BTreeMap<String, Option<Value>> =
                    s.env_values.into_iter().map(|(e, v)| (e, Some(v))).collect();
                if let Some(v) = s.value {
                    org_values.insert(secrets_core::resolve::ORG_DEFAULT.to_string(), Some(v));
                }
                doc.secrets.insert(
                    s.name,
                    Secret { kind: s.kind, scopes: s.scopes, org_values, ..Secret::default() },
                );
            }
        }
        for s in self.owner_secrets(&Owner::Site(site.name.clone()), envs)? {
            let entry = doc.secrets.entry(s.name).or_default();
            entry.kind = s.kind;
            entry.scopes = s.scopes;
            entry.value = s.value;
            entry.env_values = s.env_values.into_iter().map(|(e, v)| (e, Some(v))).collect();
        }
        doc.count = doc.secrets.len() as u64;
        Ok(doc)
    }

    /// An organization's secrets as a document: `Value` is the organization's default,
    /// `EnvValues` its per-environment values.
    pub fn org_document(&self, org: &str) -> Result<Document> {
        let mut doc = Document::default();
        for s in self.owner_secrets(&Owner::Org(org.to_string()), Envs::All)? {
            doc.secrets.insert(
                s.name,
                Secret {
                    kind: s.kind,
                    scopes: s.scopes,
                    value: s.value,
                    env_values: s.env_values.into_iter().map(|(e, v)| (e, Some(v))).collect(),
                    ..Secret::default()
                },
            );
        }
        doc.count = doc.secrets.len() as u64;
        Ok(doc)
    }

    /// Re-encrypts every value under a new master key, without stopping readers: the new key is
    /// added to the key file first, then made current, then values move over in small
    /// transactions (each row names its key, so readers open old and new rows alike), and only
    /// when no row needs them are the old keys removed from the file. Returns the new key id and
    /// the number of values re-encrypted.
    pub fn rotate_key(&self) -> Result<(u32, usize)> {
        let new_id = self.keys.add_key()?;
        {
            let conn = self.conn()?;
            conn.execute(
                "UPDATE meta SET value = ?1 WHERE key = ?2",
                params![new_id.to_string(), CURRENT_KEY],
            )?;
        }
        let mut moved = 0;
        loop {
            let mut conn = self.conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let batch: Vec<(String, String, String, String, Sealed)> = {
                let mut stmt = tx.prepare(
                    "SELECT owner_kind, owner, name, env, key_id, nonce, ciphertext FROM secret_values
                     WHERE key_id <> ?1 LIMIT 200",
                )?;
                let rows = stmt.query_map([new_id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        Sealed { key_id: r.get(4)?, nonce: r.get(5)?, ciphertext: r.get(6)? },
                    ))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            if batch.is_empty() {
                break;
            }
            for (kind, owner_id, name, env, sealed) in batch {
                let owner = if kind == "org" { Owner::Org(owner_id) } else { Owner::Site(owner_id) };
                let value = self.open_value(&owner, &name, &env, &sealed)?;
                self.write_value(&tx, &owner, &name, &env, &value)?;
                moved += 1;
            }
            tx.commit()?;
        }
        self.keys.retire_all_but(new_id)?;
        Ok((new_id, moved))
    }
}

fn secret_meta(conn: &Connection, owner: &Owner, name: &str) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT type, scopes FROM secrets WHERE owner_kind = ?1 AND owner = ?2 AND name = ?3",
            params![owner.kind(), owner.id(), name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TestStore;

    fn store() -> TestStore {
        TestStore::new()
    }

    #[test]
    fn site_document_supporting_org_never_contributes() {
        let s = store();
        s.create_org("own").unwrap();
        s.create_org("help").unwrap();
        s.create_site("s1", Some("own"), &["help".to_string()]).unwrap();
        let web = Some(&["web".to_string()][..]);
        s.put_secret(&Owner::Org("own".into()), "A", "a", None, web).unwrap();
        s.put_secret(&Owner::Org("help".into()), "B", "b", None, web).unwrap();
        let site = s.site("s1").unwrap().unwrap();
        let doc = s.site_document(&site, Envs::All).unwrap();
        assert!(doc.secrets.contains_key("A"));
        assert!(!doc.secrets.contains_key("B"));
    }

    #[test]
    fn put_secret_type_and_scopes_fixed() {
        let s = store();
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        assert_eq!(s.put_secret(&owner, "A", "1", None, None).unwrap(), Put::Created);
        for kind in [None, Some("env")] {
            let err = s.put_secret(&owner, "A", "3", kind, None).unwrap_err();
            assert_eq!(err.to_string(), messages::secret_exists_use_patch("A"));
        }
    }

    #[test]
    fn generation_changes_with_any_write() {
        let s = store();
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
        let other = Connection::open(s.path()).unwrap();
        other.execute("DELETE FROM secret_values WHERE env = 'live'", []).unwrap();
        assert!(s.generation().unwrap() > g2);
        assert_eq!(s.generation().unwrap(), s.generation().unwrap());
    }

    #[test]
    fn rotate_key_reencrypts_everything() {
        let s = store();
        s.create_site("s1", None, &[]).unwrap();
        let owner = Owner::Site("s1".into());
        s.put_secret(&owner, "A", "1", None, None).unwrap();
        s.set_override(&owner, "A", "live", Some("L")).unwrap();
        assert_eq!(s.rotate_key().unwrap(), (2, 2));
        let got = s.owner_secrets(&owner, Envs::All).unwrap();
        assert_eq!(got[0].value.as_deref().map(String::as_str), Some("1"));
        assert_eq!(got[0].env_values["live"].as_str(), "L");
    }
}
