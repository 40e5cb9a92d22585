//! A load generator for the runtime API over mTLS: requests per second and p50/p99 latency,
//! with keep-alive (one connection per worker, reused) or a new TLS connection per request.
//!
//! usage: runtime_load URL CA_PEM BINDING_PEM [--workers N] [--seconds S] [--new-connections]

use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let flag = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    if positional.len() < 3 {
        eprintln!(
            "usage: runtime_load URL CA_PEM BINDING_PEM [--workers N] [--seconds S] [--new-connections]"
        );
        std::process::exit(2);
    }
    let url = format!("{}/customer-secrets/v1/runtime/secrets", positional[0]);
    let ca = reqwest::Certificate::from_pem(&std::fs::read(positional[1]).unwrap()).unwrap();
    let identity = reqwest::Identity::from_pem(&std::fs::read(positional[2]).unwrap()).unwrap();
    let workers = flag("--workers", 16) as usize;
    let seconds = flag("--seconds", 10);
    let new_connections = args.iter().any(|a| a == "--new-connections");

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = |fresh: bool| {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca.clone())
            .identity(identity.clone())
            .http1_only();
        if fresh {
            builder = builder.pool_max_idle_per_host(0);
        }
        builder.build().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = Arc::new(url);
    let started = Instant::now();
    let (latencies, errors, bytes) = runtime.block_on(async {
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let client = client(new_connections);
                let url = url.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut errors = 0u64;
                    let mut bytes = 0u64;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        match client.get(url.as_str()).send().await {
                            Ok(r) if r.status() == 200 => match r.bytes().await {
                                Ok(body) => {
                                    bytes += body.len() as u64;
                                    latencies.push(t.elapsed());
                                }
                                Err(_) => errors += 1,
                            },
                            _ => errors += 1,
                        }
                    }
                    (latencies, errors, bytes)
                })
            })
            .collect();
        let mut all = Vec::new();
        let (mut errors, mut bytes) = (0, 0);
        for t in tasks {
            let (l, e, b) = t.await.unwrap();
            all.extend(l);
            errors += e;
            bytes += b;
        }
        (all, errors, bytes)
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort();
    let pct = |p: f64| {
        sorted
            .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "mode={} workers={workers} requests={} errors={errors} body_bytes={} rps={:.0} p50_ms={:.2} p99_ms={:.2}",
        if new_connections {
            "new-connection"
        } else {
            "keep-alive"
        },
        sorted.len(),
        bytes / (sorted.len() as u64).max(1),
        sorted.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
    );
}
