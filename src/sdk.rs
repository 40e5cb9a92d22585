//! Pantheon's platform-internal client (ARCHITECTURE §4.3), which Pantheon's PHP SDK and the Drupal
//! `pantheon_secrets` module use when it exists: with the extension loaded, that code reads the
//! real, resolved secrets from the same cache as `pantheon_get_secret()`.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable};
use secrets_core::document::Document;
use secrets_core::resolve::resolve_value;
use secrets_core::{Scope, SecretType};
use secrets_runtime::config::ini as ini_names;

use crate::{ini, runtime};

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
pub struct CustomerSecretsClient {
    /// The SDK's `file` argument, used when no backend is configured (see [`Self::create`]).
    file: Option<String>,
}

/// What the platform's client says to a `version` it does not speak.
pub const UNKNOWN_VERSION: &str = "Unknown Customer Secrets API version";

#[php_impl]
impl CustomerSecretsClient {
    /// A client. The SDK passes `['version' => '1']`: another version is refused as the
    /// platform's client refuses it. The SDK's `file` argument (what its fake client reads) is
    /// honoured when `pantheon_secrets.backend` is empty, as the fake client would: then `get()`
    /// returns that file's secrets, so loading the extension never takes secrets away from SDK
    /// code used for local development. Other arguments are accepted and ignored.
    #[php(optional = args)]
    pub fn create(args: Option<&ZendHashTable>) -> PhpResult<Self> {
        let arg = |name: &str| args.and_then(|a| a.get(name));
        if let Some(version) = arg("version") {
            let one = version.is_null()
                || version.long() == Some(1)
                || version.str().is_some_and(|v| v.trim() == "1");
            if !one {
                return Err(PhpException::from_message(UNKNOWN_VERSION.into()));
            }
        }
        let file = arg("file").and_then(|f| f.string()).filter(|f| !f.is_empty());
        Ok(CustomerSecretsClient { file })
    }
}

#[php_impl_interface]
impl CustomerSecretsClientInterface for CustomerSecretsClient {
    fn get(&self) -> ZBox<ZendHashTable> {
        runtime::guard(ZendHashTable::new(), || {
            if let Some(file) =
                self.file.as_deref().filter(|_| ini::value(ini_names::BACKEND).trim().is_empty())
            {
                return fake_file_document(file);
            }
            let cache = runtime::cache();
            runtime::ensure_fresh(cache);
            cache.held(|snapshot| {
                document(
                    snapshot
                        .into_iter()
                        .flat_map(|s| s.entries())
                        .map(|e| (e.name, e.kind, e.value, e.scopes)),
                    snapshot.map_or("", |s| s.site_id()),
                    snapshot.map_or("", |s| s.version()),
                    &[Scope::Web],
                )
            })
        })
    }
}

/// The SDK's `file` as its fake client reads it: through PHP's own file functions (so
/// `open_basedir` and stream wrappers apply as they would to the SDK), nothing when the file does
/// not exist, every secret of the file with a value in this environment (whatever its scopes:
/// a local-generate file holds the `user` ones). A file that cannot be read or parsed gives a
/// warning and no secrets.
fn fake_file_document(file: &str) -> ZBox<ZendHashTable> {
    let empty = || document(std::iter::empty(), "", "", &[]);
    let call = |function: &str| ZendCallable::try_from_name(function).and_then(|f| f.try_call(vec![&file]));
    if !call("file_exists").ok().and_then(|exists| exists.bool()).unwrap_or(false) {
        return empty();
    }
    let Some(bytes) =
        call("file_get_contents").ok().and_then(|c| c.zend_str().map(|s| s.as_bytes().to_vec()))
    else {
        return empty(); // file_get_contents() has warned
    };
    let bytes = zeroize::Zeroizing::new(bytes);
    let (doc, skipped) = match Document::parse_skipping_bad_names(&bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            runtime::warn(&format!("cannot read secrets from {file}: {e}"));
            return empty();
        }
    };
    if !skipped.is_empty() {
        let skipped: Vec<String> = skipped.iter().map(ToString::to_string).collect();
        runtime::warn(&format!("secrets from {file}: skipped {}", skipped.join("; ")));
    }
    let environment = ini::config().environment;
    let resolved = doc.secrets.iter().filter_map(|(name, secret)| {
        let value = resolve_value(secret, &environment)?;
        Some((name.as_str(), &secret.kind, value.as_str(), &secret.scopes[..]))
    });
    document(resolved, &doc.site_id, &doc.version, &doc.scopes)
}

/// The document as the SDK reads it: `SiteID`, `Secrets` (each with `Type`, `Value`, `Scopes`),
/// `Count`, `Version`, `Scopes`. Only secrets with a value in this environment are in it (web
/// secrets from the cache): the SDK's `Secret::getValue()` is typed `string`.
fn document<'a>(
    entries: impl Iterator<Item = (&'a str, &'a SecretType, &'a str, &'a [Scope])>,
    site_id: &str,
    version: &str,
    scopes: &[Scope],
) -> ZBox<ZendHashTable> {
    let names = |scopes: &[Scope]| scopes.iter().map(|s| s.as_str().to_string()).collect::<Vec<String>>();
    let mut secrets = ZendHashTable::new();
    for (name, kind, value, secret_scopes) in entries {
        let mut secret = ZendHashTable::with_capacity(3);
        let _ = secret.insert("Type", kind.as_str());
        let _ = secret.insert("Value", value);
        let _ = secret.insert("Scopes", names(secret_scopes));
        let _ = secrets.insert(name, secret);
    }
    let count = secrets.len() as i64;
    let mut doc = ZendHashTable::with_capacity(5);
    let _ = doc.insert("SiteID", site_id);
    let _ = doc.insert("Secrets", secrets);
    let _ = doc.insert("Count", count);
    let _ = doc.insert("Version", version);
    let _ = doc.insert("Scopes", names(scopes));
    doc
}
