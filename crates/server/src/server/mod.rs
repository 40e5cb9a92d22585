//! The HTTPS service: one TLS listener, the management API (bearer tokens) and the runtime API
//! (client certificates) on one router.

mod audit;
mod auth;
mod auth_limit;
pub mod config;
pub mod conn;
mod error;
pub mod logging;
mod manage;
pub mod metrics;
mod runtime;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The base path of every endpoint ([`crate::api_paths`] has them all).
pub use crate::api_paths::BASE;
pub use audit::{AuditSink, AuditWriter};
pub use auth::{PeerCert, RateLimiter};
pub use auth_limit::{ClientAddr, FailedAuthLimiter};
use conn::{ConnLimits, LogThrottle, Registered, Tracker};
pub use error::{ApiError, ERROR_CODE_HEADER};

use crate::crypto;
use crate::pki;
use crate::store::{DataDir, Store, StoreError};

/// What every handler shares.
pub struct AppState {
    /// The database and keys.
    pub store: Arc<Store>,
    /// The management API's per-user limit.
    pub limiter: RateLimiter,
    /// The per-address limit on failed authentication.
    pub auth_failures: FailedAuthLimiter,
    /// Store calls running at once: fewer than the store's connections, so requests queue here
    /// (as tasks) rather than as blocked threads waiting for a database connection.
    pub store_calls: Semaphore,
    /// The audit trail.
    pub audit: AuditSink,
    /// Runtime answers, valid while the store's generation is unchanged.
    pub runtime_cache: runtime::RuntimeCache,
    /// The runtime access log, if `serve --access-log` asked for one (reopened on SIGHUP).
    pub access_log: Option<logging::AccessLog>,
    /// Request counts and latencies, for `GET /metrics`.
    pub metrics: metrics::Metrics,
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

/// Options of `serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Management API requests per second per user (also the burst); 0 disables the limit.
    pub rate_limit: f64,
    /// Where to append a line per runtime read, if anywhere.
    pub access_log: Option<std::path::PathBuf>,
    /// From accept to the end of the TLS handshake and to the first request.
    pub handshake_timeout: Duration,
    /// How long a connection may stay idle between requests (HTTP/1 keep-alive and HTTP/2).
    pub idle_timeout: Duration,
    /// How long a request may take from its headers to its answer (then 408).
    pub request_timeout: Duration,
    /// Open connections at most; `None`: from the descriptor limit.
    pub max_connections: Option<usize>,
    /// Failed authentications per second per client address once the burst is spent; 0
    /// disables the limit.
    pub auth_failure_rate: f64,
    /// Failed authentications per client address allowed at once.
    pub auth_failure_burst: u32,
    /// On SIGTERM or SIGINT, how long requests in flight have to finish.
    pub drain_timeout: Duration,
    /// The database; `None`: the one the data directory records, or its SQLite file.
    pub database: Option<crate::store::Database>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            rate_limit: 3.0,
            access_log: None,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_connections: None,
            auth_failure_rate: 1.0,
            auth_failure_burst: 20,
            drain_timeout: Duration::from_secs(10),
            database: None,
        }
    }
}

/// Store calls that may run at once (the rest of the store's connections are for the audit
/// writer and operator commands).
const STORE_CALLS: usize = crate::store::MAX_CONNECTIONS - 4;

/// Runs a store call on the blocking pool.
pub async fn blocking<T, F>(state: &Shared, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = state.store.clone();
    let _slot =
        state.store_calls.acquire().await.map_err(|e| ApiError::Internal(format!("store slots: {e}")))?;
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| ApiError::Internal(format!("store task: {e}")))?
        .map_err(ApiError::from)
}

/// How long `serve` waits between attempts to reach a database that is not up yet.
const DATABASE_RETRY: Duration = Duration::from_secs(1);

/// Opens the store (on the blocking pool: a PostgreSQL connection blocks). A database that
/// cannot be reached yet (a replica started before its PostgreSQL server) is waited for,
/// retrying every [`DATABASE_RETRY`] and logging each failure; any other error ends `serve`.
async fn open_store(dir: &DataDir, database: Option<crate::store::Database>) -> Result<Store, StoreError> {
    loop {
        let (dir, database) = (dir.clone(), database.clone());
        let opened = tokio::task::spawn_blocking(move || match &database {
            Some(database) => Store::open_in(&dir, database),
            None => Store::open(&dir),
        })
        .await
        .map_err(|e| StoreError::Invalid { code: "internal", message: format!("opening the store: {e}") })?;
        match opened {
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, retry_seconds = DATABASE_RETRY.as_secs(), "database unavailable: waiting");
                tokio::time::sleep(DATABASE_RETRY).await;
            }
            other => return other,
        }
    }
}

/// The router of both APIs.
pub fn router(state: Shared) -> Router {
    Router::new()
        .merge(manage::routes())
        .merge(runtime::routes())
        .merge(metrics::routes())
        .fallback(|| async { ApiError::NoRoute })
        .layer(axum::middleware::from_fn(error::log_internal_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth_limit::limit_failed_auth))
        // Outermost, so that it also counts what the failed-authentication limit refused.
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count_requests))
        .with_state(state)
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The certificates.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    /// The listener.
    #[error("listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    /// The access log.
    #[error("access log {0}: {1}")]
    AccessLog(String, std::io::Error),
    /// The signal handlers (SIGHUP, SIGTERM, SIGINT).
    #[error("signal handlers: {0}")]
    Signals(std::io::Error),
}

/// Opens the data directory, binds `listen`, prints `listening on https://ADDR` (the actual
/// address, so port 0 works) and serves until SIGINT or SIGTERM. Returns the audit writer: the
/// caller shuts the runtime down (dropping open connections) and then waits for it.
///
/// Connections are bounded as [`conn`] describes; accept errors back off (10 ms doubling to 1 s)
/// and, when descriptors run out, close an idle connection.
///
/// SIGHUP reopens the access log and reloads the server certificate and key (new connections
/// get them; on an error the old ones stay and the error is logged). SIGTERM and SIGINT drain:
/// the listener closes at once, idle connections are closed, and requests in flight have
/// `drain_timeout` to finish before the rest is dropped.
pub async fn serve(dir: DataDir, listen: SocketAddr, opts: ServeOptions) -> Result<AuditWriter, ServeError> {
    let descriptors = conn::raise_descriptor_limit();
    let limits = ConnLimits {
        handshake_timeout: opts.handshake_timeout,
        idle_timeout: opts.idle_timeout,
        request_timeout: opts.request_timeout,
        max_connections: opts.max_connections.unwrap_or_else(|| conn::default_max_connections(descriptors)),
    };
    let store = Arc::new(open_store(&dir, opts.database.clone()).await?);
    let acceptor = std::sync::RwLock::new(TlsAcceptor::from(pki::server_config(&dir)?));
    // Signals are taken before the address is printed: whoever reads it may signal at once.
    let mut signals = Signals::new().map_err(ServeError::Signals)?;
    let listener = TcpListener::bind(listen).await.map_err(|e| ServeError::Listen(listen, e))?;
    let local = listener.local_addr().map_err(|e| ServeError::Listen(listen, e))?;
    let (audit, writer) = AuditSink::start(store.clone());
    let state = Arc::new(AppState {
        audit,
        store,
        limiter: RateLimiter::new(opts.rate_limit),
        auth_failures: FailedAuthLimiter::new(opts.auth_failure_rate, opts.auth_failure_burst),
        store_calls: Semaphore::new(STORE_CALLS),
        runtime_cache: runtime::RuntimeCache::default(),
        access_log: match &opts.access_log {
            Some(path) => Some(
                logging::AccessLog::open(path)
                    .map_err(|e| ServeError::AccessLog(path.display().to_string(), e))?,
            ),
            None => None,
        },
        metrics: metrics::Metrics::default(),
    });
    let app = router(state.clone());
    let tracker = Arc::new(Tracker::new(limits.max_connections));
    let (drain, draining) = tokio::sync::watch::channel(false);
    println!("listening on https://{local}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tracing::info!(address = %local, max_connections = limits.max_connections, "listening");
    let mut errors_in_a_row = 0u32;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            signal = signals.next() => match signal {
                Signal::Reload => {
                    reload(&dir, &state, &acceptor);
                    continue;
                }
                Signal::Stop => break,
            },
        };
        let (tcp, addr) = match accepted {
            Ok(accepted) => {
                errors_in_a_row = 0;
                accepted
            }
            Err(e) => {
                errors_in_a_row = errors_in_a_row.saturating_add(1);
                let freed = conn::out_of_descriptors(&e) && tracker.evict_one();
                ACCEPT_ERRORS.log(tracing::Level::ERROR, || {
                    format!(
                        "accept: {e} ({} connections open{})",
                        tracker.len(),
                        if freed { "; closed an idle one" } else { "" }
                    )
                });
                tokio::time::sleep(conn::accept_backoff(errors_in_a_row)).await;
                continue;
            }
        };
        let Some(registered) = tracker.admit() else {
            REFUSED.log(tracing::Level::WARN, || {
                format!("{} connections open and all busy: refusing {addr}", limits.max_connections)
            });
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.read().unwrap_or_else(|e| e.into_inner()).clone();
        let drain = (draining.clone(), opts.drain_timeout);
        tokio::spawn(connection(tcp, addr, registered, acceptor, app.clone(), limits, drain));
    }
    // Stop accepting, then let what is in flight finish.
    drop(listener);
    let open = tracker.len();
    tracing::info!(connections = open, grace_seconds = opts.drain_timeout.as_secs_f64(), "draining");
    let _ = drain.send(true);
    let deadline = tokio::time::Instant::now() + opts.drain_timeout + Duration::from_millis(100);
    while !tracker.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::info!(dropped = tracker.len(), "shutting down");
    Ok(writer)
}

/// What SIGHUP reloads: the access log (reopened at its path) and the server certificate.
fn reload(dir: &DataDir, state: &Shared, acceptor: &std::sync::RwLock<TlsAcceptor>) {
    if let Some(log) = &state.access_log {
        match log.reopen() {
            Ok(()) => tracing::info!(path = %log.path().display(), "access log reopened"),
            Err(e) => tracing::error!(path = %log.path().display(), error = %e, "access log not reopened"),
        }
    }
    match pki::server_config(dir) {
        Ok(config) => {
            *acceptor.write().unwrap_or_else(|e| e.into_inner()) = TlsAcceptor::from(config);
            tracing::info!("server certificate reloaded");
        }
        Err(e) => tracing::error!(error = %e, "server certificate not reloaded; the previous one stays"),
    }
}

/// The signals `serve` acts on.
enum Signal {
    /// SIGHUP.
    Reload,
    /// SIGTERM or SIGINT.
    Stop,
}

/// SIGHUP, SIGTERM and SIGINT, installed before the service announces itself.
struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.hup.recv() => Signal::Reload,
            _ = self.term.recv() => Signal::Stop,
            _ = self.int.recv() => Signal::Stop,
        }
    }
}

/// Failed TLS handshakes (foreign or expired certificates, scanners, timeouts).
static HANDSHAKE_FAILURES: LogThrottle = LogThrottle::new();
/// Accept errors (descriptors exhausted among others).
static ACCEPT_ERRORS: LogThrottle = LogThrottle::new();
/// Connections refused at the cap.
static REFUSED: LogThrottle = LogThrottle::new();

/// One connection: the TLS handshake within the handshake timeout, then HTTP/1 or HTTP/2 until
/// the client closes, it stays idle too long, or the tracker needs its place.
async fn connection(
    tcp: TcpStream,
    addr: SocketAddr,
    registered: Registered,
    acceptor: TlsAcceptor,
    app: Router,
    limits: ConnLimits,
    (mut draining, drain_timeout): (tokio::sync::watch::Receiver<bool>, Duration),
) {
    let activity = registered.activity();
    let handshake = tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp));
    let tls = tokio::select! {
        result = handshake => match result {
            Ok(Ok(tls)) => tls,
            // A failed handshake (a foreign or expired certificate among others) gets nothing.
            Ok(Err(e)) => {
                HANDSHAKE_FAILURES.log(tracing::Level::WARN, || format!("TLS handshake from {addr} failed: {e}"));
                return;
            }
            Err(_) => {
                HANDSHAKE_FAILURES.log(tracing::Level::WARN, || {
                    format!(
                        "TLS handshake from {addr} timed out after {:?}",
                        limits.handshake_timeout
                    )
                });
                return;
            }
        },
        () = activity.evicted() => return,
    };
    let peer = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| PeerCert(crypto::sha256(cert.as_ref())));
    let client = ClientAddr(addr.ip());
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        if let Some(peer) = peer {
            req.extensions_mut().insert(peer);
        }
        req.extensions_mut().insert(client);
        let in_flight = requests.begin();
        let answer = tokio::time::timeout(limits.request_timeout, app.clone().oneshot(req));
        async move {
            let response = answer.await.unwrap_or_else(|_| Ok(request_timed_out(limits.request_timeout)));
            drop(in_flight);
            response
        }
    });
    // The header read timeout bounds a request that starts but never finishes its headers; the
    // tracker bounds the time before the first request and between requests (HTTP/2 PINGs do not
    // count as activity, so a client answering them is still closed when idle).
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(30));
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Duration::from_secs(60));
    let served = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(served);
    let grace = tokio::select! {
        _ = served.as_mut() => return,
        _ = activity.close_wanted(&limits) => conn::CLOSE_GRACE,
        _ = draining.wait_for(|d| *d) => drain_timeout,
    };
    // HTTP/2 gets a GOAWAY, HTTP/1 closes once no response is being written; whatever is left
    // after the grace period is dropped with the connection.
    served.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(grace, served).await;
    drop(registered);
}

/// The answer to a request not answered in time (its body never came, among others); the
/// connection is closed after it, as what is left of the request cannot be skipped.
fn request_timed_out(timeout: Duration) -> axum::response::Response {
    use axum::http::{header, HeaderName, StatusCode};
    use axum::response::IntoResponse;
    // As every error: the message as a JSON string, the stable code in a header.
    let message = format!("The request was not complete within {} s.", timeout.as_secs_f64());
    let headers =
        [(header::CONNECTION, "close"), (HeaderName::from_static(ERROR_CODE_HEADER), "request_timeout")];
    (StatusCode::REQUEST_TIMEOUT, headers, axum::Json(message)).into_response()
}
