//! Health and metrics: `GET /healthz` (the process answers), `GET /readyz` (the store answers
//! and the current master key is loaded) and `GET /metrics` (the Prometheus text format,
//! version 0.0.4). None of them needs credentials and none carries secret data: requests are
//! labelled by their route *template* (`/customer-secrets/v1/sites/{site}/secrets/{name}`),
//! never by the path that was asked for, so no site, organization or secret name reaches a label.
//!
//! The format is written here by hand: a handful of counters and one histogram family are a
//! few dozen lines, and a registry crate would add dependencies for no gain in what is exposed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{Shared, ERROR_CODE_HEADER};

pub use crate::api_paths::{HEALTHZ, METRICS, READYZ};

/// Bindings expiring within this many days count as near expiry.
pub const NEAR_EXPIRY_DAYS: u32 = 30;

/// Upper bounds (seconds) of the latency histogram's buckets; `+Inf` follows.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The route label of a request that matched no route (404 from the fallback).
const UNMATCHED: &str = "unmatched";

/// Why a call was refused for its rate.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// The management API's per-user limit (`--rate-limit`).
    User,
    /// The per-address limit on failed authentication (`--auth-failure-rate`).
    FailedAuth,
}

/// One (method, route, status) series: a count and a latency histogram.
#[derive(Default)]
struct Series {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Series {
    /// The histogram's lines for this series: one cumulative bucket per bound, `+Inf`, the sum
    /// and the count, each with `labels` (and `le` for the buckets).
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, n) in BUCKETS.iter().zip(self.buckets.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// The service's counters, shared by every request.
pub struct Metrics {
    started: SystemTime,
    requests: Mutex<BTreeMap<(&'static str, String, u16), Series>>,
    runtime_reads: AtomicU64,
    build_reads: AtomicU64,
    limited_user: AtomicU64,
    limited_auth: AtomicU64,
    decrypt_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: SystemTime::now(),
            requests: Mutex::new(BTreeMap::new()),
            runtime_reads: AtomicU64::new(0),
            build_reads: AtomicU64::new(0),
            limited_user: AtomicU64::new(0),
            limited_auth: AtomicU64::new(0),
            decrypt_failures: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        // Routes are templates and statuses a small set: the map stays small. Still, it is bounded.
        if requests.len() >= 4096 && !requests.contains_key(&(method, route.to_string(), status)) {
            return;
        }
        let series = requests.entry((method, route.to_string(), status)).or_default();
        series.count += 1;
        series.sum += seconds;
        for (bound, n) in BUCKETS.iter().zip(series.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
    }

    /// Counts one runtime read answered (a PHP worker's, or a build runner's).
    pub fn runtime_read(&self, build: bool) {
        let counter = if build { &self.build_reads } else { &self.runtime_reads };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one call refused for its rate.
    pub fn rate_limited(&self, limit: Limit) {
        let counter = match limit {
            Limit::User => &self.limited_user,
            Limit::FailedAuth => &self.limited_auth,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition, with the binding counts read from the store.
    pub fn render(&self, bindings: Option<(u64, u64)>) -> String {
        let mut out = String::new();
        let started = self.started.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        family(&mut out, "process_start_time_seconds", "gauge", "When the service started (Unix time).");
        let _ = writeln!(out, "process_start_time_seconds {started}");
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let series: Vec<(String, &Series)> = requests
            .iter()
            .map(|((method, route, status), series)| {
                (format!("method=\"{method}\",route=\"{}\",status=\"{status}\"", escape(route)), series)
            })
            .collect();
        family(
            &mut out,
            "pantheon_secrets_requests_total",
            "counter",
            "Requests answered, by method, route template and status.",
        );
        for (labels, series) in &series {
            let _ = writeln!(out, "pantheon_secrets_requests_total{{{labels}}} {}", series.count);
        }
        family(
            &mut out,
            "pantheon_secrets_request_duration_seconds",
            "histogram",
            "Time from a request's headers to its answer, by method, route template and status.",
        );
        for (labels, series) in &series {
            series.write(&mut out, "pantheon_secrets_request_duration_seconds", labels);
        }
        drop(series);
        drop(requests);
        family(
            &mut out,
            "pantheon_secrets_runtime_reads_total",
            "counter",
            "Runtime documents served, by kind of binding (runtime: a PHP worker, build: a build runner).",
        );
        let reads = [("runtime", &self.runtime_reads), ("build", &self.build_reads)];
        for (kind, counter) in reads {
            let _ = writeln!(
                out,
                "pantheon_secrets_runtime_reads_total{{kind=\"{kind}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        family(
            &mut out,
            "pantheon_secrets_rate_limited_total",
            "counter",
            "Calls refused with 429, by limit (user: --rate-limit, failed_auth: --auth-failure-rate).",
        );
        for (limit, counter) in [("user", &self.limited_user), ("failed_auth", &self.limited_auth)] {
            let _ = writeln!(
                out,
                "pantheon_secrets_rate_limited_total{{limit=\"{limit}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        family(
            &mut out,
            "pantheon_secrets_decrypt_failures_total",
            "counter",
            "Requests answered decrypt_failed: a stored value did not open with the keys loaded.",
        );
        let _ = writeln!(
            out,
            "pantheon_secrets_decrypt_failures_total {}",
            self.decrypt_failures.load(Ordering::Relaxed)
        );
        if let Some((expiring, expired)) = bindings {
            family(
                &mut out,
                "pantheon_secrets_bindings_expiring",
                "gauge",
                "Unrevoked bindings that expire within the number of days given by `within_days`.",
            );
            let _ = writeln!(
                out,
                "pantheon_secrets_bindings_expiring{{within_days=\"{NEAR_EXPIRY_DAYS}\"}} {expiring}"
            );
            family(
                &mut out,
                "pantheon_secrets_bindings_expired",
                "gauge",
                "Unrevoked bindings whose certificate has expired.",
            );
            let _ = writeln!(out, "pantheon_secrets_bindings_expired {expired}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A method as a label: the standard ones by name, anything else as `other` (a client chooses
/// the method, and labels must stay a small set).
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The middleware: times every request and counts it by method, route template and status;
/// counts the answers that say a value did not decrypt.
pub async fn count_requests(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if response.headers().get(ERROR_CODE_HEADER).is_some_and(|c| c == "decrypt_failed") {
        state.metrics.decrypt_failures.fetch_add(1, Ordering::Relaxed);
    }
    let route = route.as_deref().unwrap_or(UNMATCHED);
    state.metrics.observe(method, route, status, started.elapsed().as_secs_f64());
    response
}

pub(super) fn routes() -> Router<Shared> {
    Router::new().route(HEALTHZ, get(healthz)).route(READYZ, get(readyz)).route(METRICS, get(metrics))
}

/// `GET /healthz`: the process is up and answering.
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers and the current master key is loaded; 503 otherwise,
/// with a reason that names what is missing (details go to the log, not to the caller).
async fn readyz(State(state): State<Shared>) -> Response {
    let store = state.store.clone();
    let checked = tokio::task::spawn_blocking(move || store.readiness()).await;
    let reason = match checked {
        Ok(Ok(())) => return axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            match e {
                crate::store::StoreError::Crypto(_) => "master key not loaded",
                _ => "store not reachable",
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check did not run");
            "store not reachable"
        }
    };
    let body = serde_json::json!({"status": "not_ready", "reason": reason});
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
}

/// `GET /metrics`: the Prometheus text format.
async fn metrics(State(state): State<Shared>) -> Response {
    let store = state.store.clone();
    let bindings = tokio::task::spawn_blocking(move || store.bindings_expiring(NEAR_EXPIRY_DAYS)).await;
    let bindings = match bindings {
        Ok(Ok(counts)) => Some(counts),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: cannot count bindings near expiry");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the binding count did not run");
            None
        }
    };
    let text = state.metrics.render(bindings);
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_histogram_cumulative_and_counts() {
        let m = Metrics::default();
        m.observe("GET", "/a/{id}", 200, 0.003);
        m.observe("GET", "/a/{id}", 200, 0.2);
        m.observe("GET", "/a/{id}", 404, 0.0005);
        m.runtime_read(false);
        m.runtime_read(true);
        m.runtime_read(true);
        m.rate_limited(Limit::User);
        let text = m.render(Some((2, 1)));
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has("pantheon_secrets_requests_total{method=\"GET\",route=\"/a/{id}\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(has(
            "pantheon_secrets_request_duration_seconds_bucket{method=\"GET\",route=\"/a/{id}\",status=\"200\",le=\"0.001\"} 0"
        ));
        assert!(has(
            "pantheon_secrets_request_duration_seconds_bucket{method=\"GET\",route=\"/a/{id}\",status=\"200\",le=\"0.005\"} 1"
        ));
        assert!(has(
            "pantheon_secrets_request_duration_seconds_bucket{method=\"GET\",route=\"/a/{id}\",status=\"200\",le=\"+Inf\"} 2"
        ));
        assert!(has(
            "pantheon_secrets_request_duration_seconds_count{method=\"GET\",route=\"/a/{id}\",status=\"404\"} 1"
        ));
        assert!(has(
            "pantheon_secrets_request_duration_seconds_sum{method=\"GET\",route=\"/a/{id}\",status=\"404\"} 0.0005"
        ));
        assert!(has("pantheon_secrets_runtime_reads_total{kind=\"build\"} 2"));
        assert!(has("pantheon_secrets_rate_limited_total{limit=\"user\"} 1"));
        assert!(has("pantheon_secrets_rate_limited_total{limit=\"failed_auth\"} 0"));
        assert!(has("pantheon_secrets_bindings_expiring{within_days=\"30\"} 2"));
        assert!(has("pantheon_secrets_bindings_expired 1"));
    }

    #[test]
    fn escape_label_quotes_backslashes_newlines() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
