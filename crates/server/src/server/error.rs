//! The HTTP layer's one error type: clients get a status, a stable code and a plain message;
//! internal causes are logged on the server. Neither ever carries a secret value.
//!
//! The wire form is the one Terminus' secrets plugin can show: the body is a JSON *string*, the
//! message (the plugin decodes the body and uses it as a string: `strpos($data, 'PATCH')`,
//! `new TerminusException($data)`), and the stable code rides in the [`ERROR_CODE_HEADER`]
//! header, for our CLI and for scripts.
//!
//! As in axum's error-handling example, [`IntoResponse`] has no side effects: the internal
//! cause of a 500 rides in a response extension ([`InternalCause`]), never in the body, and
//! [`log_internal_errors`], one middleware, logs it with `tracing`.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub use crate::api_paths::ERROR_CODE_HEADER;
use crate::store::StoreError;

/// An API error.
#[derive(Debug)]
pub enum ApiError {
    /// No credentials, or unknown ones.
    Unauthorized {
        /// A stable code.
        code: &'static str,
        /// What is missing.
        message: String,
    },
    /// Known credentials that may not do this.
    Forbidden {
        /// A stable code.
        code: &'static str,
        /// What is refused.
        message: String,
    },
    /// Over the rate limit; retry after this many seconds.
    RateLimited(u64),
    /// A malformed request.
    BadRequest(String),
    /// No route has this path (the router's fallback).
    NoRoute,
    /// What the store said.
    Store(StoreError),
    /// Something that is the server's fault, logged and answered with a plain message.
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e)
    }
}

/// What the client reads for a 500 whose stored value did not decrypt.
pub const DECRYPT_FAILED: &str = "A stored value could not be decrypted; the service's log says which.";
/// What the client reads for any other 500.
pub const INTERNAL: &str = "Internal error.";

/// The cause of a 500, for the log only: [`log_internal_errors`] takes it off the response.
#[derive(Debug, Clone)]
pub struct InternalCause {
    /// The stable code the client got.
    pub code: &'static str,
    /// What went wrong (which row did not decrypt, which task failed); never a value.
    pub detail: Arc<str>,
}

/// The response of an error: the message as a JSON string, the code in [`ERROR_CODE_HEADER`].
fn error_response(status: StatusCode, code: &'static str, message: String) -> Response {
    let mut response = (status, Json(message)).into_response();
    let code = HeaderValue::from_str(code).unwrap_or(HeaderValue::from_static("internal"));
    response.headers_mut().insert(ERROR_CODE_HEADER, code);
    response
}

/// A 500 with a plain message; the detail rides along for the log.
fn internal(code: &'static str, message: &str, detail: String) -> Response {
    let mut response = error_response(StatusCode::INTERNAL_SERVER_ERROR, code, message.to_string());
    response.extensions_mut().insert(InternalCause { code, detail: detail.into() });
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::Unauthorized { code, message } => (StatusCode::UNAUTHORIZED, code, message),
            ApiError::Forbidden { code, message } => (StatusCode::FORBIDDEN, code, message),
            ApiError::RateLimited(secs) => {
                let mut response = error_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("Too many requests: retry after {secs} s."),
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_str(&secs.to_string()).unwrap_or(HeaderValue::from_static("1")),
                );
                return response;
            }
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, "invalid_request", message),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "not_found", "No such endpoint.".to_string()),
            ApiError::Store(e) => match e {
                StoreError::Invalid { code, message } => (StatusCode::BAD_REQUEST, code, message),
                StoreError::NotFound { code, message } => (StatusCode::NOT_FOUND, code, message),
                StoreError::Conflict { code, message } => (StatusCode::CONFLICT, code, message),
                e if e.is_unavailable() => {
                    tracing::error!(error = %e, "database unavailable");
                    let mut response = error_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "database_unavailable",
                        "The database is unavailable: retry shortly.".to_string(),
                    );
                    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    return response;
                }
                e @ StoreError::Decrypt(_) => {
                    return internal("decrypt_failed", DECRYPT_FAILED, e.to_string())
                }
                e => return internal("internal", INTERNAL, format!("store: {e}")),
            },
            ApiError::Internal(cause) => return internal("internal", INTERNAL, cause),
        };
        error_response(status, code, message)
    }
}

/// The middleware that logs the cause of each 500 (the method and route template with it, never
/// the path asked for) and takes it off the response.
pub async fn log_internal_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let mut response = next.run(request).await;
    if let Some(cause) = response.extensions_mut().remove::<InternalCause>() {
        tracing::error!(
            method = %method,
            route = route.as_deref().unwrap_or("unmatched"),
            code = cause.code,
            error = %cause.detail,
            "internal error"
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_response_internal_detail_in_extension_not_body() {
        let detail = "cannot decrypt secret 'B' of site 's1' (default): mismatch";
        let response = ApiError::Internal(detail.into()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[ERROR_CODE_HEADER], "internal");
        let cause = response.extensions().get::<InternalCause>().expect("the cause rides along");
        assert_eq!(&*cause.detail, detail);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let body = runtime.block_on(axum::body::to_bytes(response.into_body(), 1024)).unwrap();
        assert_eq!(serde_json::from_slice::<String>(&body).unwrap(), INTERNAL);
    }

    #[test]
    fn into_response_client_errors_carry_no_cause() {
        for e in [ApiError::NoRoute, ApiError::BadRequest("x".into()), ApiError::RateLimited(2)] {
            let response = e.into_response();
            assert!(response.status().is_client_error());
            assert!(response.extensions().get::<InternalCause>().is_none());
        }
        let response = ApiError::NoRoute.into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[ERROR_CODE_HEADER], "not_found");
    }
}
