//! Backends fetch the raw secrets document. They know transport, not format.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::config::{BackendSpec, Config};

pub mod https;

/// The largest document a backend accepts, in bytes: room for a thousand values of the largest
/// size, resolved (a runtime answer carries one value per secret).
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// What a failure means for the values already held (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Timeout, connection error, 5xx, malformed body: keep serving the last good values
    /// (within the stale limit) and back off.
    Transient,
    /// The caller lost access (401/403/404, the file is gone, the setting is unusable):
    /// drop the values.
    Revoked,
    /// The service asked to wait (429): keep the values, try again after this long.
    RetryAfter(Duration),
}

/// A failed fetch. The message names the cause and never carries a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// What the failure means for held values.
    pub kind: FailureKind,
    /// The cause, for warnings and status.
    pub message: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
}

impl FetchError {
    /// A failure that keeps stale values.
    pub fn transient(message: impl Into<String>) -> FetchError {
        FetchError { kind: FailureKind::Transient, message: message.into(), status: None }
    }

    /// A failure that drops values.
    pub fn revoked(message: impl Into<String>) -> FetchError {
        FetchError { kind: FailureKind::Revoked, message: message.into(), status: None }
    }
}

/// A source of secrets documents. One lives in one process; it is made lazily, after any fork.
pub trait Backend: Send {
    /// Fetches the document's bytes.
    fn fetch(&mut self) -> Result<Zeroizing<Vec<u8>>, FetchError>;

    /// The HTTP status of the last answer, for backends that speak HTTP.
    fn last_status(&self) -> Option<u16> {
        None
    }
}

/// Makes the backend `config` names, or says why it cannot. `BackendSpec::None` has no backend.
pub fn open(config: &Config) -> Result<Option<Box<dyn Backend>>, FetchError> {
    match &config.backend {
        BackendSpec::None => Ok(None),
        BackendSpec::File(path) => Ok(Some(Box::new(FileBackend { path: path.clone() }))),
        BackendSpec::Https(url) => Ok(Some(Box::new(https::HttpsBackend::new(config, url)?))),
        BackendSpec::Invalid { reason, .. } => Err(FetchError::revoked(*reason)),
    }
}

/// Reads a secrets document from a file, as written by `secret:site:local-generate`.
pub struct FileBackend {
    path: PathBuf,
}

impl Backend for FileBackend {
    fn fetch(&mut self) -> Result<Zeroizing<Vec<u8>>, FetchError> {
        let file = File::open(&self.path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => FetchError::revoked("no such file"),
            ErrorKind::PermissionDenied => FetchError::revoked("permission denied"),
            _ => FetchError::transient(format!("cannot open: {e}")),
        })?;
        let mut bytes = Zeroizing::new(Vec::new());
        file.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes).map_err(|e| match e.kind() {
            ErrorKind::IsADirectory => FetchError::revoked("is a directory"),
            _ => FetchError::transient(format!("cannot read: {e}")),
        })?;
        if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
            return Err(FetchError::transient(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_config(path: &str) -> Config {
        Config::read(|n| (n == crate::config::ini::BACKEND).then(|| format!("file://{path}")), |_| None)
    }

    #[test]
    fn file_backend_reads_bytes() {
        let dir = std::env::temp_dir().join(format!("secrets-core-backend-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.json");
        std::fs::write(&path, b"{\"Secrets\":{}}").unwrap();
        let mut backend = open(&file_config(path.to_str().unwrap())).unwrap().unwrap();
        assert_eq!(&backend.fetch().unwrap()[..], b"{\"Secrets\":{}}");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(backend.fetch().unwrap_err(), FetchError::revoked("no such file"));
        let mut directory = FileBackend { path: dir.clone() };
        assert_eq!(directory.fetch().unwrap_err().kind, FailureKind::Revoked);
    }

    #[test]
    fn open_none_and_invalid() {
        assert!(open(&Config::read(|_| None, |_| None)).unwrap().is_none());
        let bad =
            Config::read(|n| (n == crate::config::ini::BACKEND).then(|| "ftp://x".to_string()), |_| None);
        let err = open(&bad).err().unwrap();
        assert_eq!(err.kind, FailureKind::Revoked);
        assert!(err.message.contains("must be https://"), "{}", err.message);
        assert_eq!(bad.backend.describe(), "ftp://x");
    }
}
