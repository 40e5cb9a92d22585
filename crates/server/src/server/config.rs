//! The configuration file of `serve`: TOML, at `/etc/pantheon-secrets/config.toml` when it
//! exists, or the file `--config` (or `PANTHEON_SECRETS_CONFIG`) names. Every key is optional and
//! has the name of a `serve` flag with `_` for `-`; a flag (or its environment variable) given
//! on the command line overrides the file, and the file overrides the built-in default.
//!
//! ```toml
//! data_dir = "/var/lib/pantheon-secrets"
//! database = "postgres://pantheon@db.internal/secrets"   # default: the data directory's SQLite
//! listen = "0.0.0.0:8443"
//! rate_limit = 3            # management API requests per second per user; 0: no limit
//! access_log = "/var/log/pantheon-secrets/access.log"
//! log_format = "json"       # or "text"
//! handshake_timeout = 10    # seconds (fractions allowed)
//! idle_timeout = 60
//! request_timeout = 30
//! drain_timeout = 10
//! max_connections = 4096
//! auth_failure_rate = 1
//! auth_failure_burst = 20
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::logging::LogFormat;

/// Where `serve` looks for its configuration when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/pantheon-secrets/config.toml";

/// A number as TOML writes it: `10` or `10.5`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn get(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Float(f) => f,
        }
    }
}

/// The file as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    data_dir: Option<PathBuf>,
    database: Option<String>,
    listen: Option<String>,
    rate_limit: Option<Number>,
    access_log: Option<PathBuf>,
    log_format: Option<String>,
    handshake_timeout: Option<Number>,
    idle_timeout: Option<Number>,
    request_timeout: Option<Number>,
    drain_timeout: Option<Number>,
    max_connections: Option<i64>,
    auth_failure_rate: Option<Number>,
    auth_failure_burst: Option<i64>,
}

/// The settings of a configuration file, checked as the flags are.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Config {
    /// `data_dir`.
    pub data_dir: Option<PathBuf>,
    /// `database`.
    pub database: Option<crate::store::Database>,
    /// `listen`.
    pub listen: Option<SocketAddr>,
    /// `rate_limit`.
    pub rate_limit: Option<f64>,
    /// `access_log`.
    pub access_log: Option<PathBuf>,
    /// `log_format`.
    pub log_format: Option<LogFormat>,
    /// `handshake_timeout`.
    pub handshake_timeout: Option<Duration>,
    /// `idle_timeout`.
    pub idle_timeout: Option<Duration>,
    /// `request_timeout`.
    pub request_timeout: Option<Duration>,
    /// `drain_timeout`.
    pub drain_timeout: Option<Duration>,
    /// `max_connections`.
    pub max_connections: Option<u64>,
    /// `auth_failure_rate`.
    pub auth_failure_rate: Option<f64>,
    /// `auth_failure_burst`.
    pub auth_failure_burst: Option<u32>,
}

/// Why a configuration file was refused; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("config {path}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A number of seconds above 0 and at most a day, as the timeout flags take.
pub fn seconds(value: f64) -> Option<Duration> {
    (value > 0.0 && value <= 86_400.0).then(|| Duration::from_secs_f64(value))
}

/// A rate per second: finite, 0 or more.
pub fn rate(value: f64) -> Option<f64> {
    (value.is_finite() && value >= 0.0).then_some(value)
}

impl Config {
    /// The configuration `serve` runs with: the file `explicit` names (which must exist), else
    /// [`DEFAULT_PATH`] if it exists, else none.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        match explicit {
            Some(path) => Config::read(path),
            None if Path::new(DEFAULT_PATH).exists() => Config::read(Path::new(DEFAULT_PATH)),
            None => Ok(Config::default()),
        }
    }

    /// Reads and checks one file.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError { path: path.display().to_string(), message: e.to_string() })?;
        Config::parse(&text).map_err(|message| ConfigError { path: path.display().to_string(), message })
    }

    /// Parses and checks the text of a file.
    pub fn parse(text: &str) -> Result<Config, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| describe(text, &e))?;
        let bad = |key: &str, expected: &str| format!("{key}: expected {expected}");
        let secs = |key: &str, n: Option<Number>| -> Result<Option<Duration>, String> {
            n.map(|n| {
                seconds(n.get()).ok_or_else(|| bad(key, "a number of seconds above 0 and at most 86400"))
            })
            .transpose()
        };
        let per_second = |key: &str, n: Option<Number>| -> Result<Option<f64>, String> {
            n.map(|n| rate(n.get()).ok_or_else(|| bad(key, "a number of 0 or more per second"))).transpose()
        };
        Ok(Config {
            data_dir: raw.data_dir,
            database: raw
                .database
                .map(|d| crate::store::Database::parse(&d).map_err(|e| format!("database: {e}")))
                .transpose()?,
            listen: raw
                .listen
                .map(|l| l.parse().map_err(|_| bad("listen", &format!("an address and port, got '{l}'"))))
                .transpose()?,
            rate_limit: per_second("rate_limit", raw.rate_limit)?,
            access_log: raw.access_log,
            log_format: raw
                .log_format
                .map(|f| f.parse().map_err(|e| format!("log_format: {e}")))
                .transpose()?,
            handshake_timeout: secs("handshake_timeout", raw.handshake_timeout)?,
            idle_timeout: secs("idle_timeout", raw.idle_timeout)?,
            request_timeout: secs("request_timeout", raw.request_timeout)?,
            drain_timeout: secs("drain_timeout", raw.drain_timeout)?,
            max_connections: raw
                .max_connections
                .map(|n| {
                    u64::try_from(n)
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| bad("max_connections", "1 or more"))
                })
                .transpose()?,
            auth_failure_rate: per_second("auth_failure_rate", raw.auth_failure_rate)?,
            auth_failure_burst: raw
                .auth_failure_burst
                .map(|n| u32::try_from(n).map_err(|_| bad("auth_failure_burst", "0 or more")))
                .transpose()?,
        })
    }
}

/// A parse error as `KEY: what is wrong (line L, column C)`, the key taken from the line the
/// error points at (a configuration file holds no secret, so its keys may be quoted).
fn describe(text: &str, e: &toml::de::Error) -> String {
    let message = if e.message().contains("untagged enum Number") {
        "expected a number".to_string()
    } else {
        e.message().to_string()
    };
    let Some(span) = e.span() else { return message };
    let before = &text[..span.start.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - line_start + 1;
    let line_text = text[line_start..].lines().next().unwrap_or_default();
    let key = line_text.split('=').next().unwrap_or_default().trim();
    let named = if !key.is_empty() && line_text.contains('=') && !message.contains(key) {
        format!("{key}: {message}")
    } else {
        message
    };
    format!("{named} (line {line}, column {column})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parse_every_key() {
        let config = Config::parse(
            "data_dir = \"/d\"\nlisten = \"127.0.0.1:9\"\nrate_limit = 0\naccess_log = \"/a\"\n\
             log_format = \"json\"\nhandshake_timeout = 0.5\nidle_timeout = 7\nrequest_timeout = 8\n\
             drain_timeout = 9\nmax_connections = 10\nauth_failure_rate = 2.5\nauth_failure_burst = 3\n",
        )
        .unwrap();
        assert_eq!(config.data_dir.as_deref(), Some(Path::new("/d")));
        assert_eq!(config.listen, Some("127.0.0.1:9".parse().unwrap()));
        assert_eq!(config.rate_limit, Some(0.0));
        assert_eq!(config.log_format, Some(LogFormat::Json));
        assert_eq!(config.handshake_timeout, Some(Duration::from_millis(500)));
        assert_eq!(config.drain_timeout, Some(Duration::from_secs(9)));
        assert_eq!((config.max_connections, config.auth_failure_burst), (Some(10), Some(3)));
        assert_eq!(config.auth_failure_rate, Some(2.5));
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn config_parse_bad_key_or_value_named() {
        for (text, named) in [
            ("rate_limt = 3", "rate_limt"),
            ("idle_timeout = 0", "idle_timeout"),
            ("request_timeout = \"soon\"", "request_timeout"),
            ("listen = \"nowhere\"", "listen"),
            ("log_format = \"xml\"", "xml"),
            ("max_connections = 0", "max_connections"),
            ("auth_failure_rate = nan", "auth_failure_rate"),
            ("auth_failure_burst = -1", "auth_failure_burst"),
        ] {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(named), "{text}: {err}");
        }
    }
}
