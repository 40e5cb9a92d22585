//! What the store holds, as types, and the rules on ids, environments, types and scopes.

use std::collections::BTreeMap;

use secrets_core::document::Value;
use secrets_core::validate::{check_env_name, check_name, check_value};
use secrets_core::{Scope, SecretType};

use super::{Result, StoreError};

/// The types a secret may be created with besides [`SecretType::KNOWN`]: Pantheon's, which
/// nothing here acts on and which are kept as they are.
pub const OTHER_TYPES: &[&str] = &["file", "vcs"];
/// The scope whose values people may read (the management API, `local-generate`).
pub const USER_SCOPE: Scope = Scope::User;
/// The type of a secret created without one.
pub const DEFAULT_TYPE: SecretType = SecretType::Runtime;
/// The scope of a secret created without any.
pub const DEFAULT_SCOPE: Scope = Scope::User;

/// Who owns a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// An organization, by id.
    Org(String),
    /// A site, by id.
    Site(String),
}

impl Owner {
    /// `org` or `site`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::Org(_) => "org",
            Owner::Site(_) => "site",
        }
    }

    /// The owner's id.
    pub fn id(&self) -> &str {
        match self {
            Owner::Org(id) | Owner::Site(id) => id,
        }
    }
}

/// An organization: a name people type and a UUID (what Pantheon's tools put in URLs). Either
/// names it, in every API path and CLI argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// The name, which secrets and grants are stored under.
    pub name: String,
    /// The UUID, lowercase, assigned at creation (or given for an import).
    pub uuid: String,
}

/// A site and its organizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The site's name, which secrets, grants and bindings are stored under.
    pub name: String,
    /// The UUID, lowercase, assigned at creation (or given for an import).
    pub uuid: String,
    /// The owner organization, the only one that contributes secrets.
    pub org: Option<String>,
    /// Supporting organizations: they may reach the site, never contribute secrets.
    pub supporting: Vec<String>,
}

/// A management API user, resolved from a bearer token.
#[derive(Debug, Clone)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// An administrator reaches every organization and site.
    pub admin: bool,
    /// Organizations the user belongs to (and so the sites they own).
    pub orgs: Vec<String>,
    /// Sites the user was given directly.
    pub sites: Vec<String>,
}

impl User {
    /// Whether the user may read and change the organization's secrets.
    pub fn reaches_org(&self, org: &str) -> bool {
        self.admin || self.orgs.iter().any(|o| o == org)
    }

    /// Whether the user may read and change the site's secrets.
    /// Members of a supporting organization work on the site too (as on Pantheon); that
    /// organization still contributes no secrets to it.
    pub fn reaches_site(&self, site: &Site) -> bool {
        self.admin
            || self.sites.contains(&site.name)
            || site.org.as_deref().is_some_and(|o| self.reaches_org(o))
            || site.supporting.iter().any(|o| self.reaches_org(o))
    }
}

/// A bearer token as `token:list` shows it: never the token, only the start of its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The first 12 hex digits of the token's SHA-256: what `token:revoke` takes.
    pub id: String,
    /// The user.
    pub user: String,
    /// Whether it reaches everything.
    pub admin: bool,
    /// The organizations it was granted.
    pub orgs: Vec<String>,
    /// The sites it was granted.
    pub sites: Vec<String>,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// When it stops working, if ever (RFC 3339, UTC).
    pub expires_at: Option<String>,
}

/// What deleting a site or an organization took with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// The name of what was deleted.
    pub name: String,
    /// Secrets deleted (with all their values).
    pub secrets: usize,
    /// Bindings deleted (a site's).
    pub bindings: usize,
    /// Sites that no longer have an owner organization (an organization's).
    pub sites: usize,
    /// Token grants removed.
    pub grants: usize,
}

/// A runtime identity: one client certificate for one site and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRow {
    /// The certificate's serial number, hex.
    pub serial: String,
    /// The site.
    pub site: String,
    /// The environment.
    pub env: String,
    /// An Integrated Composer build identity (reads `ic` secrets) rather than a PHP worker.
    pub build: bool,
    /// Whether `binding:revoke` withdrew it.
    pub revoked: bool,
}

/// An issued binding as `binding:list` shows it (never the certificate or its key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BindingInfo {
    /// The certificate's serial number, hex.
    pub serial: String,
    /// The site.
    pub site: String,
    /// The environment.
    pub env: String,
    /// A build runner's binding rather than a PHP worker's.
    pub build: bool,
    /// When it was issued (RFC 3339, UTC).
    pub issued_at: String,
    /// When its certificate expires (RFC 3339, UTC).
    pub not_after: String,
    /// When `binding:revoke` withdrew it, if it did.
    pub revoked_at: Option<String>,
}

/// One secret of one owner, decrypted. Its `Debug` shows `[REDACTED]` for every value.
#[derive(Clone)]
pub struct StoredSecret {
    /// The name.
    pub name: String,
    /// The type, fixed at creation.
    pub kind: SecretType,
    /// The scopes, fixed at creation.
    pub scopes: Vec<Scope>,
    /// The default value; `None` when there is none or it was not opened (see [`View`]).
    pub value: Option<Value>,
    /// Per-environment overrides; `None` for one that was not opened.
    pub env_values: BTreeMap<String, Option<Value>>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use secrets_core::document::REDACTED;
        let shown = |v: &Option<Value>| if v.is_some() { REDACTED } else { "null" };
        let env_values: BTreeMap<&str, &str> =
            self.env_values.iter().map(|(env, v)| (env.as_str(), shown(v))).collect();
        f.debug_struct("StoredSecret")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("scopes", &self.scopes)
            .field("value", &shown(&self.value))
            .field("env_values", &env_values)
            .finish()
    }
}

/// What a document (of a site or an organization) is for, which decides which secrets take part and which values are
/// decrypted at all (ARCHITECTURE §3).
#[derive(Debug, Clone, Copy)]
pub enum View<'a> {
    /// For a person (the management API, `local-generate`): every secret (of the site and of its
    /// owner organization), every environment, and each owner's values only where that owner's
    /// own secret carries `user`; the others are `null` and never decrypted.
    Shown,
    /// For a runtime (`web`) or a build (`ic`) in `env`: only secrets carrying `scope` take part,
    /// on each side, so a site secret outside the scope never hides the organization's secret of
    /// the same name; only the default values and `env`'s overrides are decrypted.
    Scope {
        /// [`Scope::Web`] or [`Scope::Ic`].
        scope: &'a Scope,
        /// The environment.
        env: &'a str,
    },
}

/// What a create-or-update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// A new secret.
    Created,
    /// A new default value for an existing secret.
    Updated,
}

/// One entry of the audit trail. Never a value.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AuditEvent {
    /// When (UTC), filled in by the database.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub at: String,
    /// Who: `user:NAME`, `binding:SERIAL`, `operator`.
    pub actor: String,
    /// What, e.g. `secret.create`, `runtime.read`.
    pub action: String,
    /// The organization or site, e.g. `site:s1`.
    pub target: Option<String>,
    /// The secret's name.
    pub name: Option<String>,
    /// The environment.
    pub env: Option<String>,
    /// Anything else worth knowing (names read, counts) — never a value.
    pub detail: Option<String>,
}

/// Checks an organization or site id: 1–64 of `[A-Za-z0-9_-]`.
pub fn check_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid("invalid_id", format!("a {what} id is 1 to 64 of A-Z a-z 0-9 - _")))
    }
}

/// Checks the name of a new organization or site: an id (see [`check_id`]) that does not have the
/// form of a UUID, so that a name and a UUID never mean two different things.
pub fn check_new_name(what: &str, name: &str) -> Result<()> {
    check_id(what, name)?;
    if parse_uuid(name).is_some() {
        return Err(StoreError::invalid(
            "invalid_id",
            format!("a {what} name cannot have the form of a UUID (give the UUID with --uuid)"),
        ));
    }
    Ok(())
}

/// A UUID in its canonical text form (8-4-4-4-12 hex digits, either case), lowercased; `None`
/// for anything else.
pub fn parse_uuid(text: &str) -> Option<String> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let ok = groups.len() == lengths.len()
        && groups.iter().zip(lengths).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then(|| text.to_ascii_lowercase())
}

/// Checks a UUID given for an import and returns it lowercased.
pub fn check_uuid(what: &str, text: &str) -> Result<String> {
    parse_uuid(text).ok_or_else(|| {
        StoreError::invalid(
            "invalid_uuid",
            format!(
                "a {what} UUID is 32 hex digits as 8-4-4-4-12, e.g. 3f6c2c5e-8d3b-4c59-9a55-0d1e7a1b2c3d"
            ),
        )
    })
}

/// A new random (version 4) UUID.
pub fn new_uuid() -> String {
    let mut b = crate::crypto::random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::crypto::to_hex(&b);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Checks an environment name: `dev`, `test`, `live` or a multidev (`[a-z0-9][a-z0-9-]*`, at
/// most 63 bytes); `default` is reserved for the organization's value that applies everywhere.
pub fn check_env(env: &str) -> Result<()> {
    let ok = !env.is_empty()
        && env.len() <= 63
        && env.as_bytes()[0].is_ascii_alphanumeric()
        && env.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && env != secrets_core::resolve::ORG_DEFAULT;
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "invalid_env",
            "an environment is dev, test, live or a multidev name ([a-z0-9][a-z0-9-]*, not 'default')",
        ))
    }
}

/// Whether builds (Integrated Composer) may run in this environment: dev and multidevs.
pub fn build_env_allowed(env: &str) -> bool {
    env != "test" && env != "live"
}

/// The type a secret is created with: [`DEFAULT_TYPE`] when none is given, else one of
/// [`SecretType::KNOWN`] or [`OTHER_TYPES`].
pub fn check_type(kind: Option<&str>) -> Result<SecretType> {
    let Some(name) = kind else { return Ok(DEFAULT_TYPE) };
    match SecretType::parse(name) {
        SecretType::Other(other) if !OTHER_TYPES.contains(&other.as_str()) => {
            let known = SecretType::KNOWN.iter().map(SecretType::as_str).chain(OTHER_TYPES.iter().copied());
            Err(StoreError::invalid(
                "invalid_type",
                format!("unknown type '{other}': types are {}", known.collect::<Vec<_>>().join(", ")),
            ))
        }
        kind => Ok(kind),
    }
}

pub(super) fn check_secret_name(name: &str, kind: &SecretType) -> Result<()> {
    let named = match kind {
        SecretType::Env => check_env_name(name.as_bytes()),
        _ => check_name(name.as_bytes()),
    };
    named.map_err(|reason| StoreError::invalid("invalid_name", reason.to_string()))
}

pub(super) fn check_secret_value(value: &str) -> Result<()> {
    check_value(value).map_err(|reason| StoreError::invalid("invalid_value", reason))
}

/// Validates and normalizes scopes: known ones, at least one, no duplicates, order kept.
pub fn normalize_scopes(scopes: &[String]) -> Result<Vec<Scope>> {
    let mut out: Vec<Scope> = Vec::new();
    for name in scopes.iter().flat_map(|s| s.split(',')).map(str::trim) {
        let Some(scope) = Scope::known(name) else {
            return Err(StoreError::invalid(
                "invalid_scope",
                format!("unknown scope '{name}': scopes are web, ic and user"),
            ));
        };
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    if out.is_empty() {
        return Err(StoreError::invalid("invalid_scope", "a secret needs at least one scope"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_env_accepts_multidevs_refuses_default() {
        for ok in ["dev", "test", "live", "pr-12"] {
            assert!(check_env(ok).is_ok(), "{ok}");
        }
        for bad in ["", "default", "Dev", "-x", "a.b"] {
            assert!(check_env(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parse_uuid_canonical_form_only_lowercased() {
        let id = "3F6C2C5E-8d3b-4c59-9a55-0d1e7a1b2c3d";
        assert_eq!(parse_uuid(id).as_deref(), Some("3f6c2c5e-8d3b-4c59-9a55-0d1e7a1b2c3d"));
        for bad in ["", "s1", "3f6c2c5e8d3b4c599a550d1e7a1b2c3d", "3f6c2c5e-8d3b-4c59-9a55-0d1e7a1b2c3g"] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
        let fresh = new_uuid();
        assert_eq!(parse_uuid(&fresh).as_deref(), Some(fresh.as_str()));
        assert_eq!(&fresh[14..15], "4", "version 4");
        assert_ne!(new_uuid(), fresh);
    }

    #[test]
    fn check_new_name_refuses_uuid_form() {
        assert!(check_new_name("site", "my-site").is_ok());
        assert!(check_new_name("site", &new_uuid()).is_err());
        assert!(check_new_name("site", "bad name").is_err());
    }

    #[test]
    fn normalize_scopes_known_deduplicated_not_empty() {
        let got = normalize_scopes(&["web,user".to_string(), "web".to_string()]).unwrap();
        assert_eq!(got, ["web", "user"]);
        assert!(normalize_scopes(&[]).is_err());
        assert!(normalize_scopes(&["all".to_string()]).is_err());
    }

    #[test]
    fn check_type_known_and_pantheon_types_only() {
        assert_eq!(check_type(None).unwrap(), SecretType::Runtime);
        assert_eq!(check_type(Some("composer")).unwrap(), SecretType::Composer);
        assert_eq!(check_type(Some("vcs")).unwrap(), SecretType::Other("vcs".into()));
        let err = check_type(Some("bogus")).unwrap_err().to_string();
        assert!(err.contains("unknown type 'bogus': types are runtime, env, composer, file, vcs"), "{err}");
    }

    #[test]
    fn stored_secret_debug_never_shows_a_value() {
        const CANARY: &str = "canary-7d30e2";
        let secret = StoredSecret {
            name: "K".into(),
            kind: SecretType::Runtime,
            scopes: vec![Scope::Web],
            value: Some(Value::new(format!("{CANARY}-default"))),
            env_values: BTreeMap::from([("live".to_string(), Some(Value::new(format!("{CANARY}-live"))))]),
        };
        let shown = format!("{secret:?}");
        assert!(!shown.contains(CANARY), "a value in {shown}");
        assert!(shown.contains("[REDACTED]") && shown.contains("live"), "{shown}");
    }
}
