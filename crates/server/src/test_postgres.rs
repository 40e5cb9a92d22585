//! A throwaway PostgreSQL server for the tests that run the store on PostgreSQL: a real server
//! (Debian's `postgresql-NN` package, `initdb` + `pg_ctl`), never a mock.
//!
//! One server per test process, started on first use in a new temporary directory, listening
//! only on a Unix socket in that directory; each caller gets a database of its own. The server
//! runs as an unprivileged user (PostgreSQL refuses root: under root it runs as `nobody` through
//! `runuser`), and is stopped and its directory removed when the test process exits. A server
//! left behind by a killed test process is stopped and removed by the next one.
//!
//! Not part of the service: it is public only so that the integration tests can use it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The prefix of the temporary directories this module makes.
const PREFIX: &str = "ps-pg-";

/// The unprivileged user the server runs as when the tests run as root.
const RUN_AS: &str = "nobody";

/// The PostgreSQL programs (`initdb`, `pg_ctl`): the newest `/usr/lib/postgresql/*/bin`
/// holding them, or `None` when no PostgreSQL server is installed.
pub fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The running server: its directory (data, socket, log).
struct Server {
    dir: PathBuf,
    bin: PathBuf,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static NEXT: Mutex<u32> = Mutex::new(0);

/// A connection string to a new, empty database on the shared test server (started on first
/// use). Panics, saying why, when the server cannot be started.
pub fn database() -> String {
    match SERVER.get_or_init(start) {
        Ok(server) => create_database(server),
        Err(e) => panic!("the test PostgreSQL server: {e}"),
    }
}

/// The directory of the shared test server's data (for tests that look into its files).
pub fn data_dir() -> Option<PathBuf> {
    SERVER.get().and_then(|s| s.as_ref().ok()).map(|s| s.dir.join("data"))
}

/// Makes the shared test server write what it holds in memory to its data files (for tests
/// that look into them).
pub fn checkpoint() {
    if let Some(Ok(server)) = SERVER.get() {
        let mut admin = postgres::Client::connect(&server.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("the test PostgreSQL server: {e}"));
        admin.batch_execute("CHECKPOINT").unwrap_or_else(|e| panic!("CHECKPOINT: {e}"));
    }
}

/// A PostgreSQL server of one test's own, which it may stop and start again (to see what the
/// service does while its database is down); stopped and removed when dropped.
pub struct OwnServer(Server);

impl OwnServer {
    /// Starts a new server. Panics, saying why, when it cannot.
    pub fn start() -> OwnServer {
        OwnServer(new_server().unwrap_or_else(|e| panic!("a test PostgreSQL server: {e}")))
    }

    /// A connection string to a new, empty database on this server.
    pub fn database(&self) -> String {
        create_database(&self.0)
    }

    /// Stops the server (fast: open connections are cut).
    pub fn stop(&self) {
        let data = self.0.dir.join("data");
        run_as(&self.0.bin, "pg_ctl", &["-D", data.to_str().unwrap_or(""), "-m", "fast", "-w", "stop"])
            .unwrap_or_else(|e| panic!("stopping the test PostgreSQL server: {e}"));
    }

    /// Starts the stopped server again, on the same socket.
    pub fn resume(&self) {
        self.0.pg_ctl_start().unwrap_or_else(|e| panic!("starting the test PostgreSQL server: {e}"));
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        stop(&self.0.bin, &self.0.dir);
    }
}

impl Server {
    fn url(&self, db: &str) -> String {
        format!("host={} port=5432 user=postgres dbname={db}", self.dir.display())
    }

    /// Starts the server of this directory: only a Unix socket in the directory, no TCP, and
    /// no waiting for disks (the data is thrown away).
    fn pg_ctl_start(&self) -> Result<(), String> {
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        let (Some(data), Some(log), Some(socket)) = (data.to_str(), log.to_str(), self.dir.to_str()) else {
            return Err("the temporary directory is not UTF-8".into());
        };
        let options = format!(
            "-k {socket} -c listen_addresses= -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB"
        );
        run_as(&self.bin, "pg_ctl", &["-D", data, "-l", log, "-w", "-t", "60", "-o", &options, "start"])
    }
}

fn create_database(server: &Server) -> String {
    let n = {
        let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
        *next += 1;
        *next
    };
    let name = format!("t{}_{n}", crate::crypto::to_hex(&crate::crypto::random_bytes(4)));
    let mut admin = postgres::Client::connect(&server.url("postgres"), postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test PostgreSQL server: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE: {e}"));
    server.url(&name)
}

/// Runs `program` with `args` as the server's user; an error says what failed, with its output.
fn run_as(bin: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let path = bin.join(program);
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", RUN_AS, "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    let out = command
        .args(args)
        .env_remove("PGDATA")
        .current_dir("/")
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{program} {}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The shared server, stopped when the test process exits.
fn start() -> Result<Server, String> {
    let server = new_server()?;
    // SAFETY: `stop_at_exit` is an `extern "C" fn()` that does not unwind (it catches nothing
    // that can panic: it only runs commands and removes files, ignoring their errors).
    unsafe { libc::atexit(stop_at_exit) };
    Ok(server)
}

/// A new server in a new temporary directory (owned by the server's user).
fn new_server() -> Result<Server, String> {
    let bin = bin_dir().ok_or("no PostgreSQL server installed (/usr/lib/postgresql/*/bin/initdb)")?;
    remove_abandoned(&bin);
    let dir = std::env::temp_dir().join(format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        crate::crypto::to_hex(&crate::crypto::random_bytes(4))
    ));
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if is_root() {
        let (uid, gid) = user_ids(RUN_AS)?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {}: {e}", dir.display()))?;
    }
    let server = Server { dir, bin };
    let data = server.dir.join("data");
    let data = data.to_str().ok_or("the temporary directory is not UTF-8")?;
    let started = run_as(
        &server.bin,
        "initdb",
        &["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    )
    .and_then(|()| server.pg_ctl_start());
    if let Err(e) = started {
        stop(&server.bin, &server.dir);
        return Err(e);
    }
    Ok(server)
}

extern "C" fn stop_at_exit() {
    if let Some(Ok(server)) = SERVER.get() {
        stop(&server.bin, &server.dir);
    }
}

/// Stops the server of `dir` (at once: its data is thrown away) and removes the directory.
fn stop(bin: &Path, dir: &Path) {
    if let Some(data) = dir.join("data").to_str() {
        let _ = run_as(bin, "pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"]);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Stops and removes the servers of test processes that died without doing it themselves.
fn remove_abandoned(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        // The directory's name says which process made it: `ps-pg-PID-RANDOM`.
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)).and_then(|n| n.split('-').next())
        else {
            continue;
        };
        let pid = pid.parse::<i32>().ok();
        // SAFETY: kill(2) with signal 0 only checks whether the process exists.
        let alive = pid.is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0);
        if !alive {
            stop(bin, &entry.path());
        }
    }
}

/// The uid and gid of `user`.
fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id").args([flag, user]).output().map_err(|e| format!("id: {e}"))?;
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| format!("no user '{user}'"))
    };
    Ok((id("-u")?, id("-g")?))
}
