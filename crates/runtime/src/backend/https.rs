//! The service's runtime endpoint over mutual TLS (ARCHITECTURE §5–6).
//!
//! Built on ureq with rustls: synchronous, so no thread and no runtime exists outside a fetch,
//! and nothing a parent process made can be half-inherited by a forked child; and no second
//! OpenSSL inside PHP's process. Verification is always on; redirects are refused; the body is
//! capped; connect and total timeouts come from the ini settings. Messages name the cause and
//! never carry a response body.

use std::fs;
use std::io::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;
use zeroize::Zeroizing;

use super::{read_document, Backend, FailureKind, FetchError, Fetched, ReadError, MAX_DOCUMENT_BYTES};

/// The longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// The wait after a 429 without a usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The cause given when the TLS client cannot use the configured identity.
pub const MISMATCHED_IDENTITY: &str =
    "the client key does not belong to the client certificate (pantheon_secrets.client_cert / client_key)";

/// What the HTTPS client needs: where, as whom, trusting what, and how long to wait. The extension
/// takes these from its settings (`Config::https_options`); `ic:composer-auth` from its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsOptions {
    /// The runtime endpoint, path included.
    pub url: String,
    /// Client certificate file (PEM; may hold the key too); empty for none.
    pub client_cert: String,
    /// Client key file (PEM); empty when the certificate file holds it.
    pub client_key: String,
    /// CA bundle that signs the service's certificate; empty for the system roots.
    pub ca_file: String,
    /// Connect timeout (TCP connection and TLS handshake).
    pub connect_timeout: Duration,
    /// Timeout of one whole fetch.
    pub timeout: Duration,
}

/// Fetches the document from the service.
pub struct HttpsBackend {
    url: String,
    agent: Agent,
    timeouts: Timeouts,
}

/// The two timeouts, so that a message names the one that fired.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    connect: Duration,
    whole: Duration,
}

impl HttpsBackend {
    /// Prepares the client: identity and trust are read now, so a bad file is reported at once.
    pub fn new(options: &HttpsOptions) -> Result<HttpsBackend, FetchError> {
        let mut tls = TlsConfig::builder().provider(TlsProvider::Rustls).root_certs(roots(&options.ca_file)?);
        if !options.client_cert.is_empty() {
            tls = tls.client_cert(Some(identity(&options.client_cert, &options.client_key)?));
        }
        let agent: Agent = Agent::config_builder()
            .tls_config(tls.build())
            .https_only(true)
            .max_redirects(0)
            .http_status_as_error(false)
            .proxy(None)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.timeout))
            .build()
            .into();
        let timeouts = Timeouts { connect: options.connect_timeout, whole: options.timeout };
        Ok(HttpsBackend { url: options.url.clone(), agent, timeouts })
    }
}

impl Backend for HttpsBackend {
    fn fetch(&mut self) -> Result<Fetched, FetchError> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            // ureq panics on a client key that does not belong to the certificate: turn that into
            // an error that says so, instead of a panic the PHP layer can only call internal.
            let call = || self.agent.get(&self.url).header("Accept", "application/json").call();
            let response = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
                Ok(response) => response,
                Err(_) => return Err(FetchError::revoked(MISMATCHED_IDENTITY)),
            };
            let mut response = match response {
                Ok(response) => response,
                // One quick retry for a connection the service dropped (a restart, an idle
                // connection closed under us), while most of the time budget is left.
                Err(e) if attempt == 1 && retryable(&e) && started.elapsed() < self.timeouts.whole / 2 => {
                    continue
                }
                Err(e) => return Err(FetchError::transient(cause(&e, self.timeouts))),
            };
            let status = response.status().as_u16();
            let with_status =
                |kind: FailureKind, message: String| FetchError { kind, message, status: Some(status) };
            return match status {
                200 => {
                    let size_hint = response.body().content_length().unwrap_or(0);
                    let mut reader = response.body_mut().with_config().limit(MAX_DOCUMENT_BYTES).reader();
                    let read = read_document(&mut reader, size_hint, || Ok::<(), ()>(()));
                    read.map(|bytes| Fetched { bytes, status: Some(status) }).map_err(|e| {
                        let message = match e {
                            ReadError::Io(io) => cause(&ureq_error(io), self.timeouts),
                            ReadError::TooLarge | ReadError::Stopped(()) => {
                                format!("response larger than {MAX_DOCUMENT_BYTES} bytes")
                            }
                        };
                        with_status(FailureKind::Transient, message)
                    })
                }
                401 | 403 | 404 => {
                    Err(with_status(FailureKind::Revoked, format!("HTTP {status}: access refused")))
                }
                429 => {
                    let wait = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map_or(DEFAULT_RETRY_AFTER, |s| Duration::from_secs(s.max(1)).min(MAX_RETRY_AFTER));
                    Err(with_status(
                        FailureKind::RetryAfter(wait),
                        format!("HTTP 429: too many requests, retrying after {} s", wait.as_secs()),
                    ))
                }
                300..=399 => {
                    Err(with_status(FailureKind::Transient, format!("HTTP {status}: redirects are refused")))
                }
                _ => Err(with_status(FailureKind::Transient, format!("HTTP {status}"))),
            };
        }
    }
}

/// The ureq error a body reader's `io::Error` carries (ureq wraps its own errors in one).
fn ureq_error(io: std::io::Error) -> ureq::Error {
    if io.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
        if let Some(Ok(e)) = io.into_inner().map(|inner| inner.downcast::<ureq::Error>()) {
            return *e;
        }
        return ureq::Error::ConnectionFailed;
    }
    ureq::Error::Io(io)
}

fn retryable(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// What went wrong, in a few words; never a body or a value. A timeout names the setting that
/// fired: the connect timeout covers the TCP connection and the TLS handshake, the whole-fetch
/// timeout everything.
fn cause(e: &ureq::Error, timeouts: Timeouts) -> String {
    match e {
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => format!(
            "connecting timed out after {} ms (pantheon_secrets.connect_timeout_ms)",
            timeouts.connect.as_millis()
        ),
        ureq::Error::Timeout(_) => {
            format!("timed out after {} ms (pantheon_secrets.timeout_ms)", timeouts.whole.as_millis())
        }
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => "connection refused".into(),
        // The system's own connect timeout, shorter than ours.
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => {
            "connecting timed out (by the system)".into()
        }
        // rustls reports certificate and handshake failures as invalid data.
        ureq::Error::Io(io) if io.kind() == ErrorKind::InvalidData => format!("TLS: {io}"),
        ureq::Error::Io(io) => format!("connection error: {io}"),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::BodyExceedsLimit(limit) => format!("response larger than {limit} bytes"),
        ureq::Error::Rustls(tls) => format!("TLS: {tls}"),
        ureq::Error::Tls(tls) => format!("TLS: {tls}"),
        other => other.to_string(),
    }
}

/// Trust: the CA file's certificates, else the system's roots.
fn roots(ca_file: &str) -> Result<RootCerts, FetchError> {
    if ca_file.is_empty() {
        let system = rustls_native_certs::load_native_certs();
        let certs: Vec<Certificate<'static>> =
            system.certs.iter().map(|c| Certificate::from_der(c.as_ref()).to_owned()).collect();
        return Ok(if certs.is_empty() { RootCerts::WebPki } else { RootCerts::Specific(Arc::new(certs)) });
    }
    let pem = read(ca_file, "pantheon_secrets.ca_file")?;
    Ok(RootCerts::Specific(Arc::new(certificates(&pem, "pantheon_secrets.ca_file", ca_file)?)))
}

/// The worker's identity: certificates from `cert_file`, the key from `key_file` or, when that is
/// empty, from `cert_file` too (as in Pantheon's `binding.pem`).
fn identity(cert_file: &str, key_file: &str) -> Result<ClientCert, FetchError> {
    let pem = read(cert_file, "pantheon_secrets.client_cert")?;
    let certs = certificates(&pem, "pantheon_secrets.client_cert", cert_file)?;
    let (key_pem, key_setting, key_path) = if key_file.is_empty() {
        (pem, "pantheon_secrets.client_cert", cert_file)
    } else {
        (read(key_file, "pantheon_secrets.client_key")?, "pantheon_secrets.client_key", key_file)
    };
    let key: Option<PrivateKey<'static>> = ureq::tls::parse_pem(&key_pem).find_map(|item| match item {
        Ok(PemItem::PrivateKey(key)) => Some(key),
        _ => None,
    });
    let key = key.ok_or_else(|| {
        FetchError::revoked(format!(
            "{key_setting} {key_path}: no private key in it (set pantheon_secrets.client_key)"
        ))
    })?;
    Ok(ClientCert::new_with_certs(&certs, key))
}

/// The certificates of a PEM file (at least one), or an error naming the setting and the file.
fn certificates(pem: &[u8], setting: &str, path: &str) -> Result<Vec<Certificate<'static>>, FetchError> {
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(FetchError::revoked(format!("{setting} {path}: no certificate in it")));
    }
    Ok(certs)
}

fn read(path: &str, setting: &str) -> Result<Zeroizing<Vec<u8>>, FetchError> {
    fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| FetchError::revoked(format!("{setting} {path}: cannot read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::open;
    use crate::config::{ini, Config};

    fn config(settings: &[(&str, &str)]) -> Config {
        Config::read(|n| settings.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()), |_| None)
    }

    fn open_error(settings: &[(&str, &str)]) -> FetchError {
        match open(&config(settings)) {
            Err(e) => e,
            Ok(_) => panic!("opened"),
        }
    }

    #[test]
    fn https_open_names_a_missing_identity_or_ca_file() {
        let err = open_error(&[
            (ini::BACKEND, "https://127.0.0.1:1"),
            (ini::CLIENT_CERT, "/nonexistent/binding.pem"),
        ]);
        assert_eq!(err.kind, FailureKind::Revoked);
        assert!(
            err.message.starts_with("pantheon_secrets.client_cert /nonexistent/binding.pem: cannot read"),
            "{}",
            err.message
        );
        let err = open_error(&[(ini::BACKEND, "https://127.0.0.1:1"), (ini::CA_FILE, "/nonexistent/ca.pem")]);
        assert!(
            err.message.starts_with("pantheon_secrets.ca_file /nonexistent/ca.pem: cannot read"),
            "{}",
            err.message
        );
    }

    #[test]
    fn https_open_refuses_a_file_without_certificates() {
        let path = std::env::temp_dir().join(format!("secrets-core-not-pem-{}", std::process::id()));
        std::fs::write(&path, "not a certificate, and not to be echoed").unwrap();
        let file = path.to_str().unwrap();
        let err = open_error(&[(ini::BACKEND, "https://127.0.0.1:1"), (ini::CA_FILE, file)]);
        assert_eq!(err.message, format!("pantheon_secrets.ca_file {file}: no certificate in it"));
        let err = open_error(&[(ini::BACKEND, "https://127.0.0.1:1"), (ini::CLIENT_CERT, file)]);
        assert_eq!(err.message, format!("pantheon_secrets.client_cert {file}: no certificate in it"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn https_fetch_connection_refused_is_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut backend =
            open(&config(&[(ini::BACKEND, &format!("https://127.0.0.1:{port}"))])).unwrap().unwrap();
        let err = backend.fetch().unwrap_err();
        assert_eq!(err.kind, FailureKind::Transient);
        assert_eq!(err.message, "connection refused");
        assert_eq!(err.status, None);
    }

    #[test]
    fn https_fetch_connect_timeout_names_the_connect_timeout() {
        // Accepted by the kernel, never answered: the TLS handshake hangs, inside the connect timeout.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let settings =
            [(ini::BACKEND, url.as_str()), (ini::CONNECT_TIMEOUT_MS, "200"), (ini::TIMEOUT_MS, "5000")];
        let mut backend = open(&config(&settings)).unwrap().unwrap();
        let started = Instant::now();
        let err = backend.fetch().unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(2_000), "{:?}", started.elapsed());
        assert_eq!(err.kind, FailureKind::Transient);
        assert_eq!(err.message, "connecting timed out after 200 ms (pantheon_secrets.connect_timeout_ms)");
    }

    #[test]
    fn https_fetch_whole_timeout_names_the_whole_timeout() {
        // The same silent listener, with a connect timeout longer than the whole one: the
        // whole-fetch timeout fires first, and the message names it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let settings =
            [(ini::BACKEND, url.as_str()), (ini::CONNECT_TIMEOUT_MS, "5000"), (ini::TIMEOUT_MS, "200")];
        let mut backend = open(&config(&settings)).unwrap().unwrap();
        let err = backend.fetch().unwrap_err();
        assert_eq!(err.message, "timed out after 200 ms (pantheon_secrets.timeout_ms)");
    }
}
