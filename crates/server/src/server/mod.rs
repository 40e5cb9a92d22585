//! The HTTPS service: one TLS listener, the management API (bearer tokens) and the runtime API
//! (client certificates) on one router.

mod audit;
mod auth;
mod error;
mod manage;
mod runtime;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

pub use audit::{AuditSink, AuditWriter};
pub use auth::{PeerCert, RateLimiter};
pub use error::{ApiError, ERROR_CODE_HEADER};

use crate::crypto;
use crate::pki;
use crate::store::{DataDir, Store, StoreError};

/// The base path of every endpoint, as on Pantheon.
pub const BASE: &str = "/customer-secrets/v1";

/// What every handler shares.
pub struct AppState {
    /// The database and keys.
    pub store: Arc<Store>,
    /// The management API's per-user limit.
    pub limiter: RateLimiter,
    /// The audit trail.
    pub audit: AuditSink,
    /// Runtime answers, valid while the store's generation is unchanged.
    pub runtime_cache: runtime::RuntimeCache,
    /// The runtime access log, if `serve --access-log` asked for one.
    pub access_log: Option<std::sync::Mutex<std::fs::File>>,
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
}

/// Runs a store call on the blocking pool.
pub async fn blocking<T, F>(state: &Shared, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| ApiError::Internal(format!("store task: {e}")))?
        .map_err(ApiError::from)
}

/// The router of both APIs.
pub fn router(state: Shared) -> Router {
    Router::new()
        .merge(manage::routes())
        .merge(runtime::routes())
        .fallback(|| async {
            ApiError::Store(StoreError::NotFound { code: "not_found", message: "No such endpoint.".into() })
        })
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
}

/// Opens the data directory, binds `listen`, prints `listening on https://ADDR` (the actual
/// address, so port 0 works) and serves until SIGINT or SIGTERM. Returns the audit writer: the
/// caller shuts the runtime down (dropping open connections) and then waits for it.
pub async fn serve(dir: DataDir, listen: SocketAddr, opts: ServeOptions) -> Result<AuditWriter, ServeError> {
    let store = Arc::new(Store::open(&dir)?);
    let acceptor = TlsAcceptor::from(pki::server_config(&dir)?);
    let listener = TcpListener::bind(listen).await.map_err(|e| ServeError::Listen(listen, e))?;
    let local = listener.local_addr().map_err(|e| ServeError::Listen(listen, e))?;
    let (audit, writer) = AuditSink::start(store.clone());
    let state = Arc::new(AppState {
        audit,
        store,
        limiter: RateLimiter::new(opts.rate_limit),
        runtime_cache: runtime::RuntimeCache::default(),
        access_log: match &opts.access_log {
            Some(path) => Some(std::sync::Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| ServeError::AccessLog(path.display().to_string(), e))?,
            )),
            None => None,
        },
    });
    let app = router(state);
    println!("listening on https://{local}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, _) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("error: accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                // A failed handshake (a foreign or expired certificate among others) gets nothing.
                _ => return,
            };
            let peer = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|cert| PeerCert(crypto::sha256(cert.as_ref())));
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                if let Some(peer) = peer {
                    req.extensions_mut().insert(peer);
                }
                app.clone().oneshot(req)
            });
            // With a timer, HTTP/1 connections that send no (next) request headers within 30 s
            // are closed, so idle or stalled clients do not hold connections forever.
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(30));
            builder.http2().timer(TokioTimer::new()).keep_alive_interval(Duration::from_secs(60));
            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
        });
    }
    eprintln!("shutting down");
    Ok(writer)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
