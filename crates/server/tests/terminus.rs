//! The management API as Pantheon's Terminus secrets plugin speaks it: the raw token in
//! `Authorization`, error bodies that decode to a string (the code in `X-Error-Code`), a create
//! over an existing secret answered 400 with "PATCH", idempotent override deletion, type `vcs`,
//! and sites and organizations named by name or UUID.

mod common;

use common::{text, Service};
use reqwest::blocking::{Client, Response};
use reqwest::Method;
use secrets_server::messages;
use serde_json::{json, Value as Json};

const SITE_UUID: &str = "3f6c2c5e-8d3b-4c59-9a55-0d1e7a1b2c3d";
const ORG_UUID: &str = "0b7ad2b4-1c4e-4c1a-8f55-6c2d9e3a7f10";

fn service() -> Service {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["org:create", "acme", "--uuid", ORG_UUID]);
    svc.op(&["site:create", "s1", "--org", "acme", "--uuid", SITE_UUID]);
    svc
}

/// A request as the plugin sends it: `Authorization` exactly as given, `Accept: application/json`.
fn raw(svc: &Service, method: Method, path: &str, authorization: &str, body: Option<Json>) -> Response {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    let client = Client::builder().use_rustls_tls().add_root_certificate(ca).build().unwrap();
    let mut request = client
        .request(method, format!("{}/customer-secrets/v1{path}", svc.url))
        .header("Accept", "application/json")
        .header("Authorization", authorization);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().unwrap()
}

/// Status, `X-Error-Code` and the body decoded as JSON.
fn answer(response: Response) -> (u16, Option<String>, Json) {
    let status = response.status().as_u16();
    let code = response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_string());
    let body = response.text().unwrap();
    (status, code, serde_json::from_str(&body).unwrap_or(Json::Null))
}

#[test]
fn plugin_raw_token_and_any_case_bearer_accepted() {
    let svc = service();
    let token = svc.token("alice", &["--org", "acme"]);
    for header in
        [token.clone(), format!("Bearer {token}"), format!("bearer {token}"), format!("BEARER {token}")]
    {
        let (status, _, doc) = answer(raw(&svc, Method::GET, "/sites/s1/secrets/showall", &header, None));
        assert_eq!(status, 200, "{header:.8}…: {doc}");
        assert!(doc["Secrets"].is_object(), "{doc}");
    }
    for header in [format!("Basic {token}"), "pss_0000".to_string(), String::new(), "Bearer".into()] {
        let (status, code, _) = answer(raw(&svc, Method::GET, "/sites/s1/secrets/showall", &header, None));
        assert_eq!((status, code.as_deref()), (401, Some("unauthorized")), "{header:.10}");
    }
}

#[test]
fn errors_decode_to_the_message_code_in_header() {
    let svc = service();
    let admin = &svc.admin;
    let outsider = svc.token("eve", &[]);
    let cases = [
        (raw(&svc, Method::GET, "/sites/s1/secrets/showall", "pss_0000", None), 401, "unauthorized"),
        (raw(&svc, Method::GET, "/sites/s1/secrets/showall", &outsider, None), 403, "forbidden"),
        (
            raw(
                &svc,
                Method::PATCH,
                "/sites/s1/secrets/NOPE",
                admin,
                Some(json!({"value": "x", "env": "live"})),
            ),
            404,
            "secret_not_found",
        ),
        (
            raw(&svc, Method::POST, "/sites/s1/secrets", admin, Some(json!({"name": "a b", "value": "x"}))),
            400,
            "invalid_name",
        ),
        (raw(&svc, Method::GET, "/no/such/path", admin, None), 404, "not_found"),
    ];
    for (response, status, code) in cases {
        let (got_status, got_code, body) = answer(response);
        assert_eq!((got_status, got_code.as_deref()), (status, Some(code)), "{body}");
        let message = body.as_str().unwrap_or_else(|| panic!("{code}: the body is a JSON string: {body}"));
        assert!(!message.is_empty(), "{code}");
    }
    let (_, _, body) = answer(raw(
        &svc,
        Method::PATCH,
        "/sites/s1/secrets/NOPE",
        admin,
        Some(json!({"value": "x", "env": "live"})),
    ));
    assert_eq!(body, json!(messages::secret_missing_default("NOPE")));
}

#[test]
fn create_over_existing_secret_400_says_patch() {
    let svc = service();
    let admin = &svc.admin;
    let create = |body: Json| answer(raw(&svc, Method::POST, "/sites/s1/secrets", admin, Some(body)));
    assert_eq!(create(json!({"name": "K", "value": "v1", "scopes": ["web", "user"]})).0, 201);
    for body in [
        json!({"name": "K", "value": "v2"}),
        json!({"name": "K", "value": "v2", "type": "env"}),
        json!({"name": "K", "value": "v2", "scopes": ["web"]}),
    ] {
        let (status, code, message) = create(body);
        assert_eq!((status, code.as_deref()), (400, Some("secret_exists")), "{message}");
        assert!(message.as_str().unwrap().contains("PATCH"), "{message}");
    }
    let (_, _, doc) = answer(raw(&svc, Method::GET, "/sites/s1/secrets/showall", admin, None));
    assert_eq!(doc["Secrets"]["K"]["Value"], "v1", "a refused create changes nothing");
    // The plugin then re-sends the value as a PATCH.
    let (status, _, _) =
        answer(raw(&svc, Method::PATCH, "/sites/s1/secrets/K", admin, Some(json!({"value": "v3"}))));
    assert_eq!(status, 200);
    let (_, _, doc) = answer(raw(&svc, Method::GET, "/sites/s1/secrets/showall", admin, None));
    assert_eq!(doc["Secrets"]["K"]["Value"], "v3");
    // Our CLI does the same: without type and scopes it updates, with them it says why not.
    svc.admin_cli(&["secret:org:set", "acme", "O", "o1"]);
    let out = svc.admin_cli(&["secret:org:set", "acme", "O", "o2"]);
    assert!(out.contains(messages::SECRET_SET), "{out}");
    let out = svc.cli(admin, &["secret:org:set", "acme", "O", "o3", "--scope=web"]);
    assert!(!out.status.success());
    assert!(text(&out).contains(&messages::secret_exists("O")), "{}", text(&out));
    let (_, _, doc) = answer(raw(&svc, Method::GET, "/organizations/acme/secrets", admin, None));
    assert_eq!(doc["Secrets"]["O"]["Value"], "o2");
}

#[test]
fn override_delete_idempotent_and_audited() {
    let svc = service();
    let admin = &svc.admin;
    svc.admin_cli(&["secret:site:set", "s1", "K", "base", "--scope=web,user"]);
    svc.admin_cli(&["secret:site:set", "s1.live", "K", "live-v"]);
    let delete = |env: &str| {
        answer(raw(
            &svc,
            Method::PATCH,
            "/sites/s1/secrets/K",
            admin,
            Some(json!({"env": env, "value": null})),
        ))
    };
    assert_eq!(delete("live").0, 200, "an existing override");
    let (status, code, body) = delete("live");
    assert_eq!((status, code), (200, None), "again: {body}");
    assert_eq!(delete("test").0, 200, "one that never existed");
    let (status, _, _) = answer(raw(&svc, Method::DELETE, "/sites/s1/secrets/K?env=test", admin, None));
    assert_eq!(status, 204);
    // The secret itself must exist: a mistyped name is still an error.
    let (status, code, _) = answer(raw(
        &svc,
        Method::PATCH,
        "/sites/s1/secrets/NOPE",
        admin,
        Some(json!({"env": "live", "value": null})),
    ));
    assert_eq!((status, code.as_deref()), (404, Some("secret_not_found")));
    let out = svc.admin_cli(&["secret:site:delete", "s1.dev", "K"]);
    assert!(out.contains(messages::OVERRIDE_DELETED), "{out}");
    let deletion = |e: &&Json| e["action"] == "secret.override.delete";
    let events = svc.audit_when(|events| events.iter().filter(deletion).count() >= 5);
    let deletions: Vec<&Json> = events.iter().filter(deletion).collect();
    assert_eq!(deletions.len(), 5, "each deletion is audited: {events:?}");
    let absent = deletions.iter().filter(|e| e["detail"] == "no override to delete").count();
    assert_eq!(absent, 4, "{events:?}");
    let (_, _, doc) = answer(raw(&svc, Method::GET, "/sites/s1/secrets/showall", admin, None));
    assert_eq!(doc["Secrets"]["K"]["Value"], "base");
}

#[test]
fn type_vcs_accepted() {
    let svc = service();
    let (status, _, body) = answer(raw(
        &svc,
        Method::POST,
        "/sites/s1/secrets",
        &svc.admin,
        Some(json!({"name": "REPO_KEY", "value": "k", "type": "vcs", "scopes": ["ic"]})),
    ));
    assert_eq!(status, 201, "{body}");
    svc.admin_cli(&["secret:site:set", "s1", "OTHER", "k", "--type=vcs", "--scope=ic"]);
    let (_, _, doc) = answer(raw(&svc, Method::GET, "/sites/s1/secrets/showall", &svc.admin, None));
    assert_eq!(doc["Secrets"]["REPO_KEY"]["Type"], "vcs");
    assert_eq!(doc["Secrets"]["OTHER"]["Type"], "vcs");
    let (status, code, _) = answer(raw(
        &svc,
        Method::POST,
        "/sites/s1/secrets",
        &svc.admin,
        Some(json!({"name": "X", "value": "k", "type": "bogus"})),
    ));
    assert_eq!((status, code.as_deref()), (400, Some("invalid_type")));
}

#[test]
fn sites_and_orgs_by_name_or_uuid() {
    let svc = service();
    let admin = &svc.admin;
    // Created by UUID path, read by name, and the other way round.
    let (status, _, body) = answer(raw(
        &svc,
        Method::POST,
        &format!("/sites/{SITE_UUID}/secrets"),
        admin,
        Some(json!({"name": "K", "value": "v", "scopes": ["web", "user"]})),
    ));
    assert_eq!(status, 201, "{body}");
    let upper = SITE_UUID.to_ascii_uppercase();
    for id in ["s1", SITE_UUID, upper.as_str()] {
        let (status, _, doc) =
            answer(raw(&svc, Method::GET, &format!("/sites/{id}/secrets/showall"), admin, None));
        assert_eq!((status, &doc["Secrets"]["K"]["Value"]), (200, &json!("v")), "{id}");
    }
    svc.admin_cli(&["secret:org:set", ORG_UUID, "O", "o", "--scope=web,user"]);
    let (_, _, doc) = answer(raw(&svc, Method::GET, "/organizations/acme/secrets", admin, None));
    assert_eq!(doc["Secrets"]["O"]["Value"], "o");
    svc.admin_cli(&["secret:site:set", &format!("{SITE_UUID}.live"), "K", "live-v"]);
    let doc = svc.runtime(&svc.binding(&format!("{SITE_UUID}.live"), &[]));
    assert_eq!(common::value(&doc, "K"), Some("live-v"));
    assert_eq!(common::value(&doc, "O"), Some("o"), "the owner organization, given by UUID at creation");
    // Grants by UUID reach the site by name, and the reverse; others are refused either way.
    let by_uuid = svc.token("alice", &["--site", SITE_UUID]);
    let by_name = svc.token("bob", &["--org", "acme"]);
    let outsider = svc.token("eve", &[]);
    for (token, path, want) in [
        (&by_uuid, "/sites/s1/secrets/showall".to_string(), 200),
        (&by_name, format!("/sites/{SITE_UUID}/secrets/showall"), 200),
        (&by_name, format!("/organizations/{ORG_UUID}/secrets"), 200),
        (&by_uuid, format!("/organizations/{ORG_UUID}/secrets"), 403),
        (&outsider, format!("/sites/{SITE_UUID}/secrets/showall"), 403),
        (&outsider, format!("/organizations/{ORG_UUID}/secrets"), 403),
    ] {
        assert_eq!(answer(raw(&svc, Method::GET, &path, token, None)).0, want, "{path}");
    }
    // The list commands show both; an unknown UUID is not found; names cannot look like UUIDs.
    let sites: Json = serde_json::from_str(&svc.op(&["site:list", "--format", "json"])).unwrap();
    assert_eq!(sites, json!([{"name": "s1", "uuid": SITE_UUID, "org": "acme", "supporting_orgs": []}]));
    let orgs = svc.op(&["org:list"]);
    assert!(orgs.contains("acme") && orgs.contains(ORG_UUID), "{orgs}");
    let (status, code, _) = answer(raw(
        &svc,
        Method::GET,
        "/sites/00000000-0000-4000-8000-000000000000/secrets/showall",
        admin,
        None,
    ));
    assert_eq!((status, code.as_deref()), (404, Some("site_not_found")));
    let out = svc.op_output(&["site:create", "11111111-2222-4333-8444-555555555555"]);
    assert!(!out.status.success() && text(&out).contains("UUID"), "{}", text(&out));
    let out = svc.op_output(&["site:create", "s2", "--uuid", SITE_UUID]);
    assert!(!out.status.success() && text(&out).contains("already exists"), "{}", text(&out));
    let out = svc.op_output(&["org:create", "o2", "--uuid", "not-a-uuid"]);
    assert!(!out.status.success() && text(&out).contains("8-4-4-4-12"), "{}", text(&out));
    let fresh = svc.op(&["site:create", "s3"]);
    assert!(secrets_server::store::parse_uuid(&fresh).is_some(), "site:create prints the new UUID: {fresh}");
}
