//! Configuration (ARCHITECTURE §5): what the PHP layer reads from php.ini and the environment, turned
//! into one value the cache compares and uses.

use std::ffi::CStr;
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

/// Who may change a setting: PHP's `PHP_INI_SYSTEM`, `PHP_INI_SYSTEM | PHP_INI_PERDIR` and
/// `PHP_INI_ALL` (the PHP layer maps them onto the flags of PHP's bindings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changeable {
    /// php.ini, `-d` or FPM's `php_admin_value` only: not `.user.ini`, which a site writes.
    System,
    /// As [`Changeable::System`], and per directory or pool (`php_value`, `.user.ini`); never
    /// `ini_set()`, so a site's code cannot point the extension at another site's file.
    PerDirectory,
    /// Anywhere, `ini_set()` included.
    All,
}

/// What a setting holds, which decides what is accepted when it is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text: a URL, a path, a name.
    Text,
    /// An integer from `min` to `max`: anything else is refused when set (PHP keeps the value it
    /// had), and [`Config::read`] reads it as the default.
    Number {
        /// The smallest value accepted.
        min: u64,
        /// The largest value accepted.
        max: u64,
    },
    /// A switch of the PHP layer, read as PHP reads one (`1`, `on`, `yes`, `true`); not part of
    /// [`Config`].
    Flag,
}

/// One ini setting: everything about it is declared once, in [`ini::SETTINGS`]; the PHP layer
/// registers that table, [`Config::read`] and [`valid_setting`] read it, and a test checks the
/// packaged ini file and the README against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The name, `pantheon_secrets.…`.
    pub name: &'static str,
    /// The name, NUL-terminated, for PHP's table.
    pub c_name: &'static CStr,
    /// The default, as PHP shows it.
    pub default: &'static str,
    /// The default, NUL-terminated, for PHP's table.
    pub c_default: &'static CStr,
    /// Who may change it.
    pub changeable: Changeable,
    /// What it holds.
    pub kind: Kind,
}

/// The longest TTL, stale limit or back-off cap accepted, in seconds: one year. Anything longer
/// is a typo (or an overflow), not a policy.
pub const MAX_SECONDS: u64 = 31_536_000;
/// The longest timeout accepted, in milliseconds: ten minutes.
pub const MAX_TIMEOUT_MS: u64 = 600_000;

/// Declares the settings: a `&str` constant per name and [`ini::SETTINGS`], from one list.
macro_rules! settings {
    ($($(#[$doc:meta])* $id:ident = $name:literal, $default:literal, $changeable:ident, $kind:expr;)*) => {
        $($(#[$doc])* pub const $id: &str = $name;)*

        /// Every setting, in the order PHP registers them.
        pub const SETTINGS: &[Setting] = &[$(Setting {
            name: $name,
            c_name: c_string(concat!($name, "\0")),
            default: $default,
            c_default: c_string(concat!($default, "\0")),
            changeable: Changeable::$changeable,
            kind: $kind,
        }),*];
    };
}

/// The ini settings (ARCHITECTURE §5): names, defaults, who may change them and what they hold,
/// each written once.
pub mod ini {
    use super::{c_string, Changeable, Kind, Setting, MAX_SECONDS, MAX_TIMEOUT_MS};

    /// A number of seconds, up to a year.
    const SECONDS: Kind = Kind::Number { min: 0, max: MAX_SECONDS };
    /// A timeout in milliseconds: 0 would make every fetch fail at once, so from 1 ms.
    const MILLISECONDS: Kind = Kind::Number { min: 1, max: MAX_TIMEOUT_MS };

    settings! {
        /// Backend URL or path; per directory or pool at most (a file backend also obeys
        /// `open_basedir`).
        BACKEND = "pantheon_secrets.backend", "", PerDirectory, Kind::Text;
        /// Environment override.
        ENVIRONMENT = "pantheon_secrets.environment", "", All, Kind::Text;
        /// Seconds a fetch is served.
        TTL = "pantheon_secrets.ttl", "900", All, SECONDS;
        /// Seconds stale values may be served while fetches fail.
        STALE_LIMIT = "pantheon_secrets.stale_limit", "86400", All, SECONDS;
        /// Cap of the back-off between failed attempts, in seconds.
        BACKOFF_MAX = "pantheon_secrets.backoff_max", "300", All, SECONDS;
        /// Client certificate file; the identity files are system-level.
        CLIENT_CERT = "pantheon_secrets.client_cert", "", System, Kind::Text;
        /// Client key file.
        CLIENT_KEY = "pantheon_secrets.client_key", "", System, Kind::Text;
        /// CA file.
        CA_FILE = "pantheon_secrets.ca_file", "", System, Kind::Text;
        /// Connect timeout, milliseconds.
        CONNECT_TIMEOUT_MS = "pantheon_secrets.connect_timeout_ms", "1000", All, MILLISECONDS;
        /// Whole-fetch timeout, milliseconds.
        TIMEOUT_MS = "pantheon_secrets.timeout_ms", "3000", All, MILLISECONDS;
        /// Allows `Pantheon\Secrets\mock()` (test runs only).
        ALLOW_MOCK = "pantheon_secrets.allow_mock", "0", System, Kind::Flag;
    }

    /// The setting named `name`.
    pub fn setting(name: &str) -> Option<&'static Setting> {
        SETTINGS.iter().find(|s| s.name == name)
    }
}

/// `text` (which ends in its only NUL) as a C string; a NUL inside fails the build.
const fn c_string(text: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(text.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("a setting's name or default holds a NUL"),
    }
}

/// The number `value` stands for when it is acceptable for the numeric setting `name`.
fn number_in_range(name: &str, value: &str) -> Option<u64> {
    let Kind::Number { min, max } = ini::setting(name)?.kind else { return None };
    value.trim().parse::<u64>().ok().filter(|n| (min..=max).contains(n))
}

/// Whether `value` is acceptable for the setting `name`: a numeric setting takes an integer within
/// its range; other settings take any text.
pub fn valid_setting(name: &str, value: &str) -> bool {
    match ini::setting(name).map(|s| s.kind) {
        Some(Kind::Number { .. }) => number_in_range(name, value).is_some(),
        _ => true,
    }
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
            let default = ini::setting(name).map_or("0", |s| s.default);
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

    #[test]
    fn settings_defaults_are_accepted_values() {
        for setting in ini::SETTINGS {
            assert!(valid_setting(setting.name, setting.default), "{}", setting.name);
            assert_eq!(setting.c_name.to_str(), Ok(setting.name));
            assert_eq!(setting.c_default.to_str(), Ok(setting.default));
            assert!(setting.name.starts_with("pantheon_secrets."), "{}", setting.name);
        }
        let defaults = config(&[], &[]);
        assert_eq!(defaults.stale_limit, Duration::from_secs(86_400));
        assert_eq!(
            (defaults.backoff_max, defaults.timeout),
            (Duration::from_secs(300), Duration::from_secs(3))
        );
        assert_eq!(ini::setting(ini::ALLOW_MOCK).map(|s| s.kind), Some(Kind::Flag));
        assert_eq!(ini::setting("pantheon_secrets.nope"), None);
    }

    /// Where the settings are told to people: the ini file the packages ship and the README table.
    fn repository_file(path: &str) -> String {
        let at = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&at).unwrap_or_else(|e| panic!("{at}: {e}"))
    }

    /// How a text describes who may change a setting.
    fn says_changeable(text: &str) -> Option<Changeable> {
        match (
            text.to_lowercase().contains("system-wide"),
            text.contains("never") && text.contains("ini_set()"),
        ) {
            (true, _) => Some(Changeable::System),
            (false, true) => Some(Changeable::PerDirectory),
            (false, false) => None,
        }
    }

    fn table() -> Vec<(String, String, Option<Changeable>)> {
        let said = |c: Changeable| (c != Changeable::All).then_some(c);
        ini::SETTINGS
            .iter()
            .map(|s| (s.name.to_string(), s.default.to_string(), said(s.changeable)))
            .collect()
    }

    #[test]
    fn settings_packaged_ini_file_lists_the_table() {
        let text = repository_file("packaging/php/pantheon_secrets.ini");
        let mut listed = Vec::new();
        let mut comment = String::new();
        for line in text.lines() {
            match line.strip_prefix(';').and_then(|l| l.strip_prefix("pantheon_secrets.").map(|_| l)) {
                Some(setting) => {
                    let (name, default) = setting.split_once('=').expect("name = default");
                    listed.push((
                        name.trim().to_string(),
                        default.trim().to_string(),
                        says_changeable(&comment),
                    ));
                    comment.clear();
                }
                None => comment.push_str(line),
            }
        }
        assert_eq!(listed, table(), "packaging/php/pantheon_secrets.ini against ini::SETTINGS");
    }

    #[test]
    fn settings_readme_table_lists_the_table() {
        let text = repository_file("README.md");
        let listed: Vec<(String, String, Option<Changeable>)> = text
            .lines()
            .filter(|line| line.starts_with("| `pantheon_secrets."))
            .map(|line| {
                let cells: Vec<&str> = line.split(" | ").collect();
                let name = cells[0].trim_start_matches("| ").trim_matches('`').to_string();
                let default = match cells[1] {
                    "*(empty)*" => String::new(),
                    quoted => quoted.trim_matches('`').to_string(),
                };
                (name, default, says_changeable(cells[2]))
            })
            .collect();
        assert_eq!(listed, table(), "the README's settings table against ini::SETTINGS");
    }
}
