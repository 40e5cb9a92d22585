//! Floods of requests with invalid tokens from several addresses (127.0.0.2 and up) while a
//! legitimate client (127.0.0.1) keeps working: the flood gets 429 with Retry-After after a
//! burst per address and is audited once per address; with that limit off, the store's threads
//! and database descriptors still stay bounded; the legitimate client sees no error either way
//! (its p99 is printed, never asserted).

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Service;

/// The flood lasts at least this long, and until the legitimate client has made [`LEGIT_REQUESTS`]
/// requests (at most [`FLOOD_MAX`]): a count of requests, never a count in a fixed time, so a
/// loaded machine only makes the test longer.
const FLOOD: Duration = Duration::from_secs(4);
const LEGIT_REQUESTS: usize = 10;
const FLOOD_MAX: Duration = Duration::from_secs(120);
const ATTACKERS: u8 = 4;

#[derive(Default, Debug)]
struct Tally {
    unauthorized: u64,
    limited: u64,
    retry_after_missing: u64,
    other: u64,
}

/// The largest thread count and database descriptor count of `pid` seen until `stop`.
fn sample(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(usize, usize)> {
    std::thread::spawn(move || {
        let (mut threads, mut db) = (0, 0);
        while !stop.load(Ordering::Relaxed) {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                let n = status
                    .lines()
                    .find_map(|l| l.strip_prefix("Threads:"))
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(0);
                threads = threads.max(n);
            }
            if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
                let n = fds
                    .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                    .filter(|target| target.to_string_lossy().contains("secrets.db"))
                    .count();
                db = db.max(n);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (threads, db)
    })
}

/// What a flood did.
struct Report {
    tally: Tally,
    legit_errors: Vec<String>,
    legit_requests: usize,
    /// How long the flood lasted.
    lasted: Duration,
    threads: usize,
    db_fds: usize,
}

/// Floods `svc` with invalid tokens from [`ATTACKERS`] addresses, `loops` requests in flight each,
/// while a legitimate client makes requests one after the other: for [`FLOOD`], and on until the
/// legitimate client has made [`LEGIT_REQUESTS`] (at most [`FLOOD_MAX`]).
async fn flood(svc: &Service, loops: usize) -> Report {
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    let token = svc.token("alice", &["--site", "s1"]);
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    let url = format!("{}/customer-secrets/v1/sites/s1/secrets/showall", svc.url);

    let stop = Arc::new(AtomicBool::new(false));
    let legit_done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let sampler = sample(svc.pid(), stop.clone());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut attackers = Vec::new();
    for a in 0..ATTACKERS {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca.clone())
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + a)))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        for l in 0..loops {
            let (client, url, tally, legit_done) =
                (client.clone(), url.clone(), tally.clone(), legit_done.clone());
            attackers.push(tokio::spawn(async move {
                let mut n = 0u64;
                while (started.elapsed() < FLOOD || !legit_done.load(Ordering::Relaxed))
                    && started.elapsed() < FLOOD_MAX
                {
                    n += 1;
                    let result = client.get(&url).bearer_auth(format!("bad-{a}-{l}-{n}")).send().await;
                    let mut t = tally.lock().unwrap();
                    match result.map(|r| (r.status().as_u16(), r.headers().contains_key("retry-after"))) {
                        Ok((401, _)) => t.unauthorized += 1,
                        Ok((429, true)) => t.limited += 1,
                        Ok((429, false)) => t.retry_after_missing += 1,
                        _ => t.other += 1,
                    }
                }
            }));
        }
    }

    let legit = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .local_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut latencies = Vec::new();
    let mut legit_errors = Vec::new();
    while (started.elapsed() < FLOOD || latencies.len() + legit_errors.len() < LEGIT_REQUESTS)
        && started.elapsed() < FLOOD_MAX
    {
        let sent = Instant::now();
        match legit.get(&url).bearer_auth(&token).send().await {
            Ok(r) if r.status() == 200 => latencies.push(sent.elapsed()),
            Ok(r) => legit_errors.push(format!("status {}", r.status())),
            Err(e) => legit_errors.push(format!("{e:?}")),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    legit_done.store(true, Ordering::Relaxed);
    for a in attackers {
        a.await.unwrap();
    }
    let lasted = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (threads, db_fds) = sampler.join().unwrap();

    latencies.sort();
    let p = |q: f64| latencies.get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1));
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    println!(
        "legitimate: {} requests, {} errors, p50 {:?}, p99 {:?}, max {:?}; flood ({} in flight): {tally:?}; \
         server: at most {threads} threads, {db_fds} database descriptors",
        latencies.len() + legit_errors.len(),
        legit_errors.len(),
        p(0.50),
        p(0.99),
        latencies.last(),
        loops * usize::from(ATTACKERS),
    );
    Report {
        tally,
        legit_requests: latencies.len() + legit_errors.len(),
        legit_errors,
        lasted,
        threads,
        db_fds,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_flood_bad_tokens_limited_per_address_legitimate_client_unaffected() {
    // Per-user limit off, so the legitimate client may go as fast as it can.
    let svc = Service::start_with(0.0, &[], None);
    let report = flood(&svc, 8).await;
    let tally = &report.tally;
    assert!(report.legit_errors.is_empty(), "legitimate requests failed: {:?}", report.legit_errors);
    assert!(report.legit_requests >= LEGIT_REQUESTS, "the legitimate client made too few requests to judge");
    // Each address gets its burst (20) and about one more a second; the rest are refused.
    let seconds = report.lasted.as_secs() + 1;
    assert!(tally.unauthorized <= u64::from(ATTACKERS) * (20 + seconds + 2), "{tally:?} in {seconds} s");
    assert!(tally.limited > tally.unauthorized, "{tally:?}");
    assert_eq!((tally.retry_after_missing, tally.other), (0, 0), "{tally:?}");

    // Each address is audited once per run of refusals, not once per request.
    let events: Vec<serde_json::Value> =
        serde_json::from_str(&svc.op(&["audit:list", "--limit", "1000", "--format", "json"])).unwrap();
    for a in 0..ATTACKERS {
        let actor = format!("address:127.0.0.{}", 2 + a);
        let n = events.iter().filter(|e| e["action"] == "auth.limited" && e["actor"] == actor).count();
        assert_eq!(n, 1, "{actor}: {n} auth.limited events");
    }
    assert!(
        !events.iter().any(|e| e["actor"] == "address:127.0.0.1"),
        "the legitimate client is not limited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_flood_unlimited_store_threads_and_descriptors_bounded() {
    // Without the per-address limit every bad token reaches the store: 128 requests in flight.
    let svc = Service::start_with(0.0, &["--auth-failure-rate", "0"], None);
    let report = flood(&svc, 32).await;
    assert!(report.legit_errors.is_empty(), "legitimate requests failed: {:?}", report.legit_errors);
    assert_eq!(report.tally.limited, 0, "the limit is off");
    assert_eq!(report.tally.other, 0, "{:?}", report.tally);
    // 32 blocking threads at most, a runtime worker per CPU, main, the audit writer.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(report.threads <= 32 + cpus + 4, "the server ran {} threads", report.threads);
    assert!(report.db_fds <= 3 * 16, "the server held {} database descriptors", report.db_fds);
}
