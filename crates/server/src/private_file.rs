//! The one way the service and its CLI write a private file (a binding's key, auth.json, a local
//! secrets document, the master key file): into a new temporary file next to the target, created
//! with `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600 set on the open file, written, synced, and
//! renamed over the target. A symlink (or anything else) at the target is replaced, never written
//! through or chmodded, and a reader sees the old file or the whole new one, never half of one.
//! [`create`] is the same for a file that must not exist yet: it is linked into place, never
//! over anything.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The mode of every private file.
pub const MODE: u32 = 0o600;

/// Replaces `target` with a new file holding `contents`, mode 0600. The directory of `target`
/// must exist; the temporary file is removed when any step fails.
pub fn write(target: &Path, contents: &[u8]) -> io::Result<()> {
    put(target, contents, |tmp, target| fs::rename(tmp, target))
}

/// Like [`write`], for a file that must not exist yet (a new data directory's keys): the whole
/// file appears at `target` with link(2), which fails with `AlreadyExists` when anything is
/// there, a symlink (dangling or not) included, and never follows one.
pub fn create(target: &Path, contents: &[u8]) -> io::Result<()> {
    put(target, contents, |tmp, target| {
        let linked = fs::hard_link(tmp, target);
        let _ = fs::remove_file(tmp);
        linked
    })
}

/// Writes `contents` into a new temporary file beside `target` and gives it its place with
/// `place(temporary, target)`.
fn put(target: &Path, contents: &[u8], place: impl FnOnce(&Path, &Path) -> io::Result<()>) -> io::Result<()> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path names a directory, not a file")
    })?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (tmp, mut file) = create_temporary(dir, &name.to_string_lossy())?;
    let written = (|| {
        // The mode given to open(2) is narrowed by the umask; set it on the open file as well.
        file.set_permissions(fs::Permissions::from_mode(MODE))?;
        file.write_all(contents)?;
        file.sync_all()?;
        place(&tmp, target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename itself durable; a directory that cannot be opened or synced (some
    // filesystems) does not undo a write that has already happened.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A new, empty file `.<name>.<unique>.tmp` in `dir`, created exclusively and not through a link.
/// The suffix need not be unpredictable: `O_EXCL` refuses whatever is already there, and another
/// name is tried.
fn create_temporary(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut last = None;
    for _ in 0..8 {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let suffix = format!("{:x}-{n:x}-{nanos:x}", std::process::id());
        let tmp = dir.join(format!(".{name}.{suffix}.tmp"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary file name was free")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ps-private-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_symlink_target_replaced_link_target_untouched() {
        let dir = temp_dir();
        let victim = dir.join("victim");
        fs::write(&victim, "precious").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        let target = dir.join("auth.json");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write(&target, b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::metadata(&victim).unwrap().permissions().mode() & 0o777, 0o644);
        let meta = fs::symlink_metadata(&target).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(entries(&dir), ["auth.json", "victim"], "no temporary file left");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn create_new_file_0600_existing_or_symlink_refused_untouched() {
        let dir = temp_dir();
        let target = dir.join("ca.key");
        create(&target, b"key").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "key");
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        let again = create(&target, b"other").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&target).unwrap(), "key");
        let victim = dir.join("victim");
        let link = dir.join("server.key");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert_eq!(create(&link, b"x").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert!(!victim.exists(), "nothing written through the dangling link");
        assert_eq!(entries(&dir), ["ca.key", "server.key"], "no temporary file left");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn write_existing_file_narrowed_to_0600() {
        let dir = temp_dir();
        let target = dir.join("binding.pem");
        fs::write(&target, "old, longer content").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        write(&target, b"new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn write_directory_at_target_fails_and_leaves_nothing() {
        let dir = temp_dir();
        let target = dir.join("taken");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "x").unwrap();
        assert!(write(&target, b"new").is_err());
        assert_eq!(entries(&dir), ["taken"]);
        assert!(write(&dir.join("missing/file"), b"new").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
