//! The service process keeps its memory out of core dumps: it holds the master key and values.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{Service, BIN};

/// The service, started with `ulimit -c unlimited`, lowers its own core limit to 0 and leaves no
/// core file when it aborts, so its master key never reaches the disk that way.
#[test]
fn service_abort_leaves_no_core_dump() {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let svc = Service::start_with_rate(0.0);
    svc.op(&["site:create", "s1"]);
    svc.admin_cli(&["secret:site:set", "s1", "A", "core-value-4f0a", "--scope=web"]);
    let cwd = svc.dir.join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -c unlimited && exec \"$0\" \"$@\"", BIN, "serve", "--data-dir"])
        .arg(&svc.data)
        .args(["--listen", "127.0.0.1:0", "--rate-limit", "0"])
        .current_dir(&cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on "), "{line:?}");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    assert_eq!(core.split_whitespace().skip(4).take(2).collect::<Vec<_>>(), ["0", "0"], "{core}");
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped yet.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGABRT) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
    assert!(!status.core_dumped(), "the kernel reports a core dump");
    if !pattern.starts_with('|') {
        let left: Vec<PathBuf> = std::fs::read_dir(&cwd).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "files left by the abort: {left:?}");
    }
}
