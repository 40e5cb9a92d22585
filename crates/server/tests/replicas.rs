//! Replicas over one PostgreSQL database (ARCHITECTURE §7): each has a copy of the data
//! directory (the same master key, CA and server certificate) and serves on its own port;
//! what one changes, the other serves on its next request.

mod common;

use common::{value, Engine, Service};

fn two_replicas() -> (Service, Service) {
    let first = Service::start_on(Engine::Postgres, 0.0, &[], None);
    first.op(&["org:create", "acme"]);
    first.op(&["site:create", "s1", "--org", "acme"]);
    let second = first.replica();
    (first, second)
}

#[test]
#[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
fn replicas_change_through_one_served_by_the_other_at_once() {
    let (first, second) = two_replicas();
    let pem = first.binding("s1.live", &[]);
    first.admin_cli(&["secret:site:set", "s1", "K", "one", "--scope=web"]);
    assert_eq!(value(&second.runtime(&pem), "K"), Some("one"), "the other replica serves it");
    assert_eq!(value(&second.runtime(&pem), "K"), Some("one"), "and again, from its cache");
    // A change through the first replica's API: the second's cached answer is not served again.
    first.admin_cli(&["secret:site:set", "s1.live", "K", "live-two"]);
    assert_eq!(value(&second.runtime(&pem), "K"), Some("live-two"));
    second.admin_cli(&["secret:site:delete", "s1.live", "K"]);
    assert_eq!(value(&first.runtime(&pem), "K"), Some("one"));
}

#[test]
#[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
fn replicas_revoked_binding_refused_by_every_replica() {
    let (first, second) = two_replicas();
    first.admin_cli(&["secret:site:set", "s1", "K", "v", "--scope=web"]);
    let pem = first.binding("s1.dev", &[]);
    assert_eq!(second.runtime_with(Some(&pem)).unwrap().0, 200);
    first.op(&["binding:revoke", "s1.dev"]);
    for replica in [&first, &second] {
        let (status, body) = replica.runtime_with(Some(&pem)).unwrap();
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("binding_revoked"), "{body}");
    }
}

#[test]
#[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
fn replicas_write_one_audit_trail() {
    let (first, second) = two_replicas();
    first.admin_cli(&["secret:site:set", "s1", "A", "a", "--scope=web"]);
    second.admin_cli(&["secret:site:set", "s1", "B", "b", "--scope=web"]);
    // Each replica's operator view is the one trail (the replicas write it shortly after).
    for replica in [&first, &second] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut trail = String::new();
        while std::time::Instant::now() < deadline {
            trail = replica.op(&["audit:list", "--action", "secret.*", "--format", "json"]);
            if trail.contains("\"A\"") && trail.contains("\"B\"") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(trail.contains("\"A\"") && trail.contains("\"B\""), "{trail}");
    }
}

#[test]
#[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
fn replicas_key_rotate_while_both_serve_no_read_fails() {
    let first = Service::start_on(Engine::Postgres, 0.0, &[], None);
    first.op(&["org:create", "acme"]);
    first.op(&["site:create", "s1", "--org", "acme"]);
    for i in 0..20 {
        first.admin_cli(&["secret:site:set", "s1", &format!("K{i}"), &format!("v{i}"), "--scope=web"]);
    }
    let second = first.replica_sharing_data_dir();
    let pem = first.binding("s1.dev", &[]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let readers: Vec<_> = [&first, &second]
            .into_iter()
            .map(|replica| {
                let (pem, stop) = (&pem, &stop);
                scope.spawn(move || {
                    let mut reads = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) || reads < 3 {
                        let (status, body) = replica.runtime_with(Some(pem)).unwrap();
                        assert_eq!(status, 200, "a read failed during key:rotate: {body}");
                        let doc = secrets_core::Document::parse(body.as_bytes()).unwrap();
                        assert_eq!(value(&doc, "K7"), Some("v7"));
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for _ in 0..3 {
            first.op(&["key:rotate"]);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for reader in readers {
            assert!(reader.join().unwrap() >= 3);
        }
    });
    // Values set after the rotations are sealed with the newest key; both replicas open them.
    second.admin_cli(&["secret:site:set", "s1", "NEW", "new", "--scope=web"]);
    assert_eq!(value(&first.runtime(&pem), "NEW"), Some("new"));
    assert_eq!(value(&second.runtime(&pem), "NEW"), Some("new"));
}

#[test]
#[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
fn replicas_share_one_rate_limit_per_user() {
    let first = Service::start_on(Engine::Postgres, 3.0, &[], None);
    first.op(&["site:create", "s1"]);
    let second = first.replica();
    let token = first.token("ann", &["--site", "s1"]);
    let apis = [first.api(&token), second.api(&token)];
    let started = std::time::Instant::now();
    let statuses: Vec<u16> = (0..8).map(|i| apis[i % 2].get("/sites/s1/secrets/showall").0).collect();
    let elapsed = started.elapsed().as_secs_f64();
    let allowed = statuses.iter().filter(|s| **s == 200).count();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    // One budget of 3 at once and 3 a second for both replicas (each alone would allow 3 more).
    let most = 3 + (3.0 * elapsed).ceil() as usize;
    assert!(allowed <= most, "{allowed} of 8 allowed in {elapsed:.2} s: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}
