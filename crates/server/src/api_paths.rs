//! The API's paths and header names, in one place for the server (its routes) and the client
//! (the Terminus commands), so the two cannot drift apart (ARCHITECTURE §7).

/// The base path as a literal, for `concat!`.
macro_rules! base {
    () => {
        "/customer-secrets/v1"
    };
}

/// The base path of every endpoint, as on Pantheon.
pub const BASE: &str = base!();

/// Route template: create a site secret (`POST`).
pub const SITE_SECRETS: &str = concat!(base!(), "/sites/{site}/secrets");
/// Route template: a site's document, its organization's values included (`GET`).
pub const SITE_SHOWALL: &str = concat!(base!(), "/sites/{site}/secrets/showall");
/// Route template: one site secret (`PATCH`, `DELETE`).
pub const SITE_SECRET: &str = concat!(base!(), "/sites/{site}/secrets/{name}");
/// Route template: an organization's document (`GET`), create a secret (`POST`).
pub const ORG_SECRETS: &str = concat!(base!(), "/organizations/{org}/secrets");
/// Route template: one organization secret (`PATCH`, `DELETE`).
pub const ORG_SECRET: &str = concat!(base!(), "/organizations/{org}/secrets/{name}");
/// The runtime document of the calling binding (`GET`, client certificate).
pub const RUNTIME_SECRETS: &str = concat!(base!(), "/runtime/secrets");

/// The liveness endpoint.
pub const HEALTHZ: &str = "/healthz";
/// The readiness endpoint.
pub const READYZ: &str = "/readyz";
/// The metrics endpoint.
pub const METRICS: &str = "/metrics";

/// The response header of every error that carries its stable machine-readable code, e.g.
/// `X-Error-Code: secret_not_found`; the body is the message as a JSON string.
pub const ERROR_CODE_HEADER: &str = "x-error-code";

/// Whose secrets a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    /// `sites/{site}`.
    Site,
    /// `organizations/{org}`.
    Org,
}

impl OwnerKind {
    /// The path segment before the owner's id.
    pub fn segment(self) -> &'static str {
        match self {
            OwnerKind::Site => "sites",
            OwnerKind::Org => "organizations",
        }
    }
}

/// The segments after [`BASE`] of an owner's secrets: [`SITE_SECRETS`], [`ORG_SECRETS`].
pub fn secrets(kind: OwnerKind, id: &str) -> Vec<&str> {
    vec![kind.segment(), id, "secrets"]
}

/// The segments after [`BASE`] of one secret: [`SITE_SECRET`], [`ORG_SECRET`].
pub fn secret<'a>(kind: OwnerKind, id: &'a str, name: &'a str) -> Vec<&'a str> {
    vec![kind.segment(), id, "secrets", name]
}

/// The segments after [`BASE`] of an owner's document: [`SITE_SHOWALL`], [`ORG_SECRETS`].
pub fn document(kind: OwnerKind, id: &str) -> Vec<&str> {
    match kind {
        OwnerKind::Site => vec![kind.segment(), id, "secrets", "showall"],
        OwnerKind::Org => secrets(kind, id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the client builds is what the server routes: each segment list, joined under
    /// [`BASE`], is its route template with the parameters filled in.
    #[test]
    fn segments_match_route_templates() {
        let path = |segments: Vec<&str>| format!("{BASE}/{}", segments.join("/"));
        let fill =
            |template: &str| template.replace("{site}", "s1").replace("{org}", "acme").replace("{name}", "K");
        assert_eq!(path(secrets(OwnerKind::Site, "s1")), fill(SITE_SECRETS));
        assert_eq!(path(secrets(OwnerKind::Org, "acme")), fill(ORG_SECRETS));
        assert_eq!(path(secret(OwnerKind::Site, "s1", "K")), fill(SITE_SECRET));
        assert_eq!(path(secret(OwnerKind::Org, "acme", "K")), fill(ORG_SECRET));
        assert_eq!(path(document(OwnerKind::Site, "s1")), fill(SITE_SHOWALL));
        assert_eq!(path(document(OwnerKind::Org, "acme")), fill(ORG_SECRETS));
        assert!(RUNTIME_SECRETS.starts_with(BASE));
    }
}
