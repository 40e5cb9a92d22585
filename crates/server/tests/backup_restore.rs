//! Backups that restore: `backup` while `serve` writes, `restore` into a fresh directory, a new
//! `serve` on it; and key rotation that never strands a backup (`key:prune` refuses while a
//! recorded backup needs a key).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{run, text, Service, BIN};
use secrets_server::store::{DataDir, Owner, Store};
use serde_json::{json, Value as Json};

/// A `serve` on a restored data directory, stopped when dropped.
struct Restored {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Restored {
    fn serve(data: &Path) -> Restored {
        let mut child = Command::new(BIN)
            .args(["serve", "--data-dir", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(["--rate-limit", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_string();
        Restored { child, url, data: data.to_path_buf() }
    }

    /// `GET /sites/{site}/secrets/showall` with `token`, trusting the restored CA.
    fn showall(&self, token: &str, site: &str) -> Json {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(self.data.join("ca.pem")).unwrap()).unwrap();
        let client = reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let response = client
            .get(format!("{}/customer-secrets/v1/sites/{site}/secrets/showall", self.url))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().unwrap()
    }
}

impl Drop for Restored {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn restore(svc: &Service, backup: &Path, name: &str, extra: &[&str]) -> (std::process::Output, PathBuf) {
    let to = svc.dir.join(name);
    let mut args = vec!["restore", "--from", backup.to_str().unwrap(), "--data-dir", to.to_str().unwrap()];
    args.extend_from_slice(extra);
    (run(&args), to)
}

/// A writer sets values through the API while `backup` runs: the restored service reads every
/// value acknowledged before the backup started, and what it holds is one consistent prefix of
/// the writes (each present value exact, none missing before the last one present).
#[test]
fn backup_under_write_load_restores_every_value_written_before() {
    const SEEDED: usize = 5000;
    let svc = Service::with_acme_s1();
    {
        let store = Store::open(&DataDir(svc.data.clone())).unwrap();
        let site = Owner::Site("s1".into());
        for i in 0..SEEDED {
            let user = ["user".to_string()];
            store.put_secret(&site, &format!("S{i}"), &format!("seed-{i}"), None, Some(&user)).unwrap();
        }
    }
    let acknowledged = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let backing_up = AtomicBool::new(false);
    let during = std::sync::Mutex::new(Vec::new());
    let backup_dir = svc.dir.join("backup");
    let (before, record) = std::thread::scope(|scope| {
        scope.spawn(|| {
            let api = svc.api(&svc.admin);
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let body =
                    json!({"name": format!("W{i}"), "value": format!("value-{i}"), "scopes": ["user"]});
                let started = Instant::now();
                let (status, answer) = api.post("/sites/s1/secrets", body);
                if backing_up.load(Ordering::SeqCst) {
                    during.lock().unwrap().push(started.elapsed());
                }
                assert_eq!(status, 201, "{answer}");
                i += 1;
                acknowledged.store(i, Ordering::SeqCst);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.load(Ordering::SeqCst) < 200 {
            assert!(Instant::now() < deadline, "the writer is stuck");
            std::thread::sleep(Duration::from_millis(10));
        }
        let wal = std::fs::metadata(svc.data.join("secrets.db-wal")).map(|m| m.len()).unwrap_or(0);
        assert!(wal > 0, "writes are in the WAL when the backup starts (what a file copy misses)");
        let before = acknowledged.load(Ordering::SeqCst);
        let started = Instant::now();
        backing_up.store(true, Ordering::SeqCst);
        let out = svc.op_output(&["backup", "--out", backup_dir.to_str().unwrap()]);
        backing_up.store(false, Ordering::SeqCst);
        let during = during.lock().unwrap();
        eprintln!(
            "backup of {} values under write load: {:?}; {} writes meanwhile, the longest {:?}",
            SEEDED + before,
            started.elapsed(),
            during.len(),
            during.iter().max()
        );
        let after = acknowledged.load(Ordering::SeqCst);
        // The writer keeps going a little after the backup, then stops.
        while acknowledged.load(Ordering::SeqCst) < after + 20 {
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::SeqCst);
        assert!(out.status.success(), "{}", text(&out));
        (before, String::from_utf8(out.stdout).unwrap().trim().to_string())
    });
    assert_eq!(record, "1", "backup prints its id");
    let listed = svc.op(&["backup:list", "--format", "json"]);
    let listed: Json = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["key_ids"], json!([1]), "{listed}");
    assert!(!backup_dir.join("secrets.db-wal").exists(), "the copy is one self-contained file");

    let (out, restored_dir) = restore(&svc, &backup_dir, "restored", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let restored = Restored::serve(&restored_dir);
    let doc = restored.showall(&svc.admin, "s1");
    let secrets = doc["Secrets"].as_object().unwrap();
    for i in 0..SEEDED {
        assert_eq!(doc["Secrets"][format!("S{i}")]["Value"], format!("seed-{i}"), "S{i}");
    }
    for i in 0..before {
        assert_eq!(doc["Secrets"][format!("W{i}")]["Value"], format!("value-{i}"), "W{i} of {before}");
    }
    let held = (0..).take_while(|i| secrets.contains_key(&format!("W{i}"))).count();
    assert_eq!(secrets.len(), SEEDED + held, "a prefix of the writes: nothing after a gap");
    for i in 0..held {
        assert_eq!(doc["Secrets"][format!("W{i}")]["Value"], format!("value-{i}"));
    }
    eprintln!("acknowledged before the backup: {before}; in the backup: {held}");
    let audit = svc.op(&["audit:list", "--format", "json"]);
    assert!(audit.contains("\"action\": \"backup\""), "{audit}");
    let audit = text(&run(&["audit:list", "--data-dir", restored_dir.to_str().unwrap(), "--format", "json"]));
    assert!(audit.contains("\"action\": \"restore\""), "{audit}");
}

/// backup → key:rotate → restore: the old database opens with today's key file (retired keys
/// are kept), and with the backup's own. `key:prune` refuses while the backup is recorded;
/// once forgotten, the key goes, and then today's key file no longer opens the old copy.
#[test]
fn backup_key_rotate_restore_reads_every_value_prune_refused_while_backup_needs_key() {
    let svc = Service::with_acme_s1();
    svc.admin_cli(&["secret:site:set", "s1", "A", "a-default", "--scope=user,web"]);
    svc.admin_cli(&["secret:site:set", "s1.live", "A", "a-live"]);
    svc.admin_cli(&["secret:org:set", "acme", "B", "b-org", "--scope=user"]);
    let backup_dir = svc.dir.join("backup");
    svc.op(&["backup", "--out", backup_dir.to_str().unwrap()]);
    svc.op(&["key:rotate"]);
    svc.op(&["key:rotate"]);
    let current_keys = svc.data.join("master.key");

    let check = |restored_dir: &Path| {
        let restored = Restored::serve(restored_dir);
        let doc = restored.showall(&svc.admin, "s1");
        assert_eq!(doc["Secrets"]["A"]["Value"], "a-default", "{doc}");
        assert_eq!(doc["Secrets"]["A"]["EnvValues"]["live"], "a-live", "{doc}");
        assert_eq!(doc["Secrets"]["B"]["OrgValues"]["default"], "b-org", "{doc}");
    };
    let (out, with_current) =
        restore(&svc, &backup_dir, "with-current", &["--key-file", current_keys.to_str().unwrap()]);
    assert!(out.status.success(), "restore with today's key file: {}", text(&out));
    assert!(text(&out).contains("all 3 values open"), "{}", text(&out));
    check(&with_current);
    let (out, with_own) = restore(&svc, &backup_dir, "with-own", &[]);
    assert!(out.status.success(), "{}", text(&out));
    check(&with_own);

    let out = svc.op_output(&["key:prune", "--before", "3"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("master key 1 is needed by backup 1"), "{}", text(&out));
    let ids = |path: &Path| -> Vec<String> {
        let keys = std::fs::read_to_string(path).unwrap();
        keys.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&current_keys), ["1", "2", "3"], "nothing pruned");
    svc.op(&["backup:forget", "1"]);
    assert_eq!(svc.op(&["key:prune", "--before", "3"]), "1\n2");
    assert_eq!(ids(&current_keys), ["3"]);
    let (out, stranded) =
        restore(&svc, &backup_dir, "stranded", &["--key-file", current_keys.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("the key file lacks master key(s) 1 "), "{}", text(&out));
    assert!(!stranded.exists(), "a failed restore leaves no directory behind");
    let (_, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
    assert_eq!(doc["Secrets"]["A"]["Value"], "a-default", "the live service still reads");
    let audit = svc.op(&["audit:list", "--format", "json"]);
    for action in ["backup", "backup.forget", "key.prune"] {
        assert!(audit.contains(&format!("\"action\": \"{action}\"")), "{action}: {audit}");
    }
}
