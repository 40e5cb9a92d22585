//! `/healthz`, `/readyz` and `/metrics` over real HTTPS: no credentials needed, no secret data
//! in any answer, counts by route template and status.

mod common;

use std::time::Duration;

use common::Service;
use serde_json::json;

/// A client that trusts the service CA and presents nothing.
fn anonymous(svc: &Service) -> reqwest::blocking::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn get(svc: &Service, path: &str) -> (u16, String, String) {
    let response = anonymous(svc).get(format!("{}{path}", svc.url)).send().unwrap();
    let status = response.status().as_u16();
    let kind =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, kind, response.text().unwrap())
}

/// The value of one sample line (`NAME{LABELS} VALUE`) of the exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn healthz_readyz_answer_without_credentials() {
    let svc = Service::start();
    let (status, _, body) = get(&svc, "/healthz");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _, body) = get(&svc, "/readyz");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#));
}

#[test]
fn readyz_unavailable_without_the_current_key() {
    let svc = Service::start();
    // The key file loses the current key and the process has not loaded a newer one: not ready.
    let db = rusqlite::Connection::open(svc.data.join("secrets.db")).unwrap();
    db.execute("UPDATE meta SET value = '99' WHERE key = 'current_key'", []).unwrap();
    let (status, _, body) = get(&svc, "/readyz");
    assert_eq!(status, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, json!({"status": "not_ready", "reason": "master key not loaded"}));
    assert_eq!(get(&svc, "/healthz").0, 200, "alive all the same");
    db.execute("UPDATE meta SET value = '1' WHERE key = 'current_key'", []).unwrap();
    assert_eq!(get(&svc, "/readyz").0, 200);
}

#[test]
fn metrics_by_route_template_never_a_name_or_value() {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["org:create", "org-q7"]);
    svc.op(&["site:create", "site-q7", "--org", "org-q7"]);
    let admin = svc.api(&svc.admin);
    let body = json!({"name": "NAME_Q7_SECRET", "value": "value-q7-9f3a", "scopes": ["web"]});
    assert_eq!(admin.post("/sites/site-q7/secrets", body).0, 201);
    let pem = svc.binding("site-q7.dev", &[]);
    let build = svc.binding("site-q7.dev", &["--build"]);
    for _ in 0..3 {
        svc.runtime(&pem);
    }
    svc.runtime(&build);
    assert_eq!(admin.get("/sites/site-q7/secrets/showall").0, 200);
    assert_eq!(admin.get("/no/such/path-q7").0, 404);
    assert_eq!(svc.api("pss_wrong").get("/sites/site-q7/secrets/showall").0, 401);
    // An expired binding, and one near expiry.
    svc.binding("site-q7.live", &["--days", "-1"]);
    svc.binding("site-q7.test", &["--days", "10"]);

    let (status, kind, text) = get(&svc, "/metrics");
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    for secret in ["q7", "value-q7", "NAME_Q7"] {
        assert!(!text.contains(secret), "{secret} in the metrics:\n{text}");
    }
    let runtime = r#"method="GET",route="/customer-secrets/v1/runtime/secrets",status="200""#;
    assert_eq!(sample(&text, &format!("pantheon_secrets_requests_total{{{runtime}}}")), Some(4.0), "{text}");
    assert_eq!(
        sample(&text, &format!("pantheon_secrets_request_duration_seconds_bucket{{{runtime},le=\"+Inf\"}}")),
        Some(4.0)
    );
    assert_eq!(
        sample(&text, &format!("pantheon_secrets_request_duration_seconds_count{{{runtime}}}")),
        Some(4.0)
    );
    let showall = r#"route="/customer-secrets/v1/sites/{site}/secrets/showall""#;
    assert_eq!(
        sample(&text, &format!(r#"pantheon_secrets_requests_total{{method="GET",{showall},status="200"}}"#)),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, &format!(r#"pantheon_secrets_requests_total{{method="GET",{showall},status="401"}}"#)),
        Some(1.0)
    );
    let created = r#"method="POST",route="/customer-secrets/v1/sites/{site}/secrets",status="201""#;
    assert_eq!(sample(&text, &format!("pantheon_secrets_requests_total{{{created}}}")), Some(1.0));
    let unmatched = r#"method="GET",route="unmatched",status="404""#;
    assert_eq!(sample(&text, &format!("pantheon_secrets_requests_total{{{unmatched}}}")), Some(1.0));
    assert_eq!(sample(&text, r#"pantheon_secrets_runtime_reads_total{kind="runtime"}"#), Some(3.0));
    assert_eq!(sample(&text, r#"pantheon_secrets_runtime_reads_total{kind="build"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"pantheon_secrets_bindings_expiring{within_days="30"}"#), Some(1.0));
    assert_eq!(sample(&text, "pantheon_secrets_bindings_expired"), Some(1.0));
    assert_eq!(sample(&text, "pantheon_secrets_decrypt_failures_total"), Some(0.0));
}

#[test]
fn metrics_count_rate_limited_and_decrypt_failures() {
    let svc = Service::start_with(1.0, &["--auth-failure-burst", "2"], None);
    svc.op(&["site:create", "s1"]);
    let admin = svc.api(&svc.admin);
    let body = json!({"name": "A", "value": "a-value", "scopes": ["web"]});
    assert_eq!(admin.post("/sites/s1/secrets", body).0, 201);
    // Over the per-user limit (1 a second).
    let limited = (0..4).filter(|_| admin.get("/sites/s1/secrets/showall").0 == 429).count();
    assert!(limited >= 1);
    // Over the failed-authentication limit (a burst of 2).
    let wrong = svc.api("pss_wrong");
    let refused = (0..4).filter(|_| wrong.get("/sites/s1/secrets/showall").0 == 429).count();
    assert!(refused >= 1);
    // A value that does not open.
    let db = rusqlite::Connection::open(svc.data.join("secrets.db")).unwrap();
    db.execute("UPDATE secrets SET type = 'env' WHERE name = 'A'", []).unwrap();
    let pem = svc.binding("s1.dev", &[]);
    assert_eq!(svc.runtime_with(Some(&pem)).unwrap().0, 500);
    // Health and metrics stay reachable from the address the limit refuses.
    let (status, _, text) = get(&svc, "/metrics");
    assert_eq!(status, 200);
    assert_eq!(get(&svc, "/healthz").0, 200);
    assert_eq!(
        sample(&text, r#"pantheon_secrets_rate_limited_total{limit="user"}"#),
        Some(limited as f64),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"pantheon_secrets_rate_limited_total{limit="failed_auth"}"#),
        Some(refused as f64)
    );
    assert_eq!(sample(&text, "pantheon_secrets_decrypt_failures_total"), Some(1.0));
}
