//! Backends fetch the raw secrets document. They know transport, not format.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::config::{BackendSpec, Config};

pub mod https;

/// The largest document a backend accepts, in bytes: room for a thousand values of the largest
/// size, resolved (a runtime answer carries one value per secret).
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// What a failure means for the values already held (ARCHITECTURE §6).
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

/// A fetched document's bytes, with the HTTP status of the answer that carried them.
pub struct Fetched {
    /// The document, as the backend read it (zeroed when dropped).
    pub bytes: Zeroizing<Vec<u8>>,
    /// The HTTP status, for backends that speak HTTP.
    pub status: Option<u16>,
}

/// Shows the size and status, never the bytes: they hold values.
impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched").field("len", &self.bytes.len()).field("status", &self.status).finish()
    }
}

impl Fetched {
    /// Bytes read without HTTP (a file).
    pub fn bytes(bytes: Zeroizing<Vec<u8>>) -> Fetched {
        Fetched { bytes, status: None }
    }
}

/// A source of secrets documents. One lives in one process; it is made lazily, after any fork.
pub trait Backend: Send {
    /// Fetches the document's bytes. A failure carries the HTTP status too, when there was one.
    fn fetch(&mut self) -> Result<Fetched, FetchError>;
}

/// Says whether a path may be read: the PHP layer answers with PHP's own `open_basedir` rule. The
/// core has no rule of its own, so without one every path may be read.
pub type PathCheck = fn(&Path) -> bool;

/// The cause given for a file the [`PathCheck`] refuses. It is the same whether the path names
/// nothing, a directory or a file of any content: a site must not learn what lies outside its jail.
pub const OUTSIDE_OPEN_BASEDIR: &str = "the path is outside open_basedir";

/// Makes the backend `config` names, or says why it cannot. `BackendSpec::None` has no backend.
pub fn open(config: &Config) -> Result<Option<Box<dyn Backend>>, FetchError> {
    open_checked(config, None)
}

/// [`open`], with the paths of a file backend checked by `check` before every read.
pub fn open_checked(
    config: &Config,
    check: Option<PathCheck>,
) -> Result<Option<Box<dyn Backend>>, FetchError> {
    match &config.backend {
        BackendSpec::None => Ok(None),
        BackendSpec::File(path) => {
            Ok(Some(Box::new(FileBackend { path: path.clone(), check, timeout: config.timeout })))
        }
        BackendSpec::Https(url) => Ok(Some(Box::new(https::HttpsBackend::new(&config.https_options(url))?))),
        BackendSpec::Invalid { reason, .. } => Err(FetchError::revoked(*reason)),
    }
}

/// Reads a secrets document from a file, as written by `secret:site:local-generate`.
///
/// Only a regular file is read. It is opened without blocking (a FIFO with no writer would
/// otherwise hold `open()` forever), then inspected: anything else is refused before a byte is read.
/// With a [`PathCheck`], the path is checked before it is opened and the file actually opened is
/// checked again by its real path, so a symlink swapped in between cannot lead outside.
pub struct FileBackend {
    path: PathBuf,
    check: Option<PathCheck>,
    timeout: Duration,
}

/// How much is read at a time; the timeout is checked between reads.
const READ_CHUNK: usize = 64 * 1024;

impl FileBackend {
    fn allowed(&self, path: &Path) -> Result<(), FetchError> {
        match self.check {
            Some(check) if !check(path) => Err(FetchError::revoked(OUTSIDE_OPEN_BASEDIR)),
            _ => Ok(()),
        }
    }

    fn timed_out(&self, started: Instant) -> Result<(), FetchError> {
        if started.elapsed() > self.timeout {
            return Err(FetchError::transient(format!(
                "timed out after {} ms (pantheon_secrets.timeout_ms)",
                self.timeout.as_millis()
            )));
        }
        Ok(())
    }
}

impl Backend for FileBackend {
    fn fetch(&mut self) -> Result<Fetched, FetchError> {
        let started = Instant::now();
        self.allowed(&self.path)?;
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&self.path)
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => FetchError::revoked("no such file"),
                ErrorKind::PermissionDenied => FetchError::revoked("permission denied"),
                _ => FetchError::transient(format!("cannot open: {e}")),
            })?;
        // The file opened, by its real path: a symlink swapped in after the check above must not lead
        // out. Without /proc (a chroot) only the check above stands.
        if let Ok(real) = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
            self.allowed(&real)?;
        }
        let size = regular_file_size(&file)?;
        if size > MAX_DOCUMENT_BYTES {
            return Err(FetchError::transient(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
        }
        read_document(&mut file, size, || self.timed_out(started)).map(Fetched::bytes).map_err(|e| match e {
            ReadError::TooLarge => FetchError::transient(format!("larger than {MAX_DOCUMENT_BYTES} bytes")),
            ReadError::Io(e) => FetchError::transient(format!("cannot read: {e}")),
            ReadError::Stopped(e) => e,
        })
    }
}

/// Why [`read_document`] stopped.
pub(crate) enum ReadError<E> {
    /// More than [`MAX_DOCUMENT_BYTES`].
    TooLarge,
    /// The reader failed.
    Io(std::io::Error),
    /// `check` said stop.
    Stopped(E),
}

/// Reads a whole document from `reader`, expected to be `size_hint` bytes, calling `check` before
/// each read. No copy of the bytes is left behind: the buffer is sized once from the hint (a buffer
/// that `Vec` outgrows is freed without being zeroed, with part of the values in it), and when it
/// must grow after all, the old one is zeroed.
pub(crate) fn read_document<E>(
    reader: &mut impl Read,
    size_hint: u64,
    mut check: impl FnMut() -> Result<(), E>,
) -> Result<Zeroizing<Vec<u8>>, ReadError<E>> {
    let max = MAX_DOCUMENT_BYTES as usize;
    let mut bytes = Zeroizing::new(Vec::with_capacity(size_hint.min(MAX_DOCUMENT_BYTES) as usize + 1));
    let mut chunk = Zeroizing::new(vec![0u8; READ_CHUNK]);
    loop {
        check().map_err(ReadError::Stopped)?;
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        if bytes.len() + n > max {
            return Err(ReadError::TooLarge);
        }
        if bytes.len() + n > bytes.capacity() {
            let mut larger =
                Zeroizing::new(Vec::with_capacity((bytes.len() + n).saturating_mul(2).min(max + 1)));
            larger.extend_from_slice(&bytes);
            bytes = larger; // the old buffer is zeroed as it drops
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// The size of `file` when it is a regular file; anything else (a directory, a FIFO, a device, a
/// socket) is refused.
fn regular_file_size(file: &File) -> Result<u64, FetchError> {
    let meta = file.metadata().map_err(|e| FetchError::transient(format!("cannot read: {e}")))?;
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(meta.len())
    } else if kind.is_dir() {
        Err(FetchError::revoked("is a directory"))
    } else {
        Err(FetchError::revoked("not a regular file"))
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
        let fetched = backend.fetch().unwrap();
        assert_eq!((&fetched.bytes[..], fetched.status), (&b"{\"Secrets\":{}}"[..], None));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(backend.fetch().unwrap_err(), FetchError::revoked("no such file"));
        let mut directory = FileBackend { path: dir.clone(), check: None, timeout: Duration::from_secs(3) };
        assert_eq!(directory.fetch().unwrap_err(), FetchError::revoked("is a directory"));
    }

    #[test]
    fn file_backend_fifo_refused_without_blocking() {
        let path = std::env::temp_dir().join(format!("secrets-core-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let mut backend = open(&file_config(path.to_str().unwrap())).unwrap().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Before the fix this open() never returned: the thread is left behind rather than the test.
        std::thread::spawn(move || tx.send(backend.fetch()).unwrap());
        let fetched = rx.recv_timeout(Duration::from_secs(3)).expect("fetching a FIFO must not block");
        assert_eq!(fetched.unwrap_err(), FetchError::revoked("not a regular file"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn file_backend_device_refused() {
        let mut backend =
            FileBackend { path: "/dev/zero".into(), check: None, timeout: Duration::from_secs(3) };
        assert_eq!(backend.fetch().unwrap_err(), FetchError::revoked("not a regular file"));
    }

    #[test]
    fn file_backend_outside_the_check_reads_the_same_whatever_is_there() {
        fn only_under_jail(path: &Path) -> bool {
            path.to_str().is_some_and(|p| p.contains("/jail-"))
        }
        let base = std::env::temp_dir().join(format!("secrets-core-open-basedir-{}", std::process::id()));
        let jail = base.join(format!("jail-{}", std::process::id()));
        let outside = base.join("outside");
        std::fs::create_dir_all(&jail).unwrap();
        std::fs::create_dir_all(outside.join("dir")).unwrap();
        std::fs::write(outside.join("not.json"), "not json").unwrap();
        std::fs::write(outside.join("good.json"), b"{\"Secrets\":{}}").unwrap();
        std::os::unix::fs::symlink(outside.join("good.json"), jail.join("link.json")).unwrap();
        std::fs::write(jail.join("inside.json"), b"{\"Secrets\":{}}").unwrap();
        let fetch = |path: PathBuf| {
            FileBackend { path, check: Some(only_under_jail), timeout: Duration::from_secs(3) }.fetch()
        };
        for name in ["missing.json", "dir", "not.json", "good.json"] {
            assert_eq!(
                fetch(outside.join(name)).unwrap_err(),
                FetchError::revoked(OUTSIDE_OPEN_BASEDIR),
                "{name}"
            );
        }
        assert_eq!(
            fetch(jail.join("link.json")).unwrap_err(),
            FetchError::revoked(OUTSIDE_OPEN_BASEDIR),
            "a symlink inside that leads outside"
        );
        assert_eq!(&fetch(jail.join("inside.json")).unwrap().bytes[..], b"{\"Secrets\":{}}");
        std::fs::remove_dir_all(&base).unwrap();
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
