//! Configuration (ARCHITECTURE §5): what the PHP layer reads from php.ini and the environment, turned
//! into one value the cache compares and uses.

use std::path::PathBuf;
use std::time::Duration;

/// The path the service answers runtime fetches on, when a backend URL has no path of its own.
pub const RUNTIME_PATH: &str = "/customer-secrets/v1/runtime/secrets";
/// The environment variable Pantheon's SDK reads for its fake file client.
pub const FAKE_FILE_ENV: &str = "CUSTOMER_SECRETS_FAKE_FILE";
/// The environment variable that names the environment on Pantheon.
pub const ENVIRONMENT_ENV: &str = "PANTHEON_ENVIRONMENT";
/// The environment used when neither ini nor `PANTHEON_ENVIRONMENT` names one.
pub const DEFAULT_ENVIRONMENT: &str = "dev";

/// Where secrets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendSpec {
    /// No backend: no secrets, and nothing to warn about.
    None,
    /// A secrets document on disk.
    File(PathBuf),
    /// The service's runtime endpoint (the full URL, path included).
    Https(String),
    /// A setting that names no usable backend.
    Invalid {
        /// The setting as written.
        setting: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl BackendSpec {
    /// Reads `pantheon_secrets.backend`, falling back to the fake file the SDK uses.
    pub fn parse(setting: &str, fake_file: Option<&str>) -> BackendSpec {
        let setting = setting.trim();
        if setting.is_empty() {
            return match fake_file.map(str::trim) {
                Some(path) if !path.is_empty() => BackendSpec::File(PathBuf::from(path)),
                _ => BackendSpec::None,
            };
        }
        if let Some(path) = setting.strip_prefix("file://") {
            return if path.starts_with('/') {
                BackendSpec::File(PathBuf::from(path))
            } else {
                invalid(setting, "a file backend must be file:///absolute/path")
            };
        }
        if setting.starts_with('/') {
            return BackendSpec::File(PathBuf::from(setting));
        }
        if let Some(rest) = setting.strip_prefix("https://") {
            let has_path = rest.find('/').is_some_and(|at| at + 1 < rest.len());
            return if rest.is_empty() || rest.starts_with('/') {
                invalid(setting, "the URL has no host")
            } else if has_path {
                BackendSpec::Https(setting.to_string())
            } else {
                BackendSpec::Https(format!("https://{}{RUNTIME_PATH}", rest.trim_end_matches('/')))
            };
        }
        invalid(
            setting,
            "pantheon_secrets.backend must be https://host[:port][/path] or file:///absolute/path",
        )
    }

    /// How the backend is named in messages and status: never a credential.
    pub fn describe(&self) -> String {
        match self {
            BackendSpec::None => "none".into(),
            BackendSpec::File(path) => format!("file://{}", path.display()),
            BackendSpec::Https(url) => without_userinfo(url),
            BackendSpec::Invalid { setting, .. } => without_userinfo(setting),
        }
    }
}

fn invalid(setting: &str, reason: &'static str) -> BackendSpec {
    BackendSpec::Invalid { setting: setting.to_string(), reason }
}

fn without_userinfo(url: &str) -> String {
    let Some(rest) = url.strip_prefix("https://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("https://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Everything the cache needs to know, read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where secrets come from.
    pub backend: BackendSpec,
    /// The environment values are resolved for.
    pub environment: String,
    /// How long a good fetch is served before the next call refreshes.
    pub ttl: Duration,
    /// How long after the last good fetch values may still be served while fetches fail.
    pub stale_limit: Duration,
    /// The longest pause between attempts while fetches fail.
    pub backoff_max: Duration,
    /// Client certificate (PEM; may hold the key too).
    pub client_cert: String,
    /// Client key (PEM); empty when the certificate file holds it.
    pub client_key: String,
    /// CA bundle that signs the service's certificate; empty for the system roots.
    pub ca_file: String,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one whole fetch.
    pub timeout: Duration,
}

/// The ini names of the settings (ARCHITECTURE §5), with their defaults.
pub mod ini {
    /// Backend URL or path.
    pub const BACKEND: &str = "pantheon_secrets.backend";
    /// Environment override.
    pub const ENVIRONMENT: &str = "pantheon_secrets.environment";
    /// Seconds a fetch is served.
    pub const TTL: &str = "pantheon_secrets.ttl";
    /// Seconds stale values may be served while fetches fail.
    pub const STALE_LIMIT: &str = "pantheon_secrets.stale_limit";
    /// Cap of the back-off between failed attempts, in seconds.
    pub const BACKOFF_MAX: &str = "pantheon_secrets.backoff_max";
    /// Client certificate file.
    pub const CLIENT_CERT: &str = "pantheon_secrets.client_cert";
    /// Client key file.
    pub const CLIENT_KEY: &str = "pantheon_secrets.client_key";
    /// CA file.
    pub const CA_FILE: &str = "pantheon_secrets.ca_file";
    /// Connect timeout, milliseconds.
    pub const CONNECT_TIMEOUT_MS: &str = "pantheon_secrets.connect_timeout_ms";
    /// Whole-fetch timeout, milliseconds.
    pub const TIMEOUT_MS: &str = "pantheon_secrets.timeout_ms";

    /// Every setting with its default, in the order phpinfo() shows them.
    pub const DEFAULTS: &[(&str, &str)] = &[
        (BACKEND, ""),
        (ENVIRONMENT, ""),
        (TTL, "900"),
        (STALE_LIMIT, "86400"),
        (BACKOFF_MAX, "300"),
        (CLIENT_CERT, ""),
        (CLIENT_KEY, ""),
        (CA_FILE, ""),
        (CONNECT_TIMEOUT_MS, "1000"),
        (TIMEOUT_MS, "3000"),
    ];
}

/// The longest TTL, stale limit or back-off cap accepted, in seconds: one year. Anything longer
/// is a typo (or an overflow), not a policy.
pub const MAX_SECONDS: u64 = 31_536_000;
/// The longest timeout accepted, in milliseconds: ten minutes.
pub const MAX_TIMEOUT_MS: u64 = 600_000;

/// The numeric settings with the smallest and largest value each accepts. A timeout of 0 would
/// make every fetch fail at once, so timeouts start at 1 ms.
pub const RANGES: &[(&str, u64, u64)] = &[
    (ini::TTL, 0, MAX_SECONDS),
    (ini::STALE_LIMIT, 0, MAX_SECONDS),
    (ini::BACKOFF_MAX, 0, MAX_SECONDS),
    (ini::CONNECT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
    (ini::TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
];

/// The number `value` stands for when it is acceptable for the numeric setting `name`.
fn number_in_range(name: &str, value: &str) -> Option<u64> {
    let (_, min, max) = RANGES.iter().find(|(n, _, _)| *n == name)?;
    value.trim().parse::<u64>().ok().filter(|n| (*min..=*max).contains(n))
}

/// Whether `value` is acceptable for the setting `name`: a numeric setting takes an integer within
/// its [`RANGES`]; other settings take any text.
pub fn valid_setting(name: &str, value: &str) -> bool {
    !RANGES.iter().any(|(n, _, _)| *n == name) || number_in_range(name, value).is_some()
}

impl Config {
    /// The HTTPS client's options for the runtime endpoint `url`, from these settings.
    pub fn https_options(&self, url: &str) -> crate::backend::https::HttpsOptions {
        crate::backend::https::HttpsOptions {
            url: url.to_string(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
            ca_file: self.ca_file.clone(),
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
        }
    }

    /// Builds the configuration from ini settings (`setting`) and the process environment (`env`).
    /// A missing, unparsable or out-of-range numeric setting takes its default.
    pub fn read(setting: impl Fn(&str) -> Option<String>, env: impl Fn(&str) -> Option<String>) -> Config {
        let text = |name: &str| setting(name).unwrap_or_default().trim().to_string();
        let number = |name: &str| {
            let default = ini::DEFAULTS.iter().find(|(n, _)| *n == name).map_or("0", |(_, d)| d);
            number_in_range(name, &text(name)).unwrap_or_else(|| default.parse().unwrap_or(0))
        };
        let environment = match text(ini::ENVIRONMENT) {
            e if !e.is_empty() => e,
            _ => env(ENVIRONMENT_ENV)
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_ENVIRONMENT.into()),
        };
        Config {
            backend: BackendSpec::parse(&text(ini::BACKEND), env(FAKE_FILE_ENV).as_deref()),
            environment,
            ttl: Duration::from_secs(number(ini::TTL)),
            stale_limit: Duration::from_secs(number(ini::STALE_LIMIT)),
            backoff_max: Duration::from_secs(number(ini::BACKOFF_MAX)),
            client_cert: text(ini::CLIENT_CERT),
            client_key: text(ini::CLIENT_KEY),
            ca_file: text(ini::CA_FILE),
            connect_timeout: Duration::from_millis(number(ini::CONNECT_TIMEOUT_MS)),
            timeout: Duration::from_millis(number(ini::TIMEOUT_MS)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ini: &[(&str, &str)], env: &[(&str, &str)]) -> Config {
        Config::read(
            |n| ini.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()),
            |n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()),
        )
    }

    #[test]
    fn backend_parse_file_forms() {
        assert_eq!(BackendSpec::parse("file:///tmp/s.json", None), BackendSpec::File("/tmp/s.json".into()));
        assert_eq!(BackendSpec::parse("/tmp/s.json", None), BackendSpec::File("/tmp/s.json".into()));
        assert!(matches!(BackendSpec::parse("file://tmp/s.json", None), BackendSpec::Invalid { .. }));
    }

    #[test]
    fn backend_parse_https_adds_runtime_path_only_when_missing() {
        assert_eq!(
            BackendSpec::parse("https://h:8443", None),
            BackendSpec::Https(format!("https://h:8443{RUNTIME_PATH}"))
        );
        assert_eq!(
            BackendSpec::parse("https://h:8443/", None),
            BackendSpec::Https(format!("https://h:8443{RUNTIME_PATH}"))
        );
        assert_eq!(BackendSpec::parse("https://h/x/y", None), BackendSpec::Https("https://h/x/y".into()));
        assert!(
            matches!(BackendSpec::parse("http://h", None), BackendSpec::Invalid { setting, .. } if setting == "http://h")
        );
        assert!(matches!(
            BackendSpec::parse("https://", None),
            BackendSpec::Invalid { reason: "the URL has no host", .. }
        ));
    }

    #[test]
    fn backend_parse_empty_uses_fake_file_else_none() {
        assert_eq!(BackendSpec::parse("", Some("/f.json")), BackendSpec::File("/f.json".into()));
        assert_eq!(BackendSpec::parse(" ", Some("")), BackendSpec::None);
        assert_eq!(BackendSpec::parse("", None), BackendSpec::None);
        assert_eq!(
            BackendSpec::parse("file:///a.json", Some("/f.json")),
            BackendSpec::File("/a.json".into())
        );
    }

    #[test]
    fn backend_describe_hides_userinfo() {
        let spec = BackendSpec::parse("https://user:pw@h:1/p/q", None);
        assert_eq!(spec.describe(), "https://h:1/p/q");
    }

    #[test]
    fn config_environment_from_ini_then_env_then_dev() {
        let env = [("PANTHEON_ENVIRONMENT", "live")];
        assert_eq!(config(&[("pantheon_secrets.environment", "test")], &env).environment, "test");
        assert_eq!(config(&[], &env).environment, "live");
        assert_eq!(config(&[], &[]).environment, "dev");
        assert_eq!(config(&[], &[("PANTHEON_ENVIRONMENT", "")]).environment, "dev");
    }

    #[test]
    fn config_numbers_default_when_unset_or_bad() {
        assert_eq!(config(&[], &[]).ttl, Duration::from_secs(900));
        assert_eq!(config(&[("pantheon_secrets.ttl", "5")], &[]).ttl, Duration::from_secs(5));
        assert_eq!(config(&[("pantheon_secrets.ttl", "soon")], &[]).ttl, Duration::from_secs(900));
        assert!(
            valid_setting(ini::TTL, "0")
                && !valid_setting(ini::TTL, "-1")
                && valid_setting(ini::BACKEND, "x")
        );
    }

    #[test]
    fn valid_setting_zero_timeouts_refused() {
        for name in [ini::TIMEOUT_MS, ini::CONNECT_TIMEOUT_MS] {
            assert!(!valid_setting(name, "0"), "{name}=0");
            assert!(valid_setting(name, "1") && valid_setting(name, "600000"), "{name}");
            assert!(!valid_setting(name, "600001"), "{name}");
        }
        let zero = config(&[(ini::TIMEOUT_MS, "0"), (ini::CONNECT_TIMEOUT_MS, "0")], &[]);
        assert_eq!((zero.timeout, zero.connect_timeout), (Duration::from_secs(3), Duration::from_secs(1)));
    }

    #[test]
    fn valid_setting_ttl_above_a_year_refused() {
        assert!(valid_setting(ini::TTL, "31536000"));
        for name in [ini::TTL, ini::STALE_LIMIT, ini::BACKOFF_MAX] {
            assert!(!valid_setting(name, "31536001"), "{name}");
            assert!(!valid_setting(name, "18446744073709551615"), "{name}");
        }
        let huge = config(&[(ini::TTL, "18446744073709551615")], &[]);
        assert_eq!(huge.ttl, Duration::from_secs(900), "an out-of-range TTL takes the default");
    }
}
