//! A sealed value is bound to its secret's type and scopes, so a row changed in the database
//! fails to open rather than showing its value; a database of the previous version is re-sealed
//! when it is first opened, and reads the same.

mod common;

use std::path::Path;

use common::{value, Service};
use serde_json::json;

/// With write access to the database, flipping a secret's scopes (to reach its value through
/// the list) or its type makes the value fail to open: an error, never the value.
#[test]
fn flipped_scopes_or_type_fail_to_decrypt_instead_of_showing_the_value() {
    let svc = Service::with_acme_s1();
    let admin = svc.api(&svc.admin);
    let body = json!({"name": "HIDDEN", "value": "web-only-value-2b7d", "scopes": ["web"]});
    assert_eq!(admin.post("/sites/s1/secrets", body).0, 201);
    let pem = svc.binding("s1.dev", &[]);
    assert_eq!(value(&svc.runtime(&pem), "HIDDEN"), Some("web-only-value-2b7d"));
    let (status, doc) = admin.get("/sites/s1/secrets/showall");
    assert_eq!((status, &doc["Secrets"]["HIDDEN"]["Value"]), (200, &serde_json::Value::Null));

    let db = rusqlite::Connection::open(svc.data.join("secrets.db")).unwrap();
    db.execute("UPDATE secrets SET scopes = 'web,user' WHERE name = 'HIDDEN'", []).unwrap();
    let response = admin.request(reqwest::Method::GET, "/sites/s1/secrets/showall", None);
    let status = response.status().as_u16();
    let code = response.headers().get("x-error-code").and_then(|v| v.to_str().ok()).map(str::to_string);
    let raw = response.text().unwrap();
    assert!(!raw.contains("web-only-value-2b7d"), "{raw}");
    assert_eq!(status, 500, "{raw}");
    assert_eq!(code.as_deref(), Some("decrypt_failed"), "{raw}");
    assert!(serde_json::from_str::<serde_json::Value>(&raw).unwrap().is_string(), "{raw}");

    db.execute("UPDATE secrets SET scopes = 'web', type = 'env' WHERE name = 'HIDDEN'", []).unwrap();
    let (status, body) = svc.runtime_with(Some(&pem)).unwrap();
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("web-only-value-2b7d"), "{body}");

    db.execute("UPDATE secrets SET type = 'runtime' WHERE name = 'HIDDEN'", []).unwrap();
    assert_eq!(value(&svc.runtime(&pem), "HIDDEN"), Some("web-only-value-2b7d"), "restored, it opens");
}

/// A database and key file written by the previous version (tests/fixtures/store-v2) read the
/// same after the upgrade re-sealed them, and the re-sealed rows are bound to type and scopes.
#[test]
fn database_of_the_previous_version_reads_after_upgrade() {
    let mut svc = Service::start_with_rate(0.0);
    svc.stop();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v2");
    for name in ["secrets.db-wal", "secrets.db-shm"] {
        let _ = std::fs::remove_file(svc.data.join(name));
    }
    for name in ["secrets.db", "master.key"] {
        std::fs::copy(fixture.join(name), svc.data.join(name)).unwrap();
    }
    let token = svc.op(&["token:create", "upgrader", "--admin"]);
    svc.serve();
    let (status, doc) = svc.api(&token).get("/sites/s1/secrets/showall");
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["Secrets"]["SITE_USER"]["Value"], "site-user-value");
    assert_eq!(doc["Secrets"]["SITE_USER"]["EnvValues"]["live"], "site-user-live");
    assert_eq!(doc["Secrets"]["AFTER_ROTATE"]["Value"], "after-rotate-value");
    assert_eq!(doc["Secrets"]["ORG_WEB"]["OrgValues"]["live"], "org-web-live");
    let live = svc.runtime(&svc.binding("s1.live", &[]));
    assert_eq!(value(&live, "ORG_WEB"), Some("org-web-live"));
    assert_eq!(value(&live, "SITE_WEB"), Some("site-web-value"));
    let build = svc.runtime(&svc.binding("s1.dev", &["--build"]));
    assert_eq!(value(&build, "github-oauth.github.com"), Some("site-gh-token"));
    // Re-sealed: the old rows are now bound to their scopes too.
    let db = rusqlite::Connection::open(svc.data.join("secrets.db")).unwrap();
    db.execute("UPDATE secrets SET scopes = 'web,user' WHERE name = 'SITE_WEB'", []).unwrap();
    let (status, body) = svc.api(&token).get("/sites/s1/secrets/showall");
    assert_eq!((status, body["code"].as_str()), (500, Some("decrypt_failed")), "{body}");
}
