//! Who may read what: bindings read only their own site, users reach only their organizations
//! and sites, and anything without valid credentials gets nothing.

mod common;

use common::{value, Engine, Service};
use serde_json::json;

fn two_orgs(engine: Engine) -> Service {
    let svc = Service::start_on(engine, 0.0, &[], None);
    for org in ["org-a", "org-b"] {
        svc.op(&["org:create", org]);
    }
    svc.op(&["site:create", "site-a", "--org", "org-a"]);
    svc.op(&["site:create", "site-b", "--org", "org-b"]);
    svc.admin_cli(&["secret:site:set", "site-a", "K", "value-a", "--scope=web,user"]);
    svc.admin_cli(&["secret:site:set", "site-b", "K", "value-b", "--scope=web,user"]);
    svc.admin_cli(&["secret:org:set", "org-b", "ORG_B", "org-b-v", "--scope=web,user"]);
    svc
}

engine_test! {
    fn runtime_site_a_certificate_reads_only_site_a(engine) {
        let svc = two_orgs(engine);
        let (status, body) = svc.runtime_with(Some(&svc.binding("site-a.dev", &[]))).unwrap();
        assert_eq!(status, 200);
        let doc = secrets_core::Document::parse(body.as_bytes()).unwrap();
        assert_eq!(doc.site_id, "site-a");
        assert_eq!(value(&doc, "K"), Some("value-a"));
        assert!(!body.contains("value-b") && !body.contains("org-b-v"), "{body}");
    }
}

engine_test! {
    fn runtime_without_certificate_401(engine) {
        let svc = two_orgs(engine);
        let (status, body) = svc.runtime_with(None).unwrap();
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("client_certificate_required"), "{body}");
    }
}

engine_test! {
    fn runtime_revoked_binding_refused(engine) {
        let svc = two_orgs(engine);
        let pem = svc.binding("site-a.live", &[]);
        assert_eq!(svc.runtime_with(Some(&pem)).unwrap().0, 200);
        svc.op(&["binding:revoke", "site-a.live"]);
        let (status, body) = svc.runtime_with(Some(&pem)).unwrap();
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("binding_revoked") && !body.contains("value-a"), "{body}");
        // A new binding for the same environment works again.
        assert_eq!(svc.runtime_with(Some(&svc.binding("site-a.live", &[]))).unwrap().0, 200);
    }
}

engine_test! {
    fn runtime_revoke_by_serial_leaves_others(engine) {
        let svc = two_orgs(engine);
        let first = svc.binding("site-a.dev", &[]);
        let out = svc.dir.join("second.pem");
        let serial = svc.op(&["binding:issue", "site-a.dev", "--out", out.to_str().unwrap()]);
        svc.op(&["binding:revoke", "site-a.dev", "--serial", &serial]);
        assert_eq!(svc.runtime_with(Some(&out)).unwrap().0, 403);
        assert_eq!(svc.runtime_with(Some(&first)).unwrap().0, 200);
    }
}

engine_test! {
    fn runtime_foreign_ca_certificate_refused(engine) {
        let svc = two_orgs(engine);
        // A CA of its own, and a certificate whose subject mimics a real binding.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "pantheon-secrets CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "site-a.dev");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        let pem = svc.dir.join("foreign.pem");
        std::fs::write(&pem, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
        match svc.runtime_with(Some(&pem)) {
            Err(_) => {} // the handshake was refused
            Ok((status, body)) => {
                assert!(status == 401 || status == 403, "{status} {body}");
                assert!(!body.contains("value-a"), "{body}");
            }
        }
    }
}

engine_test! {
    fn runtime_expired_certificate_refused(engine) {
        let svc = two_orgs(engine);
        let pem = svc.binding("site-a.dev", &["--days", "-1"]);
        match svc.runtime_with(Some(&pem)) {
            Err(_) => {}
            Ok((status, body)) => panic!("an expired binding got {status}: {body}"),
        }
    }
}

engine_test! {
    fn management_no_or_bad_token_401(engine) {
        let svc = two_orgs(engine);
        for token in ["", "pss_0000"] {
            let (status, body) = svc.api(token).get("/sites/site-a/secrets/showall");
            assert_eq!(status, 401, "{body}");
            assert_eq!(body["code"], "unauthorized");
        }
    }
}

engine_test! {
    fn management_org_a_user_cannot_reach_org_b(engine) {
        let svc = two_orgs(engine);
        let alice = svc.api(&svc.token("alice", &["--org", "org-a"]));
        // Her own organization and its sites.
        assert_eq!(alice.get("/organizations/org-a/secrets").0, 200);
        let (status, doc) = alice.get("/sites/site-a/secrets/showall");
        assert_eq!(status, 200);
        assert_eq!(doc["Secrets"]["K"]["Value"], "value-a");
        // Nothing of org B: list, create, change, delete.
        let forbidden = [
            alice.get("/organizations/org-b/secrets"),
            alice.get("/sites/site-b/secrets/showall"),
            alice.post("/organizations/org-b/secrets", json!({"name": "X", "value": "x"})),
            alice.post("/sites/site-b/secrets", json!({"name": "X", "value": "x"})),
            alice.patch("/sites/site-b/secrets/K", json!({"value": "stolen"})),
            alice.patch("/organizations/org-b/secrets/ORG_B", json!({"value": "x", "env": "live"})),
            alice.delete("/sites/site-b/secrets/K"),
            alice.delete("/organizations/org-b/secrets/ORG_B"),
            alice.get("/sites/no-such-site/secrets/showall"),
        ];
        for (status, body) in forbidden {
            assert_eq!(status, 403, "{body}");
            assert_eq!(body["code"], "forbidden");
            assert!(!body.to_string().contains("value-b"));
        }
        let doc = svc.runtime(&svc.binding("site-b.dev", &[]));
        assert_eq!(value(&doc, "K"), Some("value-b"), "site B is unchanged");
        // The CLI says the same.
        let out = svc.cli(&alice.token, &["secret:site:list", "site-b"]);
        assert!(!out.status.success());
        assert!(common::text(&out).contains("You do not have access to site 'site-b'."));
    }
}

engine_test! {
    fn management_site_grant_reaches_that_site_only(engine) {
        let svc = two_orgs(engine);
        let bob = svc.api(&svc.token("bob", &["--site", "site-a"]));
        assert_eq!(bob.get("/sites/site-a/secrets/showall").0, 200);
        assert_eq!(bob.get("/organizations/org-a/secrets").0, 403);
        assert_eq!(bob.get("/sites/site-b/secrets/showall").0, 403);
    }
}

engine_test! {
    fn management_values_without_user_scope_are_null(engine) {
        let svc = two_orgs(engine);
        svc.admin_cli(&["secret:site:set", "site-a", "WEB_ONLY", "hidden-v", "--scope=web"]);
        svc.admin_cli(&["secret:site:set", "site-a.live", "WEB_ONLY", "hidden-live"]);
        let (status, doc) = svc.api(&svc.admin).get("/sites/site-a/secrets/showall");
        assert_eq!(status, 200);
        assert_eq!(doc["Secrets"]["WEB_ONLY"]["Value"], serde_json::Value::Null);
        assert_eq!(doc["Secrets"]["WEB_ONLY"]["EnvValues"]["live"], serde_json::Value::Null);
        assert!(!doc.to_string().contains("hidden"));
        let listed = svc.admin_cli(&["secret:site:list", "site-a"]);
        assert!(listed.contains("[REDACTED]") && !listed.contains("hidden"), "{listed}");
    }
}

engine_test! {
    fn management_supporting_org_member_reaches_the_site_not_the_owner_org(engine) {
        let svc = two_orgs(engine);
        svc.op(&["org:create", "agency"]);
        svc.op(&["site:create", "client-site", "--org", "org-a", "--supporting-org", "agency"]);
        svc.admin_cli(&["secret:org:set", "agency", "AGENCY_ONLY", "agency-v", "--scope=web,user"]);
        let dev = svc.api(&svc.token("dev", &["--org", "agency"]));
        assert_eq!(dev.post("/sites/client-site/secrets", json!({"name": "K", "value": "v"})).0, 201);
        let (status, doc) = dev.get("/sites/client-site/secrets/showall");
        assert_eq!(status, 200);
        assert!(doc["Secrets"].get("AGENCY_ONLY").is_none(), "a supporting org contributes nothing: {doc}");
        assert_eq!(dev.get("/organizations/org-a/secrets").0, 403);
        assert_eq!(dev.get("/sites/site-a/secrets/showall").0, 403);
    }
}
