//! Storage: encrypted at rest, bound to the row, key rotation under load, restarts, concurrent
//! writers, and the audit trail.

mod common;

use std::thread;

use common::{value, Engine, Service};
use serde_json::json;

fn service(engine: Engine) -> Service {
    let svc = Service::start_on(engine, 0.0, &[], None);
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    svc
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

engine_test! {
    fn encrypted_at_rest_db_never_holds_a_value(engine) {
        let svc = service(engine);
        let values = ["org-plaintext-7f3a9", "site-plaintext-c41d2", "live-plaintext-0b9e8"];
        svc.admin_cli(&["secret:org:set", "acme", "ORG_SECRET", values[0], "--scope=web,user"]);
        svc.admin_cli(&["secret:site:set", "s1", "SITE_SECRET", values[1], "--scope=web,user"]);
        svc.admin_cli(&["secret:site:set", "s1.live", "SITE_SECRET", values[2]]);
        let doc = svc.runtime(&svc.binding("s1.live", &[]));
        assert_eq!(value(&doc, "SITE_SECRET"), Some(values[2]), "the values are stored");
        let bytes = svc.database_bytes();
        assert!(contains(&bytes, b"SITE_SECRET"), "names are plaintext (and the check works)");
        for v in values {
            assert!(!contains(&bytes, v.as_bytes()), "{v} found in the database files");
        }
        // The master key is outside the database, readable by its owner only.
        use std::os::unix::fs::PermissionsExt;
        let key = svc.data.join("master.key");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        let key_text = std::fs::read_to_string(&key).unwrap();
        let hex = key_text.lines().find(|l| !l.starts_with('#')).unwrap();
        let hex = hex.split(' ').nth(1).unwrap();
        assert!(!contains(&bytes, hex.as_bytes()));
    }
}

engine_test! {
    fn ciphertext_copied_to_another_row_fails_to_decrypt(engine) {
        let svc = service(engine);
        svc.admin_cli(&["secret:site:set", "s1", "A", "value-of-a", "--scope=web,user"]);
        svc.admin_cli(&["secret:site:set", "s1", "B", "value-of-b", "--scope=web,user"]);
        let pem = svc.binding("s1.dev", &[]);
        assert_eq!(value(&svc.runtime(&pem), "B"), Some("value-of-b"));
        let moved = svc.sql(
            "UPDATE secret_values SET (key_id, nonce, ciphertext) =
               (SELECT key_id, nonce, ciphertext FROM secret_values WHERE name = 'A' AND env = '')
             WHERE owner = 's1' AND name = 'B' AND env = ''",
        );
        assert_eq!(moved, 1);
        let (status, body) = svc.runtime_with(Some(&pem)).unwrap();
        assert_eq!(status, 500, "{body}");
        let err: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(err["code"], "decrypt_failed");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.contains("cannot decrypt secret 'B' of site 's1' (default)")
                && message.contains("does not belong to this row"),
            "{message}"
        );
        assert!(!body.contains("value-of-a") && !body.contains("value-of-b"), "{body}");
        let (status, body) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
        assert_eq!((status, body["code"].as_str()), (500, Some("decrypt_failed")));
    }
}

engine_test! {
    fn key_rotate_keeps_every_value_readable_while_serving(engine) {
        let svc = service(engine);
        let api = svc.api(&svc.admin);
        for i in 0..30 {
            let name = format!("K{i}");
            api.post(
                "/organizations/acme/secrets",
                json!({"name": name, "value": format!("org-{i}"), "scopes": ["web", "user"]}),
            );
            api.post(
                "/sites/s1/secrets",
                json!({"name": name, "value": format!("site-{i}"), "scopes": ["web", "user"]}),
            );
            api.patch(&format!("/sites/s1/secrets/{name}"), json!({"value": format!("live-{i}"), "env": "live"}));
        }
        let pem = svc.binding("s1.live", &[]);
        let before = svc.runtime(&pem).to_json();
        // Readers keep reading while the key rotates.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (stop, url_pem) = (stop.clone(), pem.clone());
            let svc_url = svc.url.clone();
            let ca = svc.data.join("ca.pem");
            thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .use_rustls_tls()
                    .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap())
                    .identity(reqwest::Identity::from_pem(&std::fs::read(url_pem).unwrap()).unwrap())
                    .build()
                    .unwrap();
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                    let r = client.get(format!("{svc_url}/customer-secrets/v1/runtime/secrets")).send().unwrap();
                    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap());
                    reads += 1;
                }
                reads
            })
        };
        // And a writer keeps writing (user-scope secrets, so the runtime answer stays the same).
        let writer = {
            let (stop, api) = (stop.clone(), svc.api(&svc.admin));
            thread::spawn(move || {
                let mut written = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || written == 0 {
                    let (status, body) = api.post(
                        "/sites/s1/secrets",
                        json!({"name": format!("W{written}"), "value": format!("w-{written}")}),
                    );
                    assert_eq!(status, 201, "{body}");
                    written += 1;
                }
                written
            })
        };
        let out = svc.op_output(&["key:rotate"]);
        assert!(out.status.success(), "{}", common::text(&out));
        assert!(common::text(&out).contains("values re-encrypted"), "{}", common::text(&out));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        let written = writer.join().unwrap();
        let (status, doc) = api.get("/sites/s1/secrets/showall");
        assert_eq!(status, 200, "{doc}");
        for i in 0..written {
            assert_eq!(doc["Secrets"][format!("W{i}")]["Value"], format!("w-{i}"), "W{i}");
        }
        assert_eq!(*svc.runtime(&pem).to_json(), *before);
        // The new key is added and the retired one kept (until `key:prune`); every row uses the new
        // one, and the running server writes with it.
        let keys = std::fs::read_to_string(svc.data.join("master.key")).unwrap();
        let ids: Vec<&str> =
            keys.lines().filter(|l| !l.starts_with('#')).map(|l| l.split(' ').next().unwrap()).collect();
        assert_eq!(ids, ["1", "2"]);
        api.post("/sites/s1/secrets", json!({"name": "AFTER", "value": "after-v", "scopes": ["web"]}));
        let old = svc.sql_count("SELECT count(*) FROM secret_values WHERE key_id <> 2");
        assert_eq!(old, 0);
        assert_eq!(value(&svc.runtime(&pem), "AFTER"), Some("after-v"));
    }
}

engine_test! {
    fn restart_keeps_secrets_and_bindings(engine) {
        let mut svc = service(engine);
        svc.admin_cli(&["secret:org:set", "acme", "O", "org-v", "--scope=web"]);
        svc.admin_cli(&["secret:site:set", "s1", "S", "site-v", "--scope=web"]);
        svc.admin_cli(&["secret:site:set", "s1.test", "S", "test-v"]);
        let pem = svc.binding("s1.test", &[]);
        let before = svc.runtime(&pem).to_json();
        svc.stop();
        svc.serve();
        let after = svc.runtime(&pem);
        assert_eq!(*after.to_json(), *before);
        assert_eq!(value(&after, "S"), Some("test-v"));
        assert_eq!(value(&after, "O"), Some("org-v"));
        // The admin token still works.
        assert_eq!(svc.api(&svc.admin).get("/sites/s1/secrets/showall").0, 200);
    }
}

engine_test! {
    /// 8 clients × 200 sets each, as the issue asks, plus overwrites of one shared override.
    fn concurrent_writers_lose_nothing(engine) {
        const CLIENTS: usize = 8;
        const SETS: usize = 200;
        let svc = service(engine);
        let writers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let api = svc.api(&svc.admin);
                thread::spawn(move || {
                    for i in 0..SETS {
                        // Each client creates its own secrets and overwrites one shared secret.
                        let (status, body) = api.post(
                            "/sites/s1/secrets",
                            json!({"name": format!("C{c}_{i}"), "value": format!("v{c}-{i}"), "scopes": ["web", "user"]}),
                        );
                        assert_eq!(status, 201, "{body}");
                        if i % 10 == 0 {
                            let (status, body) = api.patch(
                                "/sites/s1/secrets/SHARED",
                                json!({"value": format!("{c}-{i}"), "env": "live"}),
                            );
                            assert!(status == 200 || status == 404, "{body}");
                        }
                    }
                })
            })
            .collect();
        svc.admin_cli(&["secret:site:set", "s1", "SHARED", "base", "--scope=web,user"]);
        for w in writers {
            w.join().unwrap();
        }
        let (status, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
        assert_eq!(status, 200);
        for c in 0..CLIENTS {
            for i in 0..SETS {
                assert_eq!(doc["Secrets"][format!("C{c}_{i}")]["Value"], format!("v{c}-{i}"), "C{c}_{i}");
            }
        }
        assert_eq!(doc["Count"], CLIENTS * SETS + 1);
    }
}

engine_test! {
    fn audit_list_records_who_did_what_without_values(engine) {
        let svc = service(engine);
        let alice = svc.token("alice", &["--org", "acme"]);
        let out = svc.cli(&alice, &["secret:site:set", "s1", "AUDITED", "audit-secret-v", "--scope=web,user"]);
        assert!(out.status.success());
        svc.cli(&alice, &["secret:site:set", "s1.live", "AUDITED", "audit-live-v"]);
        svc.cli(&alice, &["secret:site:list", "s1"]);
        let pem = svc.binding("s1.live", &[]);
        svc.runtime(&pem);
        svc.op(&["org:create", "other"]);
        let (status, _) = svc.api(&alice).get("/organizations/other/secrets");
        assert_eq!(status, 403);
        svc.op(&["binding:revoke", "s1.live"]);
        assert_eq!(svc.runtime_with(Some(&pem)).unwrap().0, 403);
        let mut events = serde_json::Value::Null;
        for _ in 0..50 {
            let text = svc.op(&["audit:list", "--format", "json"]);
            events = serde_json::from_str(&text).unwrap();
            if events.as_array().unwrap().iter().any(|e| e["action"] == "runtime.read") {
                break;
            }
            thread::sleep(std::time::Duration::from_millis(100));
        }
        let text = events.to_string();
        let find = |action: &str| {
            events
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["action"] == action)
                .unwrap_or_else(|| panic!("no {action} in {text}"))
                .clone()
        };
        let created = find("secret.create");
        assert_eq!(created["actor"], "user:alice");
        assert_eq!(created["target"], "site:s1");
        assert_eq!(created["name"], "AUDITED");
        assert!(created["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(find("secret.override.set")["env"], "live");
        assert_eq!(find("secrets.list")["actor"], "user:alice");
        let read = find("runtime.read");
        assert!(read["actor"].as_str().unwrap().starts_with("binding:"));
        assert_eq!(read["detail"], "AUDITED");
        let refused = find("access.denied");
        assert_eq!(
            (refused["actor"].as_str(), refused["target"].as_str()),
            (Some("user:alice"), Some("org:other"))
        );
        assert_eq!(find("runtime.denied")["detail"], "revoked");
        assert_eq!(find("binding.revoke")["actor"], "operator");
        assert!(!text.contains("audit-secret-v") && !text.contains("audit-live-v"), "{text}");
    }
}
