//! Each owner's values are shown by that owner's own scopes, and a runtime or a build merges site
//! and organization within its own scope (ARCHITECTURE §3): a site secret of the same name outside the
//! scope neither reveals nor hides the organization's.

mod common;

use common::{text, value, Service};
use serde_json::json;

/// A user who reaches only site s1 names a site secret after an organization secret that has no
/// `user` scope and gives it `user`: the organization's values stay hidden from the list and
/// from `local-generate`.
#[test]
fn showall_org_values_redacted_by_the_org_secrets_own_scopes() {
    let svc = Service::with_acme_s1();
    let admin = svc.api(&svc.admin);
    let org_secret = json!({"name": "TOKEN", "value": "org-web-only-9c1e", "scopes": ["web"]});
    assert_eq!(admin.post("/organizations/acme/secrets", org_secret).0, 201);
    admin.patch("/organizations/acme/secrets/TOKEN", json!({"value": "org-live-only-77ab", "env": "live"}));
    let user = svc.api(&svc.token("mallory", &["--site", "s1"]));
    let (status, body) =
        user.post("/sites/s1/secrets", json!({"name": "TOKEN", "value": "mine", "scopes": ["user"]}));
    assert_eq!(status, 201, "{body}");

    let response = user.request(reqwest::Method::GET, "/sites/s1/secrets/showall", None);
    assert_eq!(response.status().as_u16(), 200);
    let raw = response.text().unwrap();
    assert!(!raw.contains("org-web-only-9c1e") && !raw.contains("org-live-only-77ab"), "{raw}");
    let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(doc["Secrets"]["TOKEN"]["Value"], "mine", "the site's own user value is shown");

    let file = svc.dir.join("local.json");
    let out =
        svc.cli(&user.token, &["secret:site:local-generate", "s1", "--filepath", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(!written.contains("org-web-only-9c1e") && !written.contains("org-live-only-77ab"), "{written}");
    assert!(written.contains("mine"));

    // The other way round: the organization's `user` values stay visible under a site secret
    // without `user`, whose own value stays hidden.
    let org_secret = json!({"name": "SHARED", "value": "org-user-5d2f", "scopes": ["user"]});
    assert_eq!(admin.post("/organizations/acme/secrets", org_secret).0, 201);
    let site_secret = json!({"name": "SHARED", "value": "site-web-3e8a", "scopes": ["web"]});
    assert_eq!(admin.post("/sites/s1/secrets", site_secret).0, 201);
    let (status, doc) = user.get("/sites/s1/secrets/showall");
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["Secrets"]["SHARED"]["Value"], serde_json::Value::Null);
    assert_eq!(doc["Secrets"]["SHARED"]["OrgValues"]["default"], "org-user-5d2f");
}

/// A site secret of the same name but without `web` (or `ic`) does not hide the organization's
/// secret of that scope from the runtime (or the build), and its own value stays out.
#[test]
fn runtime_site_secret_outside_the_scope_keeps_the_org_value() {
    let svc = Service::with_acme_s1();
    let admin = svc.api(&svc.admin);
    for (owner, name, value, kind, scope) in [
        ("organizations/acme", "API_KEY", "org-web-41aa", "runtime", "web"),
        ("sites/s1", "API_KEY", "site-user-0f3c", "runtime", "user"),
        ("organizations/acme", "github-oauth.github.com", "org-ic-8b2d", "composer", "ic"),
        ("sites/s1", "github-oauth.github.com", "site-web-6e19", "composer", "web"),
    ] {
        let body = json!({"name": name, "value": value, "type": kind, "scopes": [scope]});
        let (status, body) = admin.post(&format!("/{owner}/secrets"), body);
        assert_eq!(status, 201, "{body}");
    }
    let web = svc.runtime(&svc.binding("s1.dev", &[]));
    assert_eq!(value(&web, "API_KEY"), Some("org-web-41aa"));
    assert_eq!(value(&web, "github-oauth.github.com"), Some("site-web-6e19"));
    assert!(!web.to_json().contains("site-user-0f3c") && !web.to_json().contains("org-ic-8b2d"));
    let build = svc.runtime(&svc.binding("s1.dev", &["--build"]));
    assert_eq!(value(&build, "github-oauth.github.com"), Some("org-ic-8b2d"));
    assert_eq!(build.secrets["github-oauth.github.com"].kind, "composer");
    assert!(!build.secrets.contains_key("API_KEY"));
}
