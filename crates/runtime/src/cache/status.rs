//! What a cache reports: its [`Status`] (for `status()` and phpinfo()) and the [`Warning`]s the PHP
//! layer raises. Neither ever holds a value.

use std::fmt;

use secrets_core::document::DocumentError;

use crate::backend::FetchError;

/// What the cache holds and how it got there. Never a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The backend, as named in messages (`mock` while a test's secrets are served).
    pub backend: String,
    /// The environment the values held were resolved for: the one the service resolved its answer
    /// for (the binding's), else the configured one (also when nothing is held).
    pub environment: String,
    /// This process.
    pub pid: u32,
    /// Fetch attempts made by this process.
    pub fetch_count: u64,
    /// Wall-clock time of the last good fetch, in Unix seconds.
    pub fetched_at: Option<f64>,
    /// Seconds since the last good fetch.
    pub age: Option<f64>,
    /// Secrets held.
    pub count: usize,
    /// The latest failure, if any.
    pub last_error: Option<String>,
    /// The HTTP status of the latest response, when the backend speaks HTTP.
    pub last_status: Option<u16>,
    /// Failures since the last good fetch.
    pub failures: u32,
    /// Whether the values held are kept past their TTL because fetches fail.
    pub stale: bool,
    /// Seconds until the next fetch may be attempted, while backing off.
    pub retry_in: Option<f64>,
    /// Seconds a good fetch is served.
    pub ttl: u64,
}

/// A warning for the PHP layer to raise, one per fetch attempt (never one per call). It names the
/// backend and the cause, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The attempt failed (ARCHITECTURE §6 says what becomes of the values held).
    FetchFailed {
        /// The backend, as named in messages.
        backend: String,
        /// Why.
        error: FetchError,
    },
    /// The attempt succeeded, but secrets whose names break a naming rule were left out.
    Skipped {
        /// The backend, as named in messages.
        backend: String,
        /// One error per secret left out: its name and the rule.
        skipped: Vec<DocumentError>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::FetchFailed { backend, error } => {
                write!(f, "cannot fetch secrets from {backend}: {}", error.message)
            }
            Warning::Skipped { backend, skipped } => {
                write!(f, "secrets from {backend}: skipped ")?;
                for (i, error) in skipped.iter().enumerate() {
                    write!(f, "{}{error}", if i == 0 { "" } else { "; " })?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_display_names_backend_and_cause() {
        let failed = Warning::FetchFailed {
            backend: "https://h/p".into(),
            error: FetchError::transient("connection refused"),
        };
        assert_eq!(failed.to_string(), "cannot fetch secrets from https://h/p: connection refused");
        let bad = |name: &str| DocumentError::BadName { name: name.into(), reason: "bad".into() };
        let skipped =
            Warning::Skipped { backend: "file:///s.json".into(), skipped: vec![bad("A B"), bad("C D")] };
        assert_eq!(
            skipped.to_string(),
            r#"secrets from file:///s.json: skipped invalid secret name "A B" in Secrets: bad; invalid secret name "C D" in Secrets: bad"#
        );
    }
}
