//! Who is calling: extractors for the management API (bearer token, then the per-user rate
//! limit) and for the runtime API (the client certificate the TLS layer verified).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::{blocking, Shared};
use crate::store::{build_env_allowed, BindingRow, Site, User};

/// The SHA-256 fingerprint of the client certificate of a connection, put on each of its
/// requests by the connection loop once rustls has verified it against the service CA.
#[derive(Debug, Clone, Copy)]
pub struct PeerCert(pub [u8; 32]);

/// A management API caller: a known bearer token, within its rate limit.
pub struct AuthUser(pub User);

impl FromRequestParts<Shared> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(token_from_header)
            .map(|t| zeroize::Zeroizing::new(t.to_string()))
            .ok_or_else(|| ApiError::Unauthorized {
                code: "unauthorized",
                message: "A token is required: `Authorization: Bearer TOKEN` (or the bare token).".into(),
            })?;
        let user = blocking(state, move |store| store.user_for_token(&token)).await?.ok_or_else(|| {
            ApiError::Unauthorized { code: "unauthorized", message: "The token is not valid.".into() }
        })?;
        let verdict = if state.limiter.rate > 0.0 && state.store.engine() == "postgres" {
            // Replicas share the database, so they share the budget kept there.
            let (bucket, rate) = (format!("user:{}", user.name), state.limiter.rate);
            blocking(state, move |store| store.take_request(&bucket, rate)).await?
        } else {
            state.limiter.check(&user.name)
        };
        verdict.map_err(|wait| {
            state.metrics.rate_limited(super::metrics::Limit::User);
            ApiError::RateLimited(wait.as_secs_f64().ceil().max(1.0) as u64)
        })?;
        Ok(AuthUser(user))
    }
}

/// The token of an `Authorization` header: `Bearer TOKEN` with the scheme in any case (RFC 9110
/// §11.1), or the bare token as Terminus' secrets plugin sends it. Another scheme (`Basic …`) or
/// an empty token is no token.
pub fn token_from_header(header: &str) -> Option<&str> {
    let header = header.trim();
    let token = match header.split_once([' ', '\t']) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None if header.eq_ignore_ascii_case("bearer") => return None,
        None => header,
    };
    (!token.is_empty()).then_some(token)
}

/// A runtime caller: a verified client certificate that the service issued and has not revoked.
pub struct Runtime {
    /// The binding the certificate was issued as.
    pub binding: BindingRow,
    /// Its site.
    pub site: Site,
    /// The store's generation, read before anything else of this request.
    pub generation: u64,
}

impl FromRequestParts<Shared> for Runtime {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let peer = parts.extensions.get::<PeerCert>().copied().ok_or_else(|| ApiError::Unauthorized {
            code: "client_certificate_required",
            message: "The runtime API requires a client certificate (a binding).".into(),
        })?;
        let found = blocking(state, move |store| store.runtime_identity(&peer.0)).await?;
        let forbidden = |code, message: &str| ApiError::Forbidden { code, message: message.to_string() };
        let Some((generation, binding, site)) = found else {
            return Err(forbidden(
                "unknown_binding",
                "This client certificate is not a binding of this service.",
            ));
        };
        if binding.revoked {
            state.audit.record(crate::store::AuditEvent {
                actor: format!("binding:{}", binding.serial),
                action: "runtime.denied".into(),
                target: Some(format!("site:{}", binding.site)),
                env: Some(binding.env.clone()),
                detail: Some("revoked".into()),
                ..Default::default()
            });
            return Err(forbidden("binding_revoked", "This binding has been revoked."));
        }
        if binding.build && !build_env_allowed(&binding.env) {
            return Err(forbidden(
                "build_env_not_allowed",
                "Build identities exist only for dev and multidev environments.",
            ));
        }
        Ok(Runtime { binding, site, generation })
    }
}

/// A token bucket per user: `burst` requests at once, refilled at `rate` per second, in memory:
/// the limit of a service alone on its database (SQLite). On PostgreSQL the buckets are kept in
/// the database instead ([`crate::store::Store::take_request`]), shared by every replica.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter of `rate` requests per second with a burst of the same size; 0 disables it.
    pub fn new(rate: f64) -> RateLimiter {
        RateLimiter { rate, burst: rate.max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `user`, or says how long until one is available.
    pub fn check(&self, user: &str) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = buckets.entry(user.to_string()).or_insert((self.burst, now));
        let verdict;
        (*tokens, verdict) = crate::store::limits::take(
            *tokens,
            now.duration_since(*last).as_secs_f64(),
            self.rate,
            self.burst,
        );
        *last = now;
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_from_header_bearer_any_case_or_bare() {
        for header in ["Bearer pss_1", "bearer pss_1", "BEARER  pss_1 ", "pss_1", " pss_1\t", "Bearer\tpss_1"]
        {
            assert_eq!(token_from_header(header), Some("pss_1"), "{header:?}");
        }
        for header in ["", "Bearer", "Bearer ", "Basic cHNzXzE=", "Token pss_1", "   "] {
            assert_eq!(token_from_header(header), None, "{header:?}");
        }
    }

    #[test]
    fn rate_limiter_burst_then_wait() {
        let limiter = RateLimiter::new(3.0);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(limiter.check("b").is_ok(), "other users are unaffected");
    }

    #[test]
    fn rate_limiter_zero_disables() {
        let limiter = RateLimiter::new(0.0);
        for _ in 0..100 {
            assert!(limiter.check("a").is_ok());
        }
    }
}
