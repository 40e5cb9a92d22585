//! The service's logs and its access log.
//!
//! Logs go through `tracing` to stderr, one event a line, as text or JSON (`serve
//! --log-format`), each with an RFC 3339 UTC timestamp. They never hold a secret value: events
//! carry what went wrong and where (an address, a route), the way [`super::ApiError`] does.
//!
//! The access log (`serve --access-log FILE`) gets one line per runtime read: RFC 3339 time,
//! `runtime.read`, `SITE.ENV`, kind, serial. SIGHUP reopens it, so it can be rotated by moving
//! the file away and signalling the service.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The form of the service's log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-12-01T22:09:32.123456Z  WARN message key=value`.
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `message` and the event's fields.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format '{other}': formats are text and json")),
        }
    }
}

/// Sends this process's `tracing` events (info and above) to stderr in `format`. A second call
/// changes nothing.
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_max_level(tracing::Level::INFO);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Now, as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// The access log: a file appended to, reopened on SIGHUP.
pub struct AccessLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AccessLog {
    /// Opens (creating) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<AccessLog> {
        Ok(AccessLog { path: path.to_path_buf(), file: Mutex::new(open_append(path)?) })
    }

    /// Opens the path again (a new file if the old one was moved away); on failure the old file
    /// is kept and the error returned.
    pub fn reopen(&self) -> std::io::Result<()> {
        let fresh = open_append(&self.path)?;
        *self.file.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// Appends one runtime read.
    pub fn runtime_read(&self, site: &str, env: &str, build: bool, serial: &str) {
        let kind = if build { "build" } else { "runtime" };
        let line = format!("{} runtime.read {site}.{env} {kind} {serial}\n", now_rfc3339());
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::warn!(path = %self.path.display(), error = %e, "access log write failed");
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_rfc3339_parses_back() {
        let now = now_rfc3339();
        assert!(
            time::OffsetDateTime::parse(&now, &time::format_description::well_known::Rfc3339).is_ok(),
            "{now}"
        );
        assert!(now.ends_with('Z') && now.len() == 24, "{now}");
    }

    #[test]
    fn access_log_reopen_after_move_writes_new_file() {
        let dir = std::env::temp_dir()
            .join(format!("ps-log-{}", crate::crypto::to_hex(&crate::crypto::random_bytes(6))));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        let log = AccessLog::open(&path).unwrap();
        log.runtime_read("s1", "dev", false, "ab");
        std::fs::rename(&path, dir.join("access.log.1")).unwrap();
        log.runtime_read("s1", "dev", true, "cd");
        log.reopen().unwrap();
        log.runtime_read("s1", "live", false, "ef");
        let old = std::fs::read_to_string(dir.join("access.log.1")).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        assert_eq!(old.lines().count(), 2, "{old}");
        assert!(new.ends_with(" runtime.read s1.live runtime ef\n") && new.lines().count() == 1, "{new}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_format_parse_known_only() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().unwrap_err().contains("text and json"));
    }
}
