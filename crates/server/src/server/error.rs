//! The HTTP layer's one error type: clients get a status, a stable code and a plain message;
//! internal causes are logged on the server. Neither ever carries a secret value.
//!
//! The wire form is the one Terminus' secrets plugin can show: the body is a JSON *string*, the
//! message (the plugin decodes the body and uses it as a string: `strpos($data, 'PATCH')`,
//! `new TerminusException($data)`), and the stable code rides in the [`ERROR_CODE_HEADER`]
//! header, for our CLI and for scripts.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

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

pub use crate::api_paths::ERROR_CODE_HEADER;

/// The response of an error: the message as a JSON string, the code in [`ERROR_CODE_HEADER`].
fn error_response(status: StatusCode, code: &'static str, message: String) -> Response {
    let mut response = (status, Json(message)).into_response();
    let code = HeaderValue::from_str(code).unwrap_or(HeaderValue::from_static("internal"));
    response.headers_mut().insert(ERROR_CODE_HEADER, code);
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
                    tracing::error!(error = %e, "a stored value did not decrypt");
                    (StatusCode::INTERNAL_SERVER_ERROR, "decrypt_failed", e.to_string())
                }
                e => {
                    tracing::error!(error = %e, "store error");
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error.".to_string())
                }
            },
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error.".to_string())
            }
        };
        error_response(status, code, message)
    }
}
