//! The operator commands of #17: tokens listed, revoked and expiring (401 at once on a running
//! service), bindings listed with their expiry, sites and organizations deleted only when
//! nothing depends on them (or with --force), the server certificate renewed under the same CA.
//! Every one is audited.

mod common;

use std::time::Duration;

use common::{text, Service};
use serde_json::{json, Value};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn audited(svc: &Service) -> Vec<String> {
    let events = json_of(&svc.op(&["audit:list", "--format", "json", "--limit", "1000"]));
    events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

engine_test! {
    fn token_revoke_refused_at_once_by_the_running_service(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["site:create", "s1"]);
        let token = svc.token("dana", &["--site", "s1"]);
        let other = svc.token("erin", &["--site", "s1"]);
        let api = svc.api(&token);
        assert_eq!(api.get("/sites/s1/secrets/showall").0, 200);
        let tokens = json_of(&svc.op(&["token:list", "--format", "json"]));
        let dana: Vec<&Value> = tokens.as_array().unwrap().iter().filter(|t| t["user"] == "dana").collect();
        assert_eq!(dana.len(), 1);
        assert_eq!(dana[0]["sites"], json!(["s1"]));
        let id = dana[0]["id"].as_str().unwrap();
        assert_eq!(id.len(), 12);
        let listed = svc.op(&["token:list"]);
        assert!(!listed.contains(&token) && !listed.contains(&token[4..]), "never the token: {listed}");
        assert!(listed.contains(id), "{listed}");

        svc.op(&["token:revoke", id]);
        let (status, body) = api.get("/sites/s1/secrets/showall");
        assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")), "{body}");
        assert_eq!(svc.api(&other).get("/sites/s1/secrets/showall").0, 200, "other tokens keep working");
        let again = svc.op_output(&["token:revoke", id]);
        assert!(!again.status.success());
        assert!(text(&again).contains(&format!("no token has id '{id}'")), "{}", text(&again));
        let bad = svc.op_output(&["token:revoke", "xyz"]);
        assert!(text(&bad).contains("a token id is 8 to 64 hex digits"), "{}", text(&bad));

        svc.op(&["token:revoke", "--user", "erin"]);
        assert_eq!(svc.api(&other).get("/sites/s1/secrets/showall").0, 401);
        let actions = audited(&svc);
        assert_eq!(actions.iter().filter(|a| *a == "token.revoke").count(), 2, "{actions:?}");
        assert!(actions.contains(&"token.list".to_string()));

        // audit:list filters: action, actor and target (exact or prefix with *), and time.
        let count = |args: &[&str]| -> usize {
            let mut all = vec!["audit:list", "--format", "json"];
            all.extend_from_slice(args);
            json_of(&svc.op(&all)).as_array().unwrap().len()
        };
        assert_eq!(count(&["--action", "token.revoke"]), 2);
        assert_eq!(count(&["--action", "token.revoke", "--target", "user:erin"]), 1);
        assert_eq!(count(&["--action", "token.*", "--actor", "operator"]), count(&["--action", "token.*"]));
        assert!(count(&["--action", "token.*"]) >= 6, "create x3, list x2, revoke x2");
        let (dana, erin) = (count(&["--actor", "user:dana"]), count(&["--actor", "user:erin"]));
        assert!(dana >= 1 && erin >= 1, "their reads are in the trail");
        assert_eq!(count(&["--actor", "user:*"]), dana + erin);
        assert_eq!(count(&["--actor", "user:"]), 0, "exact without *");
        assert_eq!(count(&["--since", "1h"]), count(&[]));
        assert_eq!(count(&["--until", "1h"]), 0);
        assert_eq!(count(&["--since", "2999-01-01T00:00:00Z"]), 0);
        let bad = svc.op_output(&["audit:list", "--since", "lately"]);
        assert!(text(&bad).contains("lately"), "{}", text(&bad));
    }
}

engine_test! {
    fn token_expires_then_401(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["site:create", "s1"]);
        let token = svc.token("fay", &["--site", "s1", "--expires", "2s"]);
        let api = svc.api(&token);
        assert_eq!(api.get("/sites/s1/secrets/showall").0, 200);
        let tokens = json_of(&svc.op(&["token:list", "--format", "json"]));
        let fay = tokens.as_array().unwrap().iter().find(|t| t["user"] == "fay").unwrap();
        assert!(fay["expires_at"].as_str().unwrap().ends_with('Z'), "{fay}");
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(api.get("/sites/s1/secrets/showall").0, 401, "expired");
        for bad in ["0d", "yesterday", "2000-01-01T00:00:00Z"] {
            let out = svc.op_output(&["token:create", "fay", "--expires", bad]);
            assert!(!out.status.success(), "{bad}");
            assert!(text(&out).contains(bad), "{bad}: {}", text(&out));
        }
    }
}

engine_test! {
    fn binding_list_states_and_issue_warns_near_expiry(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["site:create", "s1"]);
        let first = svc.dir.join("first.pem");
        let serial = svc.op(&["binding:issue", "s1.live", "--out", first.to_str().unwrap(), "--days", "10"]);
        let second = svc.dir.join("second.pem");
        let out = svc.op_output(&["binding:issue", "s1.live", "--out", second.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("[warning] Binding {serial} of s1.live expires")), "{stderr}");
        let quiet = svc.op_output(&["binding:issue", "s1.dev", "--out", svc.dir.join("d.pem").to_str().unwrap()]);
        assert!(!String::from_utf8_lossy(&quiet.stderr).contains("[warning]"), "another environment");
        svc.binding("s1.test", &["--days", "-1"]);
        let revoked = svc.op(&["binding:issue", "s1.test", "--out", svc.dir.join("r.pem").to_str().unwrap()]);
        svc.op(&["binding:revoke", "s1.test", "--serial", &revoked]);

        let all = json_of(&svc.op(&["binding:list", "--format", "json"]));
        let state = |serial: &str| {
            all.as_array().unwrap().iter().find(|b| b["serial"] == serial).unwrap()["state"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(state(&serial).starts_with("expires in "), "{all}");
        assert_eq!(state(&revoked), "revoked");
        assert_eq!(all.as_array().unwrap().len(), 5);
        let states: Vec<&str> = all.as_array().unwrap().iter().map(|b| b["state"].as_str().unwrap()).collect();
        assert!(states.contains(&"expired") && states.contains(&"active"), "{states:?}");
        let live = json_of(&svc.op(&["binding:list", "s1.live", "--format", "json"]));
        assert_eq!(live.as_array().unwrap().len(), 2);
        let table = svc.op(&["binding:list", "s1"]);
        assert!(table.contains("Serial") && table.contains(&serial), "{table}");
        assert!(audited(&svc).contains(&"binding.list".to_string()));
    }
}

engine_test! {
    fn site_delete_refused_while_in_use_then_forced(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["site:create", "s1"]);
        svc.op(&["site:create", "s2"]);
        let admin = svc.api(&svc.admin);
        assert_eq!(admin.post("/sites/s1/secrets", json!({"name": "K", "value": "v", "scopes": ["web"]})).0, 201);
        let pem = svc.binding("s1.dev", &[]);
        let out = svc.op_output(&["site:delete", "s1"]);
        assert!(!out.status.success());
        assert!(text(&out).contains("Site 's1' has 1 secret(s) and 1 unrevoked binding(s)"), "{}", text(&out));
        assert!(text(&out).contains("pass --force"), "the CLI says what to run: {}", text(&out));
        assert_eq!(svc.runtime_with(Some(&pem)).unwrap().0, 200, "nothing changed");
        svc.op(&["site:delete", "s1", "--force"]);
        let (status, body) = svc.runtime_with(Some(&pem)).unwrap();
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("unknown_binding"), "{body}");
        assert_eq!(admin.get("/sites/s1/secrets/showall").0, 404);
        // An empty site goes without --force; it can be made again, without the old secrets.
        svc.op(&["site:delete", "s2"]);
        svc.op(&["site:create", "s1"]);
        let (status, doc) = admin.get("/sites/s1/secrets/showall");
        assert_eq!((status, doc["Count"].as_u64()), (200, Some(0)), "{doc}");
        let actions = audited(&svc);
        assert_eq!(actions.iter().filter(|a| *a == "site.delete").count(), 2, "{actions:?}");
    }
}

engine_test! {
    fn org_delete_refused_while_it_owns_sites_then_forced_detaches(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["org:create", "acme"]);
        svc.op(&["org:create", "helper"]);
        svc.op(&["site:create", "s1", "--org", "acme", "--supporting-org", "helper"]);
        let admin = svc.api(&svc.admin);
        assert_eq!(
            admin.post("/organizations/acme/secrets", json!({"name": "O", "value": "o", "scopes": ["web"]})).0,
            201
        );
        assert_eq!(admin.post("/sites/s1/secrets", json!({"name": "S", "value": "s", "scopes": ["web"]})).0, 201);
        let pem = svc.binding("s1.dev", &[]);
        assert_eq!(common::value(&svc.runtime(&pem), "O"), Some("o"));
        let out = svc.op_output(&["org:delete", "acme"]);
        assert!(!out.status.success());
        assert!(text(&out).contains("Organization 'acme' owns 1 site(s) and has 1 secret(s)"), "{}", text(&out));
        // A supporting organization with nothing of its own goes without --force.
        svc.op(&["org:delete", "helper"]);
        svc.op(&["org:delete", "acme", "--force"]);
        let doc = svc.runtime(&pem);
        assert_eq!(
            (common::value(&doc, "O"), common::value(&doc, "S")),
            (None, Some("s")),
            "the site keeps its own"
        );
        let sites = json_of(&svc.op(&["site:list", "--format", "json"]));
        assert_eq!(sites[0]["org"], Value::Null);
        assert_eq!(sites[0]["supporting_orgs"], json!([]));
        assert!(json_of(&svc.op(&["org:list", "--format", "json"])).as_array().unwrap().is_empty());
        let actions = audited(&svc);
        assert_eq!(actions.iter().filter(|a| *a == "org.delete").count(), 2);
        assert!(actions.contains(&"site.list".to_string()) && actions.contains(&"org.list".to_string()));
    }
}

/// A client that trusts the service CA and reaches `name` at the service's address.
fn client_for(svc: &Service, name: &str) -> reqwest::blocking::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    let addr: std::net::SocketAddr = svc.url.trim_start_matches("https://").parse().unwrap();
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .resolve(name, addr)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn reaches(svc: &Service, name: &str) -> bool {
    let port = svc.url.rsplit(':').next().unwrap();
    client_for(svc, name).get(format!("https://{name}:{port}/healthz")).send().is_ok()
}

engine_test! {
    fn cert_renew_new_names_same_ca(engine) {
        let mut svc = Service::start_on(engine, 0.0, &[], None);
        let ca_before = std::fs::read(svc.data.join("ca.pem")).unwrap();
        assert!(!reaches(&svc, "secrets.example.test"), "not a name of the first certificate");
        svc.op(&["cert:renew", "--hostname", "secrets.example.test"]);
        svc.stop();
        svc.serve();
        assert!(reaches(&svc, "secrets.example.test"), "the renewed certificate has the name");
        assert!(reaches(&svc, "localhost"), "and the defaults");
        assert_eq!(std::fs::read(svc.data.join("ca.pem")).unwrap(), ca_before, "the CA is kept");
        // Without --hostname the recorded names are kept.
        svc.op(&["cert:renew"]);
        svc.stop();
        svc.serve();
        assert!(reaches(&svc, "secrets.example.test"));
        let actions = audited(&svc);
        assert_eq!(actions.iter().filter(|a| *a == "cert.renew").count(), 2, "{actions:?}");
    }
}
