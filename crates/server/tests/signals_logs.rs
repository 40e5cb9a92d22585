//! Signals and logs: SIGHUP leaves the service up, reopens the access log and loads a renewed
//! certificate; SIGTERM drains (no new connections, requests in flight finish within the grace
//! period); logs in text or JSON with RFC 3339 timestamps; the access log's times are RFC 3339.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Service;
use serde_json::json;

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) with a pid this test started and a valid signal number; no pointers.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, sig) }, 0);
}

fn addr_of(svc: &Service) -> SocketAddr {
    svc.url.trim_start_matches("https://").parse().unwrap()
}

fn is_rfc3339(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Retries `check` every 50 ms for up to `secs` seconds.
fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

fn reaches(svc: &Service, name: &str) -> bool {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    let client = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .resolve(name, addr_of(svc))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    client.get(format!("https://{name}:{}/healthz", addr_of(svc).port())).send().is_ok()
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("ps-sig-{}", secrets_server::crypto::to_hex(&secrets_server::crypto::random_bytes(6))));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn sighup_keeps_serving_reopens_access_log_reloads_certificate() {
    let log = temp_file("access.log");
    let mut svc = Service::start_with(0.0, &["--access-log", log.to_str().unwrap()], None);
    svc.op(&["site:create", "s1"]);
    let pem = svc.binding("s1.dev", &[]);
    svc.runtime(&pem);
    let first = std::fs::read_to_string(&log).unwrap();
    let fields: Vec<&str> = first.lines().next().unwrap().split(' ').collect();
    assert!(is_rfc3339(fields[0]), "an RFC 3339 time first: {first}");
    assert_eq!(&fields[1..4], ["runtime.read", "s1.dev", "runtime"], "{first}");

    // Rotated away, then SIGHUP: the next reads go to a new file at the same path.
    let rotated = log.with_extension("log.1");
    std::fs::rename(&log, &rotated).unwrap();
    signal(svc.pid(), libc::SIGHUP);
    assert!(
        eventually(5, || {
            svc.runtime(&pem);
            log.exists()
        }),
        "the access log was reopened"
    );
    assert!(svc.running(), "SIGHUP does not stop the service");
    assert!(!std::fs::read_to_string(&rotated).unwrap().is_empty(), "the old file kept its lines");

    // A renewed certificate is served after SIGHUP, without a restart.
    assert!(!reaches(&svc, "reload.example.test"));
    svc.op(&["cert:renew", "--hostname", "reload.example.test"]);
    signal(svc.pid(), libc::SIGHUP);
    assert!(eventually(5, || reaches(&svc, "reload.example.test")), "the new certificate is served");
    assert!(svc.running());
    let _ = std::fs::remove_dir_all(log.parent().unwrap());
}

/// A request body that sends `head`, then waits for the test's word before sending `tail`.
struct Stalled {
    parts: Vec<Vec<u8>>,
    go: mpsc::Receiver<()>,
    waited: bool,
}

impl Read for Stalled {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.parts.len() == 1 && !self.waited {
            self.waited = true;
            // A closed channel (the test ended) stalls forever, as a client that never finishes.
            if self.go.recv().is_err() {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        let Some(part) = self.parts.first_mut() else { return Ok(0) };
        let n = part.len().min(buf.len());
        buf[..n].copy_from_slice(&part[..n]);
        part.drain(..n);
        if part.is_empty() {
            self.parts.remove(0);
        }
        Ok(n)
    }
}

/// Starts `POST …/sites/s1/secrets` with a body that stalls halfway; returns the sender that
/// lets it finish and the thread that waits for the answer.
fn stalled_post(
    svc: &Service,
    name: &str,
) -> (mpsc::Sender<()>, std::thread::JoinHandle<Result<u16, String>>) {
    let (go, wait) = mpsc::channel();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    let url = format!("{}/customer-secrets/v1/sites/s1/secrets", svc.url);
    let token = svc.admin.clone();
    let body = json!({"name": name, "value": "drained-value"}).to_string().into_bytes();
    let (head, tail) = body.split_at(10);
    let reader = Stalled { parts: vec![head.to_vec(), tail.to_vec()], go: wait, waited: false };
    let thread = std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        client
            .post(url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(reqwest::blocking::Body::new(reader))
            .send()
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    });
    (go, thread)
}

fn exit_within(svc: &mut Service, secs: u64) -> bool {
    eventually(secs, || !svc.running())
}

#[test]
fn sigterm_drains_in_flight_request_refuses_new_connections() {
    let mut svc = Service::start_with(0.0, &["--drain-timeout", "20"], None);
    svc.op(&["site:create", "s1"]);
    let addr = addr_of(&svc);
    let (go, answer) = stalled_post(&svc, "DRAINED");
    std::thread::sleep(Duration::from_millis(500));
    signal(svc.pid(), libc::SIGTERM);
    assert!(eventually(5, || TcpStream::connect(addr).is_err()), "the listener closes at once");
    assert!(svc.running(), "still draining the request in flight");
    go.send(()).unwrap();
    assert_eq!(answer.join().unwrap(), Ok(201), "the request in flight finished");
    assert!(exit_within(&mut svc, 10), "then the service exits");
    let db = rusqlite::Connection::open(svc.data.join("secrets.db")).unwrap();
    let stored: i64 =
        db.query_row("SELECT COUNT(*) FROM secrets WHERE name = 'DRAINED'", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 1);
}

#[test]
fn sigterm_drain_timeout_drops_a_stalled_request() {
    let mut svc = Service::start_with(0.0, &["--drain-timeout", "1"], None);
    svc.op(&["site:create", "s1"]);
    let (go, _answer) = stalled_post(&svc, "NEVER");
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    signal(svc.pid(), libc::SIGTERM);
    assert!(exit_within(&mut svc, 8), "the stalled request does not hold the service past its grace");
    assert!(sent.elapsed() >= Duration::from_millis(900), "it had its grace period: {:?}", sent.elapsed());
    drop(go);
}

/// `serve` with these flags, its stderr in a file; returns the process, its address and the file.
fn serve_logged(svc: &mut Service, flags: &[&str]) -> (Child, SocketAddr, PathBuf) {
    svc.stop();
    let log = svc.dir.join(format!("serve-{}.stderr", flags.join("")));
    let mut child = Command::new(common::BIN)
        .args(["serve", "--data-dir", svc.data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on https://").unwrap().parse().unwrap();
    (child, addr, log)
}

/// Plain HTTP to the TLS port: a failed handshake, which the service logs as a warning.
fn failed_handshake(addr: SocketAddr) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = tcp.read(&mut [0u8; 64]);
}

#[test]
fn log_format_json_rfc3339_text_too() {
    let mut svc = Service::start_with_rate(0.0);
    let (mut child, addr, log) = serve_logged(&mut svc, &["--log-format", "json"]);
    failed_handshake(addr);
    signal(child.id(), libc::SIGTERM);
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(events.len() >= 3, "{text}");
    for e in &events {
        assert!(is_rfc3339(e["timestamp"].as_str().unwrap()), "{e}");
    }
    let find = |m: &str| events.iter().find(|e| e["message"].as_str().unwrap_or("").contains(m)).cloned();
    assert_eq!(find("listening").unwrap()["level"], "INFO");
    assert_eq!(find("TLS handshake from 127.0.0.1").unwrap()["level"], "WARN", "{text}");
    assert!(find("draining").is_some(), "{text}");

    let (mut child, addr, log) = serve_logged(&mut svc, &["--log-format", "text"]);
    failed_handshake(addr);
    signal(child.id(), libc::SIGTERM);
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let warning = text.lines().find(|l| l.contains("TLS handshake from 127.0.0.1")).unwrap();
    let stamp = warning.split_whitespace().next().unwrap();
    assert!(is_rfc3339(stamp) && warning.contains("WARN"), "{warning}");

    let out = common::run(&["serve", "--data-dir", "/nonexistent", "--log-format", "xml"]);
    assert!(common::text(&out).contains("xml"), "{}", common::text(&out));
}
