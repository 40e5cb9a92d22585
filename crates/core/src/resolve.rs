//! Resolution (ARCHITECTURE §3): which value a secret has in one environment.
//!
//! `EnvValues[E]` → `Value` → `OrgValues[E]` → `OrgValues.default`; the first string wins, an empty
//! string included. Site values replace organization values, environment overrides win over both.

use std::collections::BTreeMap;

use crate::document::{Document, Secret, Value, REDACTED};
use crate::model::{Scope, SecretType};

/// The key of an organization's value that applies in every environment.
pub const ORG_DEFAULT: &str = "default";

/// A resolved secret. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The secret's name.
    pub name: String,
    /// Its value in this environment.
    pub value: Value,
    /// Its type (`runtime`, `env`, `composer`, …).
    pub kind: SecretType,
    /// Its scopes.
    pub scopes: Vec<Scope>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("value", &REDACTED)
            .field("kind", &self.kind)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The value `secret` has in environment `env`, or `None` when it has none there.
pub fn resolve_value<'a>(secret: &'a Secret, env: &str) -> Option<&'a Value> {
    let from = |map: &'a BTreeMap<String, Option<Value>>, key: &str| map.get(key).and_then(Option::as_ref);
    from(&secret.env_values, env)
        .or(secret.value.as_ref())
        .or_else(|| from(&secret.org_values, env))
        .or_else(|| from(&secret.org_values, ORG_DEFAULT))
}

/// Every secret of `doc` that carries `scope` and has a value in `env`, with that value, in name
/// order: resolution, once, for [`resolve`] and [`resolve_document`] alike.
fn resolved<'a>(
    doc: &'a Document,
    env: &'a str,
    scope: &'a Scope,
) -> impl Iterator<Item = (&'a String, &'a Secret, &'a Value)> + 'a {
    doc.secrets
        .iter()
        .filter(move |(_, secret)| secret.has_scope(scope))
        .filter_map(move |(name, secret)| Some((name, secret, resolve_value(secret, env)?)))
}

fn entry(name: &str, secret: &Secret, value: &Value) -> Entry {
    Entry {
        name: name.to_string(),
        value: value.clone(),
        kind: secret.kind.clone(),
        scopes: secret.scopes.clone(),
    }
}

/// Every secret of `doc` that carries `scope` and has a value in `env`, resolved, in name order.
pub fn resolve(doc: &Document, env: &str, scope: &Scope) -> Vec<Entry> {
    resolved(doc, env, scope).map(|(name, secret, value)| entry(name, secret, value)).collect()
}

/// The document one runtime of `env` may see: only secrets with `scope` and a value in `env`,
/// each holding its resolved value alone, with no trace of other environments or the organization.
/// It names `env` as its `Environment`, so that the runtime reading it does not resolve it again.
pub fn resolve_document(doc: &Document, env: &str, scope: &Scope) -> Document {
    let secrets: BTreeMap<String, Secret> = resolved(doc, env, scope)
        .map(|(name, secret, value)| {
            let secret = Secret {
                kind: secret.kind.clone(),
                value: Some(value.clone()),
                scopes: secret.scopes.clone(),
                ..Secret::default()
            };
            (name.clone(), secret)
        })
        .collect();
    Document {
        site_id: doc.site_id.clone(),
        count: secrets.len() as u64,
        secrets,
        version: doc.version.clone(),
        scopes: vec![scope.clone()],
        environment: Some(env.to_string()),
    }
}

/// What a runtime configured for `env` reads from `doc` with `scope`: the entries, and the
/// environment they belong to. A document that names its `Environment` was resolved already (the
/// runtime API's answer, for the environment of the worker's binding): its values are taken as
/// they are and that environment is theirs, whatever `env` says. Any other document (a file, an
/// older service's answer) is resolved for `env`.
pub fn runtime_entries<'a>(doc: &'a Document, env: &'a str, scope: &Scope) -> (Vec<Entry>, &'a str) {
    match doc.environment.as_deref() {
        Some(resolved_for) => {
            let entries = doc
                .secrets
                .iter()
                .filter(|(_, secret)| secret.has_scope(scope))
                .filter_map(|(name, secret)| Some(entry(name, secret, secret.value.as_ref()?)))
                .collect();
            (entries, resolved_for)
        }
        None => (resolve(doc, env, scope), env),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<Value> {
        Some(Value::new(s.to_string()))
    }

    fn secret(site: Option<&str>, env: &[(&str, &str)], org: &[(&str, &str)]) -> Secret {
        Secret {
            kind: SecretType::Runtime,
            value: site.and_then(v),
            scopes: vec![Scope::Web],
            env_values: env.iter().map(|(k, x)| (k.to_string(), v(x))).collect(),
            org_values: org.iter().map(|(k, x)| (k.to_string(), v(x))).collect(),
        }
    }

    fn value_in(s: &Secret, env: &str) -> Option<String> {
        resolve_value(s, env).map(|x| x.to_string())
    }

    #[test]
    fn resolve_value_env_override_beats_site() {
        let s = secret(Some("site"), &[("live", "site_live")], &[("live", "org_live"), ("default", "org")]);
        assert_eq!(value_in(&s, "live").as_deref(), Some("site_live"));
        assert_eq!(value_in(&s, "dev").as_deref(), Some("site"));
    }

    #[test]
    fn resolve_value_site_beats_org_env() {
        let s = secret(Some("site"), &[], &[("test", "org_test"), ("default", "org")]);
        assert_eq!(value_in(&s, "test").as_deref(), Some("site"));
    }

    #[test]
    fn resolve_value_org_env_beats_org_default() {
        let s = secret(None, &[], &[("test", "org_test"), ("default", "org")]);
        assert_eq!(value_in(&s, "test").as_deref(), Some("org_test"));
        assert_eq!(value_in(&s, "live").as_deref(), Some("org"));
    }

    #[test]
    fn resolve_value_empty_string_is_a_value() {
        let s = secret(Some(""), &[], &[("default", "org")]);
        assert_eq!(value_in(&s, "dev").as_deref(), Some(""));
        let s = secret(Some("site"), &[("dev", "")], &[]);
        assert_eq!(value_in(&s, "dev").as_deref(), Some(""));
    }

    #[test]
    fn resolve_value_null_everywhere_is_absent() {
        let mut s = secret(None, &[], &[]);
        s.env_values.insert("dev".into(), None);
        s.org_values.insert("default".into(), None);
        assert_eq!(value_in(&s, "dev"), None);
    }

    #[test]
    fn resolve_web_only_and_valueless_left_out() {
        let doc = Document::parse(
            br#"{"Secrets": {
            "A": {"Value": "a", "Scopes": ["web"]},
            "B": {"Value": "b", "Scopes": ["ic", "user"]},
            "C": {"Value": null, "Scopes": ["web"]},
            "D": {"Type": "vcs", "OrgValues": {"default": "d"}, "Scopes": ["user", "web"]}
        }}"#,
        )
        .unwrap();
        let names: Vec<_> =
            resolve(&doc, "dev", &Scope::Web).into_iter().map(|e| (e.name.clone(), e.kind.clone())).collect();
        assert_eq!(
            names,
            [("A".to_string(), SecretType::Runtime), ("D".into(), SecretType::Other("vcs".into()))]
        );
    }

    #[test]
    fn resolve_document_keeps_no_other_environment() {
        let doc = Document::parse(br#"{"SiteID": "s", "Secrets": {
            "K": {"Value": "site", "Scopes": ["web"], "EnvValues": {"live": "LIVE"}, "OrgValues": {"default": "ORG"}}
        }}"#).unwrap();
        let dev = resolve_document(&doc, "dev", &Scope::Web);
        let json = dev.to_json();
        assert!(json.contains("site") && !json.contains("LIVE") && !json.contains("ORG"), "{}", *json);
        assert_eq!(
            resolve_document(&doc, "live", &Scope::Web).secrets["K"].value.as_deref().map(String::as_str),
            Some("LIVE")
        );
    }

    #[test]
    fn resolve_document_names_its_environment_and_is_read_as_it_is() {
        let doc = Document::parse(
            br#"{"SiteID": "s", "Secrets": {
            "K": {"Value": "site", "Scopes": ["web"], "EnvValues": {"live": "LIVE"}},
            "I": {"Value": "ic", "Scopes": ["ic"]}
        }}"#,
        )
        .unwrap();
        let live = resolve_document(&doc, "live", &Scope::Web);
        assert_eq!(live.environment.as_deref(), Some("live"));
        let answer = Document::parse(live.to_json().as_bytes()).unwrap();
        // A worker configured for dev reads the live answer as live: no second resolution.
        let (entries, env) = runtime_entries(&answer, "dev", &Scope::Web);
        assert_eq!(env, "live");
        let read: Vec<_> = entries.iter().map(|e| (e.name.as_str(), e.value.as_str())).collect();
        assert_eq!(read, [("K", "LIVE")]);
        // A document without Environment (a file, an older service) is resolved for the setting.
        let (entries, env) = runtime_entries(&doc, "dev", &Scope::Web);
        assert_eq!((env, entries.len(), entries[0].value.as_str()), ("dev", 1, "site"));
        assert_eq!(runtime_entries(&doc, "live", &Scope::Web).0[0].value.as_str(), "LIVE");
    }
}
