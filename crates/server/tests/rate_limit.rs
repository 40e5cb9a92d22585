//! The management API's per-user token bucket: 3 requests per second, then 429 with
//! `Retry-After`; other users keep their own budget; the runtime API is not limited.

mod common;

use common::Service;

engine_test! {
    fn rate_limit_burst_gets_429_with_retry_after_other_users_unaffected(engine) {
        let svc = Service::start_on(engine, 3.0, &[], None);
        svc.op(&["org:create", "acme"]);
        svc.op(&["site:create", "s1", "--org", "acme"]);
        let alice = svc.api(&svc.token("alice", &["--org", "acme"]));
        let bob = svc.api(&svc.token("bob", &["--org", "acme"]));
        let mut statuses = Vec::new();
        let mut retry_after = None;
        for _ in 0..8 {
            let response = alice.request(reqwest::Method::GET, "/sites/s1/secrets/showall", None);
            if response.status() == 429 {
                retry_after =
                    response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                let (_, body) = common::status_json(response);
                assert_eq!(body["code"], "rate_limited");
                statuses.push(429);
            } else {
                statuses.push(response.status().as_u16());
            }
        }
        assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
        assert!(statuses[3..].contains(&429), "{statuses:?}");
        let wait = retry_after.expect("a Retry-After header");
        assert!((1..=2).contains(&wait), "{wait}");
        // Bob has his own bucket.
        assert_eq!(bob.get("/sites/s1/secrets/showall").0, 200);
        // And Alice may come back after waiting.
        std::thread::sleep(std::time::Duration::from_secs(wait));
        assert_eq!(alice.get("/sites/s1/secrets/showall").0, 200);
        // The runtime API is not rate limited.
        let pem = svc.binding("s1.dev", &[]);
        for _ in 0..10 {
            assert_eq!(svc.runtime_with(Some(&pem)).unwrap().0, 200);
        }
    }
}

engine_test! {
    fn rate_limit_cli_waits_and_succeeds(engine) {
        let svc = Service::start_on(engine, 3.0, &[], None);
        svc.op(&["org:create", "acme"]);
        svc.op(&["site:create", "s1", "--org", "acme"]);
        let token = svc.token("carol", &["--site", "s1"]);
        for i in 0..5 {
            let out = svc.cli(&token, &["secret:site:set", "s1", &format!("K{i}"), "v"]);
            assert!(out.status.success(), "{}", common::text(&out));
        }
    }
}
