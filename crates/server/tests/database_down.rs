//! The service while its PostgreSQL server is down: answers `503` with `Retry-After` (never a
//! crash, never a partial document), recovers when the server is back, and a replica started
//! before its database waits for it. Each test stops and starts a server of its own.

mod common;

use std::time::{Duration, Instant};

use common::{value, Service};
use secrets_server::test_postgres::OwnServer;

/// Polls `f` until it is true or 30 s pass.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
fn database_down_answers_503_with_retry_after_then_recovers() {
    let server = OwnServer::start();
    let mut svc = Service::start_on_database(&server.database(), 0.0);
    svc.op(&["site:create", "s1"]);
    svc.admin_cli(&["secret:site:set", "s1", "K", "v", "--scope=web,user"]);
    let pem = svc.binding("s1.dev", &[]);
    assert_eq!(value(&svc.runtime(&pem), "K"), Some("v"));
    server.stop();
    for _ in 0..3 {
        let (status, body) = svc.runtime_with(Some(&pem)).unwrap();
        assert_eq!(status, 503, "{body}");
        let err: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(err["code"], "database_unavailable", "{body}");
        assert!(!body.contains("\"v\""), "{body}");
        let response = svc.api(&svc.admin).request(reqwest::Method::GET, "/sites/s1/secrets/showall", None);
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    }
    assert!(svc.running(), "the service stays up");
    server.resume();
    eventually("reads again", || svc.runtime_with(Some(&pem)).unwrap().0 == 200);
    assert_eq!(value(&svc.runtime(&pem), "K"), Some("v"));
    let (status, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
    assert_eq!((status, doc["Secrets"]["K"]["Value"].as_str()), (200, Some("v")));
}

#[test]
#[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
fn serve_started_before_its_database_waits_for_it() {
    let server = OwnServer::start();
    let mut svc = Service::start_on_database(&server.database(), 0.0);
    svc.op(&["site:create", "s1"]);
    svc.admin_cli(&["secret:site:set", "s1", "K", "v", "--scope=web"]);
    let pem = svc.binding("s1.dev", &[]);
    svc.stop();
    server.stop();
    let (started, waiting) = std::sync::mpsc::channel();
    let starting = std::thread::spawn(move || {
        svc.serve();
        started.send(()).unwrap();
        svc
    });
    assert!(
        waiting.recv_timeout(Duration::from_secs(3)).is_err(),
        "serve does not listen before it has its database"
    );
    server.resume();
    waiting.recv_timeout(Duration::from_secs(30)).expect("serve listens once the database is up");
    let svc = starting.join().unwrap();
    assert_eq!(value(&svc.runtime(&pem), "K"), Some("v"));
}
