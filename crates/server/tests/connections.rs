//! Connections that say nothing, or nothing more, are closed; an HTTP/2 connection is closed
//! when idle even while it answers (and sends) PINGs; with the cap on open connections reached,
//! or descriptors exhausted, a legitimate request is still answered and the service keeps
//! running. Real clients over loopback: raw TCP, rustls, h2, reqwest.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Service;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn addr(svc: &Service) -> SocketAddr {
    svc.url.strip_prefix("https://").unwrap().parse().unwrap()
}

fn tls_config(svc: &Service, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(svc.data.join("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// A TLS connection whose handshake is complete and that then says nothing; `None` if the
/// handshake did not complete within a few seconds.
fn silent_tls(svc: &Service, config: &Arc<rustls::ClientConfig>) -> Option<TlsStream> {
    let tcp = TcpStream::connect_timeout(&addr(svc), Duration::from_secs(3)).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let conn =
        rustls::ClientConnection::new(config.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).ok()?;
    }
    Some(stream)
}

/// Whether the peer closed `stream` within `within`: end of file or an error other than a
/// read timeout.
fn closed_within(stream: &mut impl Read, set_timeout: impl FnOnce(Duration), within: Duration) -> bool {
    set_timeout(within);
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

fn legit_client(svc: &Service) -> reqwest::blocking::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

/// One management request on a new connection; the status, or the error as text.
fn legit_request(svc: &Service) -> Result<u16, String> {
    legit_client(svc)
        .get(format!("{}/customer-secrets/v1/sites/s1/secrets/showall", svc.url))
        .bearer_auth(&svc.admin)
        .send()
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

fn with_site(svc: &Service) {
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
}

#[test]
fn connections_silent_tcp_tls_and_idle_keepalive_closed_after_timeouts() {
    let svc = Service::start_with(0.0, &["--handshake-timeout", "1", "--idle-timeout", "2"], None);
    with_site(&svc);
    let config = tls_config(&svc, &[b"http/1.1"]);
    let mut tcp: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(addr(&svc)).unwrap()).collect();
    let mut tls: Vec<TlsStream> =
        (0..20).map(|i| silent_tls(&svc, &config).unwrap_or_else(|| panic!("handshake {i}"))).collect();
    // An HTTP/1.1 keep-alive connection that made one request and then idles.
    let mut keepalive = silent_tls(&svc, &config).unwrap();
    write!(
        keepalive,
        "GET /customer-secrets/v1/sites/s1/secrets/showall HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\r\n",
        svc.admin
    )
    .unwrap();
    keepalive.flush().unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        keepalive.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let started = Instant::now();

    let within = Duration::from_secs(10);
    for (i, s) in tcp.iter_mut().enumerate() {
        let sock = s.try_clone().unwrap();
        assert!(closed_within(s, |d| sock.set_read_timeout(Some(d)).unwrap(), within), "TCP {i} still open");
    }
    for (i, s) in tls.iter_mut().enumerate() {
        let sock = s.sock.try_clone().unwrap();
        assert!(closed_within(s, |d| sock.set_read_timeout(Some(d)).unwrap(), within), "TLS {i} still open");
    }
    let sock = keepalive.sock.try_clone().unwrap();
    assert!(
        closed_within(&mut keepalive, |d| sock.set_read_timeout(Some(d)).unwrap(), within),
        "the idle keep-alive connection is still open"
    );
    eprintln!("all 41 connections closed {:?} after the keep-alive request", started.elapsed());
    // And the service still answers.
    assert_eq!(legit_request(&svc), Ok(200));
}

#[test]
fn connections_request_body_never_sent_answered_408_and_closed() {
    let svc = Service::start_with(0.0, &["--request-timeout", "1"], None);
    with_site(&svc);
    let mut stream = silent_tls(&svc, &tls_config(&svc, &[b"http/1.1"])).unwrap();
    write!(
        stream,
        "POST /customer-secrets/v1/sites/s1/secrets HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\":",
        svc.admin
    )
    .unwrap();
    stream.flush().unwrap();
    stream.sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer); // until the server closes (or the read times out)
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("request_timeout"), "{answer}");
    let sock = stream.sock.try_clone().unwrap();
    assert!(closed_within(&mut stream, |d| sock.set_read_timeout(Some(d)).unwrap(), Duration::from_secs(5)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_http2_idle_closed_even_answering_and_sending_pings() {
    let svc = Service::start_with(0.0, &["--handshake-timeout", "1", "--idle-timeout", "2"], None);
    with_site(&svc);
    let config = tls_config(&svc, &[b"h2"]);
    let tcp = tokio::net::TcpStream::connect(addr(&svc)).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut client, mut connection) = h2::client::handshake(tls).await.unwrap();
    let mut pings = connection.ping_pong().expect("a ping handle");
    let connection = tokio::spawn(connection);
    let request =
        axum::http::Request::get(format!("{}/customer-secrets/v1/sites/s1/secrets/showall", svc.url))
            .header("authorization", format!("Bearer {}", svc.admin))
            .body(())
            .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        chunk.unwrap();
    }
    // The client keeps the connection busy with PINGs (and answers the server's own).
    let pinger = tokio::spawn(async move {
        let mut answered = 0u32;
        while pings.ping(h2::Ping::opaque()).await.is_ok() {
            answered += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        answered
    });
    let started = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(15), connection).await;
    assert!(ended.is_ok(), "the idle HTTP/2 connection is still open after 15 s");
    let answered = pinger.await.unwrap();
    eprintln!("HTTP/2 connection closed after {:?}; {answered} PINGs answered meanwhile", started.elapsed());
    assert!(answered >= 3, "the server answered PINGs while idle ({answered})");
    drop(client);
}

/// Opens up to `n` silent TLS connections, stopping at the first that does not complete its
/// handshake (the server no longer accepts); returns those that did.
fn open_silent(svc: &Service, n: usize) -> Vec<TlsStream> {
    let config = tls_config(svc, &[b"http/1.1"]);
    let mut open = Vec::new();
    for _ in 0..n {
        match silent_tls(svc, &config) {
            Some(s) => open.push(s),
            None => break,
        }
    }
    open
}

#[test]
fn connections_cap_reached_legitimate_request_answered() {
    // 128 descriptors: the default cap is 24 connections; the handshake timeout is long, so
    // only the cap can make room.
    let mut svc = Service::start_with(0.0, &["--handshake-timeout", "60", "--idle-timeout", "60"], Some(128));
    with_site(&svc);
    let mut idle = open_silent(&svc, 150);
    eprintln!("{} silent connections opened", idle.len());
    assert_eq!(idle.len(), 150, "every new connection is accepted (an idle one makes room)");
    for _ in 0..3 {
        assert_eq!(legit_request(&svc), Ok(200), "a legitimate request at the cap");
    }
    // The oldest silent connections were closed to make room.
    let first = &mut idle[0];
    let sock = first.sock.try_clone().unwrap();
    assert!(closed_within(first, |d| sock.set_read_timeout(Some(d)).unwrap(), Duration::from_secs(5)));
    let fds = std::fs::read_dir(format!("/proc/{}/fd", svc.pid())).unwrap().count();
    eprintln!("server descriptors at the cap: {fds} of 128");
    assert!(svc.running());
}

#[test]
fn connections_descriptors_exhausted_accept_backs_off_and_recovers() {
    // A cap above the descriptor limit: accept itself runs out of descriptors.
    let mut svc = Service::start_with(
        0.0,
        &["--handshake-timeout", "60", "--idle-timeout", "60", "--max-connections", "100000"],
        Some(128),
    );
    with_site(&svc);
    let idle = open_silent(&svc, 200);
    eprintln!("{} silent connections opened", idle.len());
    for _ in 0..3 {
        assert_eq!(legit_request(&svc), Ok(200), "a legitimate request with descriptors exhausted");
    }
    assert!(svc.running());
    drop(idle);
    assert_eq!(legit_request(&svc), Ok(200));
}

#[test]
fn connections_failed_handshakes_logged_throttled() {
    // The same data directory, served by a process whose stderr the test reads.
    let mut svc = Service::start_with(0.0, &[], None);
    svc.stop();
    let log = svc.dir.join("serve.stderr");
    let mut child = std::process::Command::new(common::BIN)
        .args(["serve", "--data-dir", svc.data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)
        .unwrap();
    let addr: SocketAddr = line.trim().strip_prefix("listening on https://").unwrap().parse().unwrap();
    // Plain HTTP to the TLS port: each is a failed handshake.
    let garbage = |n: usize| {
        for _ in 0..n {
            let mut tcp = TcpStream::connect(addr).unwrap();
            tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = tcp.read(&mut [0u8; 64]);
        }
    };
    let started = Instant::now();
    garbage(30);
    std::thread::sleep(Duration::from_millis(1100));
    garbage(1);
    std::thread::sleep(Duration::from_millis(200));
    let took = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("TLS handshake from 127.0.0.1")).collect();
    assert!(!lines.is_empty() && lines[0].contains("failed"), "{text}");
    let most = took.as_secs() as usize + 2;
    assert!(lines.len() <= most, "31 failures in {took:?}, at most a line a second: {text}");
    assert!(text.contains("more like it not shown"), "{text}");
}

#[test]
fn connections_serve_flags_refuse_bad_values() {
    for (flag, value) in [
        ("--handshake-timeout", "0"),
        ("--idle-timeout", "-1"),
        ("--request-timeout", "soon"),
        ("--max-connections", "0"),
        ("--auth-failure-rate", "NaN"),
        ("--auth-failure-rate", "-2"),
    ] {
        let out = common::run(&["serve", "--data-dir", "/nonexistent", &format!("{flag}={value}")]);
        let text = common::text(&out);
        assert!(!out.status.success(), "{flag} {value}: {text}");
        assert!(text.contains(flag) && text.contains(value), "{flag} {value}: {text}");
    }
}
