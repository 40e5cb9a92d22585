//! Failed authentication per client address: after a burst of refused credentials, an address
//! gets 429 with `Retry-After` on the management API until its budget refills, without the
//! request reaching the token lookup (and so the database). The first refusal of a run (until
//! the address has earned its whole burst back) is recorded in the audit trail
//! (`auth.limited`), not every request of a flood.
//!
//! Addresses are IPv4 addresses or IPv6 /64 networks (what one host usually gets). The runtime
//! API is not concerned: its callers are authenticated by the TLS handshake.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::{metrics, Shared, BASE};
use crate::store::AuditEvent;

/// The most addresses tracked; beyond, the ones whose budget is full again are forgotten.
const MAX_CLIENTS: usize = 65_536;

/// The address a request came from, put on each request by the connection loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// A token bucket per client address, spent by failed authentications only.
pub struct FailedAuthLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    /// Whether this run of refusals (until the budget is full again) has been audited already.
    reported: bool,
}

/// What [`FailedAuthLimiter::check`] decided.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// The request may try to authenticate.
    Allowed,
    /// Refused; retry after this long. `first` is set on the first refusal of a run.
    Limited {
        /// How long until one more attempt is allowed.
        wait: Duration,
        /// Whether this is the first refusal of the run.
        first: bool,
    },
}

impl FailedAuthLimiter {
    /// `burst` failures at once, then `rate` a second; a rate of 0 disables the limit.
    pub fn new(rate: f64, burst: u32) -> FailedAuthLimiter {
        FailedAuthLimiter { rate, burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Whether `ip` may try to authenticate now. An attempt allowed holds one of the address's
    /// tokens until its answer: [`FailedAuthLimiter::succeeded`] gives it back, so only
    /// failures spend the budget, and concurrent attempts cannot exceed it.
    pub fn attempt(&self, ip: IpAddr) -> Verdict {
        if self.rate <= 0.0 {
            return Verdict::Allowed;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_CLIENTS {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
            if buckets.len() >= MAX_CLIENTS {
                // More addresses failing at once than can be tracked: start afresh rather than grow.
                buckets.clear();
            }
        }
        let bucket = buckets.entry(client_key(ip)).or_insert(Bucket {
            tokens: self.burst,
            last: now,
            reported: false,
        });
        self.refill(bucket, now);
        if bucket.tokens >= self.burst {
            // Quiet long enough to earn the whole burst back: a new run starts.
            bucket.reported = false;
        }
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Verdict::Allowed;
        }
        let first = !bucket.reported;
        bucket.reported = true;
        Verdict::Limited { wait: Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate), first }
    }

    /// Gives back the token of an attempt that did not fail authentication.
    pub fn succeeded(&self, ip: IpAddr) {
        if self.rate <= 0.0 {
            return;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = buckets.get_mut(&client_key(ip)) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.burst);
        }
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let earned = now.duration_since(bucket.last).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + earned).min(self.burst);
        bucket.last = now;
    }
}

/// IPv4 addresses as they are (also when mapped into IPv6), IPv6 by /64 network.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// The middleware: refuses limited addresses before anything else runs; every 401 the
/// management API answers costs the address it went to one token.
pub async fn limit_failed_auth(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let Some(ClientAddr(ip)) = request.extensions().get::<ClientAddr>().copied() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    // The runtime API authenticates in the handshake; health and metrics take no credentials.
    if path.starts_with(&format!("{BASE}/runtime/"))
        || [metrics::HEALTHZ, metrics::READYZ, metrics::METRICS].contains(&path)
    {
        return next.run(request).await;
    }
    if let Verdict::Limited { wait, first } = state.auth_failures.attempt(ip) {
        state.metrics.rate_limited(metrics::Limit::FailedAuth);
        if first {
            state.audit.record(AuditEvent {
                actor: format!("address:{ip}"),
                action: "auth.limited".into(),
                detail: Some("too many failed authentications; refusing for a while".into()),
                ..AuditEvent::default()
            });
        }
        return ApiError::RateLimited(wait.as_secs_f64().ceil().max(1.0) as u64).into_response();
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::UNAUTHORIZED {
        state.auth_failures.succeeded(ip);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn failed_auth_limiter_burst_then_limited_once_reported() {
        let limiter = FailedAuthLimiter::new(1.0, 3);
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limiter.attempt(a), Verdict::Allowed);
        }
        let Verdict::Limited { wait, first } = limiter.attempt(a) else { panic!("not limited") };
        assert!(first && wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(matches!(limiter.attempt(a), Verdict::Limited { first: false, .. }));
        // One token earned back is not a new run.
        limiter.buckets.lock().unwrap().get_mut(&a).unwrap().tokens = 1.5;
        assert_eq!(limiter.attempt(a), Verdict::Allowed);
        assert!(matches!(limiter.attempt(a), Verdict::Limited { first: false, .. }));
        assert_eq!(limiter.attempt(ip("192.0.2.2")), Verdict::Allowed, "other addresses keep their budget");
    }

    #[test]
    fn failed_auth_limiter_successes_cost_nothing_concurrent_attempts_bounded() {
        let limiter = FailedAuthLimiter::new(1.0, 2);
        let a = ip("192.0.2.1");
        for _ in 0..100 {
            assert_eq!(limiter.attempt(a), Verdict::Allowed);
            limiter.succeeded(a);
        }
        // Two attempts in flight hold the whole budget; a third waits for their answers.
        assert_eq!(limiter.attempt(a), Verdict::Allowed);
        assert_eq!(limiter.attempt(a), Verdict::Allowed);
        assert!(matches!(limiter.attempt(a), Verdict::Limited { .. }));
        limiter.succeeded(a);
        assert_eq!(limiter.attempt(a), Verdict::Allowed);
    }

    #[test]
    fn failed_auth_limiter_zero_rate_disables() {
        let limiter = FailedAuthLimiter::new(0.0, 1);
        for _ in 0..10 {
            assert_eq!(limiter.attempt(ip("192.0.2.1")), Verdict::Allowed);
        }
    }

    #[test]
    fn failed_auth_limiter_ipv6_same_network_shares_budget() {
        let limiter = FailedAuthLimiter::new(1.0, 2);
        assert_eq!(limiter.attempt(ip("2001:db8:1:2::1")), Verdict::Allowed);
        assert_eq!(limiter.attempt(ip("2001:db8:1:2:ffff::9")), Verdict::Allowed);
        assert!(matches!(limiter.attempt(ip("2001:db8:1:2::3")), Verdict::Limited { .. }));
        assert_eq!(limiter.attempt(ip("2001:db8:1:3::1")), Verdict::Allowed);
        assert_eq!(limiter.attempt(ip("::ffff:192.0.2.7")), Verdict::Allowed);
        assert_eq!(limiter.attempt(ip("192.0.2.7")), Verdict::Allowed);
        assert!(matches!(limiter.attempt(ip("192.0.2.7")), Verdict::Limited { .. }), "mapped is the same");
    }
}
