//! The runtime API: a PHP worker (or a build runner) reads its site's secrets, resolved for its
//! environment, with the shared resolution code of `secrets_core`.
//!
//! Answers are cached per site, environment and kind, and reused while the store's generation
//! (bumped by database triggers on any change, whoever makes it) is unchanged; the binding itself
//! is checked on every request, so revocation takes effect at once. Reads are audited once per
//! binding per [`AUDIT_READ_EVERY`] (or sooner when the data changed), not once per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use secrets_core::resolve::resolve_document;
use secrets_core::Scope;
use zeroize::Zeroizing;

use super::auth::Runtime;
use super::error::ApiError;
use super::{blocking, Shared, BASE};
use crate::store::{AuditEvent, View};

/// How often one binding's reads of unchanged data are recorded in the audit trail.
pub const AUDIT_READ_EVERY: Duration = Duration::from_secs(60);

/// The most answers the cache holds; beyond, it starts afresh.
const CACHE_ENTRIES: usize = 4096;

/// A serialized answer, zeroed when the last holder drops it.
type Body = Arc<Zeroizing<Vec<u8>>>;

/// One cached answer: the generation it was built at, the JSON, the names it holds.
struct Answer {
    generation: u64,
    body: Body,
    names: Arc<str>,
}

/// Runtime answers by (site, environment, build), and when each binding's read was last audited.
#[derive(Default)]
pub struct RuntimeCache {
    answers: Mutex<HashMap<(String, String, bool), Answer>>,
    audited: Mutex<HashMap<String, (Instant, u64)>>,
}

impl RuntimeCache {
    fn get(&self, key: &(String, String, bool), generation: u64) -> Option<(Body, Arc<str>)> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.get(key).filter(|a| a.generation == generation).map(|a| (a.body.clone(), a.names.clone()))
    }

    fn put(&self, key: (String, String, bool), answer: Answer) {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.len() >= CACHE_ENTRIES {
            answers.clear();
        }
        answers.insert(key, answer);
    }

    /// Whether this read should be recorded: first read, data changed, or the interval passed.
    fn should_audit(&self, serial: &str, generation: u64) -> bool {
        let now = Instant::now();
        let mut audited = self.audited.lock().unwrap_or_else(|e| e.into_inner());
        if audited.len() >= CACHE_ENTRIES {
            audited.clear();
        }
        match audited.get(serial) {
            Some((at, g)) if *g == generation && now.duration_since(*at) < AUDIT_READ_EVERY => false,
            _ => {
                audited.insert(serial.to_string(), (now, generation));
                true
            }
        }
    }
}

pub(super) fn routes() -> Router<Shared> {
    Router::new().route(&format!("{BASE}/runtime/secrets"), get(runtime_secrets))
}

/// `GET /runtime/secrets`: the ARCHITECTURE §3 document with only `web` secrets (`ic` for a build
/// identity), each holding its value for the certificate's environment and nothing else. Only
/// the default values and that environment's overrides are decrypted.
async fn runtime_secrets(
    State(state): State<Shared>,
    Runtime { binding, site, generation }: Runtime,
) -> Result<impl IntoResponse, ApiError> {
    let key = (binding.site.clone(), binding.env.clone(), binding.build);
    let (body, names) = match state.runtime_cache.get(&key, generation) {
        Some(hit) => hit,
        None => {
            let env = binding.env.clone();
            let scope = if binding.build { Scope::Ic } else { Scope::Web };
            let (body, names) = blocking(&state, move |store| {
                let doc = store.site_document(&site, View::Scope { scope: &scope, env: &env })?;
                let visible = resolve_document(&doc, &env, &scope);
                let names: Vec<&str> = visible.secrets.keys().map(String::as_str).collect();
                let body = serde_json::to_vec(&visible).unwrap_or_default();
                Ok((Arc::new(Zeroizing::new(body)), Arc::<str>::from(names.join(","))))
            })
            .await?;
            state.runtime_cache.put(key, Answer { generation, body: body.clone(), names: names.clone() });
            (body, names)
        }
    };
    if state.runtime_cache.should_audit(&binding.serial, generation) {
        state.audit.record(AuditEvent {
            actor: format!("binding:{}", binding.serial),
            action: "runtime.read".into(),
            target: Some(format!("site:{}", binding.site)),
            env: Some(binding.env.clone()),
            detail: Some(names.to_string()),
            ..AuditEvent::default()
        });
    }
    state.metrics.runtime_read(binding.build);
    if let Some(log) = &state.access_log {
        log.runtime_read(&binding.site, &binding.env, binding.build, &binding.serial);
    }
    // The response shares the cached buffer: no unzeroized copy of the values is made here.
    let body = axum::body::Bytes::from_owner(CachedBody(body));
    Ok(([(CONTENT_TYPE, "application/json")], body))
}

/// A cached answer as a response body.
struct CachedBody(Body);

impl AsRef<[u8]> for CachedBody {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}
