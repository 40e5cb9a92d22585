//! The rules of ARCHITECTURE §7 and §3 as users meet them: type and scopes fixed at creation,
//! overrides only for existing secrets, size and name limits — with the Terminus messages.

mod common;

use common::{text, Service};
use secrets_core::validate::MAX_VALUE_BYTES;
use secrets_server::messages;
use serde_json::json;

#[test]
fn set_type_and_scopes_immutable() {
    let svc = Service::with_acme_s1();
    let out = svc.admin_cli(&["secret:site:set", "s1", "K", "v1", "--type=env", "--scope=web,user"]);
    assert!(out.contains(messages::SECRET_SET), "{out}");
    for extra in ["--type=runtime", "--scope=web", "--type=env"] {
        let out = svc.cli(&svc.admin, &["secret:site:set", "s1", "K", "v2", extra]);
        assert!(!out.status.success());
        assert!(text(&out).contains(&messages::secret_exists("K")), "{}", text(&out));
    }
    // Omitting them updates the value and keeps type and scopes.
    svc.admin_cli(&["secret:site:set", "s1", "K", "v3"]);
    let (_, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
    assert_eq!(doc["Secrets"]["K"]["Value"], "v3");
    assert_eq!(doc["Secrets"]["K"]["Type"], "env");
    assert_eq!(doc["Secrets"]["K"]["Scopes"], json!(["web", "user"]));
    // Same for organizations, through the API: 400 with a stable code, as Pantheon answers.
    let api = svc.api(&svc.admin);
    assert_eq!(api.post("/organizations/acme/secrets", json!({"name": "O", "value": "o"})).0, 201);
    let (status, body) =
        api.post("/organizations/acme/secrets", json!({"name": "O", "value": "o", "scopes": ["web"]}));
    assert_eq!(status, 400);
    assert_eq!(body["code"], "secret_exists");
    assert_eq!(body["message"], messages::secret_exists_use_patch("O"));
}

#[test]
fn set_defaults_runtime_and_user() {
    let svc = Service::with_acme_s1();
    svc.admin_cli(&["secret:site:set", "s1", "D", "d"]);
    let (_, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
    assert_eq!(doc["Secrets"]["D"]["Type"], "runtime");
    assert_eq!(doc["Secrets"]["D"]["Scopes"], json!(["user"]));
}

#[test]
fn override_of_missing_secret_refused() {
    let svc = Service::with_acme_s1();
    let out = svc.cli(&svc.admin, &["secret:site:set", "s1.live", "NOPE", "x"]);
    assert!(!out.status.success());
    assert!(text(&out).contains(&messages::secret_missing_default("NOPE")), "{}", text(&out));
    let out = svc.cli(&svc.admin, &["secret:org:set", "acme", "NOPE", "x", "--env=live"]);
    assert!(text(&out).contains(&messages::secret_missing_default("NOPE")), "{}", text(&out));
    let (status, body) =
        svc.api(&svc.admin).patch("/sites/s1/secrets/NOPE", json!({"value": "x", "env": "dev"}));
    assert_eq!(status, 404);
    assert_eq!(body["code"], "secret_not_found");
}

#[test]
fn override_delete_with_null_and_cli() {
    let svc = Service::with_acme_s1();
    svc.admin_cli(&["secret:site:set", "s1", "K", "base", "--scope=web,user"]);
    svc.admin_cli(&["secret:site:set", "s1.live", "K", "live-v"]);
    svc.admin_cli(&["secret:site:set", "s1.test", "K", "test-v"]);
    let api = svc.api(&svc.admin);
    assert_eq!(api.patch("/sites/s1/secrets/K", json!({"value": null, "env": "live"})).0, 200);
    let out = svc.admin_cli(&["secret:site:delete", "s1.test", "K"]);
    assert!(out.contains(messages::OVERRIDE_DELETED), "{out}");
    let (_, doc) = api.get("/sites/s1/secrets/showall");
    assert_eq!(doc["Secrets"]["K"]["Value"], "base");
    assert!(doc["Secrets"]["K"].get("EnvValues").is_none(), "{doc}");
    svc.admin_cli(&["secret:site:delete", "s1", "K"]);
    let (_, doc) = api.get("/sites/s1/secrets/showall");
    assert!(doc["Secrets"].get("K").is_none(), "{doc}");
    let out = svc.cli(&svc.admin, &["secret:site:delete", "s1", "K"]);
    assert!(text(&out).contains(&messages::secret_missing("K")));
}

#[test]
fn value_limit_16384_accepted_16385_refused() {
    let svc = Service::with_acme_s1();
    let api = svc.api(&svc.admin);
    let ok = "v".repeat(MAX_VALUE_BYTES);
    let big = "w".repeat(MAX_VALUE_BYTES + 1);
    let body = |v: &str| json!({"name": "BIG", "value": v, "scopes": ["web", "user"]});
    assert_eq!(api.post("/sites/s1/secrets", body(&ok)).0, 201);
    let (status, err) = api.post("/sites/s1/secrets", json!({"name": "BIG2", "value": big}));
    assert_eq!(status, 400);
    assert_eq!(err["code"], "invalid_value");
    assert!(!err.to_string().contains("www"), "never echo the value");
    let (status, _) = api.patch("/sites/s1/secrets/BIG", json!({"value": big, "env": "live"}));
    assert_eq!(status, 400);
    let doc = svc.runtime(&svc.binding("s1.live", &[]));
    assert_eq!(common::value(&doc, "BIG").map(str::len), Some(MAX_VALUE_BYTES));
    // Through the CLI too.
    let out = svc.cli(&svc.admin, &["secret:site:set", "s1", "BIG", &big]);
    assert!(!out.status.success());
    assert!(text(&out).contains("16385"), "{}", text(&out));
}

#[test]
fn bad_names_and_env_type_names_refused() {
    let svc = Service::with_acme_s1();
    let api = svc.api(&svc.admin);
    let long = "n".repeat(256);
    for name in ["", "two words", "tab\tname", "clé", long.as_str()] {
        let (status, body) = api.post("/sites/s1/secrets", json!({"name": name, "value": "x"}));
        assert_eq!(status, 400, "{name:?}: {body}");
        assert_eq!(body["code"], "invalid_name");
    }
    assert_eq!(api.post("/sites/s1/secrets", json!({"name": "n".repeat(255), "value": "x"})).0, 201);
    for name in ["9LIVES", "A-B", "github-oauth.github.com"] {
        let (status, body) =
            api.post("/sites/s1/secrets", json!({"name": name, "value": "x", "type": "env"}));
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body["message"].as_str().unwrap().contains("env-type"), "{body}");
    }
    assert_eq!(
        api.post("/sites/s1/secrets", json!({"name": "NPM_TOKEN", "value": "x", "type": "env"})).0,
        201
    );
    let (status, body) = api.post("/sites/s1/secrets", json!({"name": "T", "value": "x", "type": "bogus"}));
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_type")));
    let (status, body) =
        api.post("/sites/s1/secrets", json!({"name": "S", "value": "x", "scopes": ["web", "all"]}));
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_scope")));
    let (status, body) = api.patch("/sites/s1/secrets/NPM_TOKEN", json!({"value": "x", "env": "default"}));
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_env")));
}

#[test]
fn malformed_body_never_echoed() {
    let svc = Service::with_acme_s1();
    let api = svc.api(&svc.admin);
    let (status, body) =
        api.post("/sites/s1/secrets", json!({"name": "K", "value": "v", "scopes": "sk_live_SECRET"}));
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_request");
    assert!(!body.to_string().contains("sk_live_SECRET"), "{body}");
}
