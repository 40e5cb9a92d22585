//! A real service for each test: `init` in a fresh temporary data directory, `serve` on
//! 127.0.0.1 port 0 (so tests run in parallel), and clients over real HTTPS — bearer tokens
//! for the management API, binding certificates for the runtime API.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use serde_json::Value as Json;

pub const BIN: &str = env!("CARGO_BIN_EXE_pantheon-secrets");

/// The storage engine a service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The data directory's SQLite file (the default).
    Sqlite,
    /// A new database on the test PostgreSQL server (started on first use).
    Postgres,
}

/// Defines a test once and runs it on each engine, as `NAME::sqlite` and `NAME::postgres`;
/// without a PostgreSQL server installed the second is ignored, with the reason.
#[macro_export]
macro_rules! engine_test {
    ($(#[$meta:meta])* fn $name:ident($engine:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$meta])*
            fn body($engine: $crate::common::Engine) $body
            #[test]
            fn sqlite() {
                body($crate::common::Engine::Sqlite)
            }
            #[test]
            #[cfg_attr(no_postgres, ignore = "no PostgreSQL server installed (postgresql-15 on Debian 12)")]
            fn postgres() {
                body($crate::common::Engine::Postgres)
            }
        }
    };
}

pub struct Service {
    pub dir: PathBuf,
    pub data: PathBuf,
    pub url: String,
    pub admin: String,
    rate_limit: f64,
    /// More `serve` flags, and the descriptor limit to serve under (see [`Service::start_with`]).
    serve_args: Vec<String>,
    nofile: Option<u64>,
    child: Option<Child>,
}

fn temp_dir() -> PathBuf {
    let unique = secrets_server::crypto::to_hex(&secrets_server::crypto::random_bytes(8));
    let dir = std::env::temp_dir().join(format!("pantheon-secrets-test-{unique}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Service {
    /// A service with the default rate limit (3 requests/s per user).
    pub fn start() -> Service {
        Service::start_with_rate(3.0)
    }

    /// The usual fixture: a service without a rate limit, with the organization `acme` and its
    /// site `s1`.
    pub fn with_acme_s1() -> Service {
        let svc = Service::start_with_rate(0.0);
        svc.op(&["org:create", "acme"]);
        svc.op(&["site:create", "s1", "--org", "acme"]);
        svc
    }

    /// A service with this rate limit (0: none), for tests that make many requests.
    pub fn start_with_rate(rate_limit: f64) -> Service {
        Service::start_with(rate_limit, &[], None)
    }

    /// A service with this rate limit, more `serve` flags, and optionally a descriptor limit
    /// (soft and hard) for the server process.
    pub fn start_with(rate_limit: f64, serve_args: &[&str], nofile: Option<u64>) -> Service {
        Service::start_on(Engine::Sqlite, rate_limit, serve_args, nofile)
    }

    /// A service as [`Service::start_with`] makes it, on `engine`.
    pub fn start_on(engine: Engine, rate_limit: f64, serve_args: &[&str], nofile: Option<u64>) -> Service {
        let database = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(secrets_server::test_postgres::database()),
        };
        Service::start_in(database.as_deref(), rate_limit, serve_args, nofile)
    }

    /// A service whose store is in the PostgreSQL database `url`.
    pub fn start_on_database(url: &str, rate_limit: f64) -> Service {
        Service::start_in(Some(url), rate_limit, &[], None)
    }

    fn start_in(
        database: Option<&str>,
        rate_limit: f64,
        serve_args: &[&str],
        nofile: Option<u64>,
    ) -> Service {
        let dir = temp_dir();
        let data = dir.join("data");
        let mut init = vec!["init", "--data-dir", data.to_str().unwrap()];
        if let Some(url) = database {
            init.extend(["--database", url]);
        }
        let out = run(&init);
        assert!(out.status.success(), "init: {}", text(&out));
        let admin = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let serve_args = serve_args.iter().map(|a| a.to_string()).collect();
        let mut service =
            Service { dir, data, url: String::new(), admin, rate_limit, serve_args, nofile, child: None };
        service.serve();
        service
    }

    /// Another replica of this service: a copy of its data directory (the same master key,
    /// CA, server certificate and database), served on a port of its own.
    pub fn replica(&self) -> Service {
        let dir = temp_dir();
        let data = dir.join("data");
        std::fs::create_dir(&data).unwrap();
        for entry in std::fs::read_dir(&self.data).unwrap().flatten() {
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| n.starts_with("secrets.db")) {
                continue;
            }
            std::fs::copy(entry.path(), data.join(name)).unwrap();
        }
        self.replica_at(dir, data)
    }

    /// Another replica on this host: `serve` of the same data directory (so the same key file,
    /// which both re-read when they meet a key they do not know) on a port of its own.
    pub fn replica_sharing_data_dir(&self) -> Service {
        self.replica_at(temp_dir(), self.data.clone())
    }

    /// `serve` of `data` with this service's settings and admin token, its own files in `dir`.
    fn replica_at(&self, dir: PathBuf, data: PathBuf) -> Service {
        let mut replica = Service {
            dir,
            data,
            url: String::new(),
            admin: self.admin.clone(),
            rate_limit: self.rate_limit,
            serve_args: self.serve_args.clone(),
            nofile: self.nofile,
            child: None,
        };
        replica.serve();
        replica
    }

    /// The PostgreSQL database the data directory records; `None`: its SQLite file.
    pub fn database_url(&self) -> Option<String> {
        std::fs::read_to_string(self.data.join("database")).ok()
    }

    /// Runs one SQL statement on the service's database from outside, as another tool would;
    /// returns the number of rows it changed.
    pub fn sql(&self, sql: &str) -> u64 {
        match self.database_url() {
            None => {
                rusqlite::Connection::open(self.data.join("secrets.db")).unwrap().execute(sql, []).unwrap()
                    as u64
            }
            Some(url) => postgres::Client::connect(&url, postgres::NoTls).unwrap().execute(sql, &[]).unwrap(),
        }
    }

    /// The number a query of one `BIGINT` (`count(*)`) gives on the service's database.
    pub fn sql_count(&self, sql: &str) -> i64 {
        match self.database_url() {
            None => rusqlite::Connection::open(self.data.join("secrets.db"))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
            Some(url) => {
                postgres::Client::connect(&url, postgres::NoTls).unwrap().query_one(sql, &[]).unwrap().get(0)
            }
        }
    }

    /// Every byte the database keeps on disk: the SQLite file with its WAL and shared-memory
    /// files, or every file of the PostgreSQL server's data directory (after a checkpoint, so
    /// what it held in memory is there too).
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        match self.database_url() {
            None => {
                for name in ["secrets.db", "secrets.db-wal", "secrets.db-shm"] {
                    if let Ok(bytes) = std::fs::read(self.data.join(name)) {
                        all.extend(bytes);
                    }
                }
            }
            Some(_) => {
                secrets_server::test_postgres::checkpoint();
                let mut dirs = vec![secrets_server::test_postgres::data_dir().expect("the test server")];
                while let Some(dir) = dirs.pop() {
                    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                        let path = entry.path();
                        if path.is_dir() {
                            dirs.push(path);
                        } else if let Ok(bytes) = std::fs::read(&path) {
                            all.extend(bytes);
                        }
                    }
                }
            }
        }
        all
    }

    /// Starts `serve` and waits for its address.
    pub fn serve(&mut self) {
        let mut command = Command::new(BIN);
        if let Some(nofile) = self.nofile {
            let limit = libc::rlimit { rlim_cur: nofile, rlim_max: nofile };
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe and only reads `limit`, a copy owned by the
            // closure; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command
            .args([
                "serve",
                "--data-dir",
                self.data.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--rate-limit",
                &self.rate_limit.to_string(),
            ])
            .args(&self.serve_args)
            .stdout(Stdio::piped())
            .stderr(self.log_file())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        self.url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        self.child = Some(child);
    }

    /// Where `serve` writes its log (stderr), across restarts.
    fn log_path(&self) -> PathBuf {
        self.dir.join("serve.log")
    }

    fn log_file(&self) -> std::fs::File {
        std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap()
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running server").id()
    }

    /// Whether the server is still running.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Stops the server (the data directory stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The audit trail as `audit:list --format json` prints it, once `ready` holds: the service
    /// writes it from a background thread, so a test waits for the events it expects (10 s at most).
    pub fn audit_when(&self, ready: impl Fn(&[Json]) -> bool) -> Vec<Json> {
        for _ in 0..100 {
            let events: Vec<Json> =
                serde_json::from_str(&self.op(&["audit:list", "--format", "json"])).unwrap();
            if ready(&events) {
                return events;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the audit trail never held the expected events");
    }

    /// Runs an operator command on this data directory; panics unless it succeeds.
    pub fn op(&self, args: &[&str]) -> String {
        let out = self.op_output(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    pub fn op_output(&self, args: &[&str]) -> Output {
        let mut all = vec![args[0], "--data-dir", self.data.to_str().unwrap()];
        all.extend_from_slice(&args[1..]);
        run(&all)
    }

    /// Creates a user token.
    pub fn token(&self, user: &str, grants: &[&str]) -> String {
        let mut args = vec!["token:create", user];
        args.extend_from_slice(grants);
        self.op(&args)
    }

    /// Runs a Terminus command against the service with `token`.
    pub fn cli(&self, token: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("PANTHEON_SECRETS_URL", &self.url)
            .env("PANTHEON_SECRETS_TOKEN", token)
            .env("PANTHEON_SECRETS_CA_FILE", self.data.join("ca.pem"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a Terminus command as admin; panics unless it succeeds; returns stdout + stderr.
    pub fn admin_cli(&self, args: &[&str]) -> String {
        let out = self.cli(&self.admin, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        text(&out)
    }

    /// Issues a binding for `site_env` and returns the PEM file.
    pub fn binding(&self, site_env: &str, extra: &[&str]) -> PathBuf {
        let out = self.dir.join(format!(
            "{site_env}-{}.pem",
            secrets_server::crypto::to_hex(&secrets_server::crypto::random_bytes(4))
        ));
        let mut args = vec!["binding:issue", site_env, "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.op(&args);
        out
    }

    fn ca(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(&std::fs::read(self.data.join("ca.pem")).unwrap()).unwrap()
    }

    /// A management API client with a bearer token.
    pub fn api(&self, token: &str) -> Api {
        Api {
            client: Client::builder()
                .use_rustls_tls()
                .add_root_certificate(self.ca())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("{}/customer-secrets/v1", self.url),
            token: token.to_string(),
        }
    }

    /// GET the runtime endpoint with a client certificate (or none); an error means the TLS
    /// layer refused the connection.
    pub fn runtime_with(&self, pem: Option<&Path>) -> Result<(u16, String), reqwest::Error> {
        let mut builder = Client::builder()
            .use_rustls_tls()
            .add_root_certificate(self.ca())
            .timeout(Duration::from_secs(30));
        if let Some(pem) = pem {
            // Parse errors panic: only the connection itself may fail with Err.
            let identity = reqwest::Identity::from_pem(&std::fs::read(pem).unwrap())
                .expect("a PEM with certificate and key");
            builder = builder.identity(identity);
        }
        let response = builder
            .build()
            .expect("a client")
            .get(format!("{}/customer-secrets/v1/runtime/secrets", self.url))
            .send()?;
        let status = response.status().as_u16();
        let code = response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_string());
        let text = response.text()?;
        // An error's code rides in a header; fold it in, as `status_json` does.
        Ok(match code {
            Some(code) => {
                let message: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
                (status, serde_json::json!({"code": code, "message": message}).to_string())
            }
            None => (status, text),
        })
    }

    /// The runtime document for a binding; panics unless 200.
    pub fn runtime(&self, pem: &Path) -> secrets_core::Document {
        let (status, body) = self.runtime_with(Some(pem)).unwrap();
        assert_eq!(status, 200, "{body}");
        secrets_core::Document::parse(body.as_bytes()).unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("--- the service's log ---\n{}", self.log());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap()
}

/// stdout and stderr of a command, together.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

pub struct Api {
    client: Client,
    base: String,
    pub token: String,
}

impl Api {
    pub fn request(&self, method: reqwest::Method, path: &str, body: Option<Json>) -> Response {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().unwrap()
    }

    pub fn get(&self, path: &str) -> (u16, Json) {
        status_json(self.request(reqwest::Method::GET, path, None))
    }

    pub fn post(&self, path: &str, body: Json) -> (u16, Json) {
        status_json(self.request(reqwest::Method::POST, path, Some(body)))
    }

    pub fn patch(&self, path: &str, body: Json) -> (u16, Json) {
        status_json(self.request(reqwest::Method::PATCH, path, Some(body)))
    }

    pub fn delete(&self, path: &str) -> (u16, Json) {
        status_json(self.request(reqwest::Method::DELETE, path, None))
    }
}

/// The status and JSON body of an answer. An error (a JSON string body with its code in the
/// `X-Error-Code` header) comes back as `{"code": CODE, "message": MESSAGE}` for assertions.
pub fn status_json(response: Response) -> (u16, Json) {
    let status = response.status().as_u16();
    let code = response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_string());
    let text = response.text().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Json::Null);
    match code {
        Some(code) => (status, serde_json::json!({"code": code, "message": body})),
        None => (status, body),
    }
}

/// The resolved value of `name` in a runtime document.
pub fn value<'a>(doc: &'a secrets_core::Document, name: &str) -> Option<&'a str> {
    doc.secrets.get(name).and_then(|s| s.value.as_ref()).map(|v| v.as_str())
}
