//! Files are private whatever the umask: the data directory 0700, the database and its WAL and
//! shared-memory files 0600 — after `init`, after `serve` writes, in a backup, and narrowed
//! again at open when something widened them.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{run, text, Service};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode()
        & 0o7777
}

/// Every file in `dir` (not below it) with its mode, sorted by name.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut all: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), mode(&e.path()))
        })
        .collect();
    all.sort();
    all
}

/// Only the two certificates may be read by others; everything else is 0600.
fn assert_private(dir: &Path, what: &str) {
    assert_eq!(mode(dir), 0o700, "{what}: the directory");
    for (name, mode) in modes(dir) {
        let want = if name == "ca.pem" || name == "server.pem" { 0o644 } else { 0o600 };
        assert_eq!(mode, want, "{what}: {name} is {mode:04o}");
    }
}

#[test]
fn data_files_private_after_init_serve_and_backup_whatever_the_umask() {
    // SAFETY: umask(2) only sets this process's file mode mask; children inherit it. This test
    // binary has this one test, so nothing else depends on the mask.
    unsafe { libc::umask(0) };

    let svc = Service::start_with_rate(0.0);
    let fresh = svc.dir.join("fresh");
    let out = run(&["init", "--data-dir", fresh.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_private(&fresh, "after init");

    svc.op(&["site:create", "s1"]);
    svc.admin_cli(&["secret:site:set", "s1", "A", "a-value"]);
    let wal = svc.data.join("secrets.db-wal");
    assert!(wal.exists() && svc.data.join("secrets.db-shm").exists(), "{:?}", modes(&svc.data));
    assert_private(&svc.data, "after serve writes");

    let backup = svc.dir.join("backups").join("one");
    svc.op(&["backup", "--out", backup.to_str().unwrap()]);
    assert_eq!(mode(&backup), 0o700);
    let files = modes(&backup);
    assert!(files.iter().any(|(n, _)| n == "secrets.db") && files.iter().any(|(n, _)| n == "master.key"));
    assert!(files.iter().all(|(_, m)| *m == 0o600), "in a backup every file is 0600: {files:?}");

    let restored = svc.dir.join("restored");
    let out = run(&["restore", "--from", backup.to_str().unwrap(), "--data-dir", restored.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_private(&restored, "after restore");

    // Widened by hand (or by an older version): the next command narrows them again.
    for (path, widened) in [(&svc.data, 0o755), (&svc.data.join("secrets.db"), 0o644), (&wal, 0o666)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(widened)).unwrap();
    }
    svc.op(&["site:list"]);
    assert_private(&svc.data, "after open");
}
