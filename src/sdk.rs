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
    let count = snapshot.map_or(0, |s| s.len());
    let mut secrets = ZendHashTable::with_capacity(count as u32);
    for entry in snapshot.into_iter().flat_map(|s| s.entries()) {
        let mut secret = ZendHashTable::with_capacity(3);
        let _ = secret.insert("Type", entry.kind);
        let _ = secret.insert("Value", entry.value);
        let _ = secret.insert("Scopes", entry.scopes.to_vec());
        let _ = secrets.insert(entry.name, secret);
    }
    let mut doc = ZendHashTable::with_capacity(5);
    let _ = doc.insert("SiteID", snapshot.map_or("", |s| s.site_id()));
    let _ = doc.insert("Secrets", secrets);
    let _ = doc.insert("Count", count as i64);
    let _ = doc.insert("Version", snapshot.map_or("", |s| s.version()));
    let _ = doc.insert("Scopes", vec!["web"]);
    doc
}
