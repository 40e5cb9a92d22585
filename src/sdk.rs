//! Pantheon's platform-internal client (DESIGN §4.3), which Pantheon's PHP SDK and the Drupal
//! `pantheon_secrets` module use when it exists: with the extension loaded, that code reads the
//! real, resolved secrets from the same cache as `pantheon_get_secret()`.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use secrets_core::Snapshot;

use crate::runtime;

/// `Pantheon\Internal\CustomerSecrets\CustomerSecretsClientInterface`: one method, `get(): array`.
#[php_interface]
#[php(name = "Pantheon\\Internal\\CustomerSecrets\\CustomerSecretsClientInterface")]
pub trait CustomerSecretsClientInterface {
    /// The secrets document of this site, for this environment.
    fn get(&self) -> ZBox<ZendHashTable>;
}

/// `Pantheon\Internal\CustomerSecrets\CustomerSecretsClient`.
#[php_class]
#[php(name = "Pantheon\\Internal\\CustomerSecrets\\CustomerSecretsClient")]
pub struct CustomerSecretsClient;

#[php_impl]
impl CustomerSecretsClient {
    /// A client. The SDK passes `['version' => '1']`; every argument is accepted and none changes
    /// what `get()` returns.
    #[php(optional = args)]
    pub fn create(args: Option<&ZendHashTable>) -> Self {
        let _ = args;
        CustomerSecretsClient
    }
}

#[php_impl_interface]
impl CustomerSecretsClientInterface for CustomerSecretsClient {
    fn get(&self) -> ZBox<ZendHashTable> {
        runtime::guard(ZendHashTable::new(), || {
            let cache = runtime::cache();
            runtime::ensure_fresh(cache);
            cache.held(document)
        })
    }
}

/// The document as the SDK reads it: `SiteID`, `Secrets` (each with `Type`, `Value`, `Scopes`),
/// `Count`, `Version`, `Scopes`. Only web secrets with a value in this environment are in it: the
/// SDK's `Secret::getValue()` is typed `string`.
fn document(snapshot: Option<&Snapshot>) -> ZBox<ZendHashTable> {
    let entries = snapshot.map_or(&[][..], |s| s.entries());
    let mut secrets = ZendHashTable::with_capacity(entries.len() as u32);
    for entry in entries {
        let mut secret = ZendHashTable::with_capacity(3);
        let _ = secret.insert("Type", entry.kind.as_str());
        let _ = secret.insert("Value", entry.value.as_str());
        let _ = secret.insert("Scopes", entry.scopes.clone());
        let _ = secrets.insert(entry.name.as_str(), secret);
    }
    let mut doc = ZendHashTable::with_capacity(5);
    let _ = doc.insert("SiteID", snapshot.map_or("", |s| s.site_id()));
    let _ = doc.insert("Secrets", secrets);
    let _ = doc.insert("Count", entries.len() as i64);
    let _ = doc.insert("Version", snapshot.map_or("", |s| s.version()));
    let _ = doc.insert("Scopes", vec!["web"]);
    doc
}
