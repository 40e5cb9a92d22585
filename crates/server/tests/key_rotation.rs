//! `key:rotate` on a bad day: two runs at once, and a key file that lost track of newer keys.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{text, Engine, Service, BIN};
use secrets_server::store::{DataDir, Owner, Store};

fn service(engine: Engine) -> Service {
    let svc = Service::start_on(engine, 0.0, &[], None);
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    svc
}

fn key_ids(data: &Path) -> Vec<u32> {
    let keys = std::fs::read_to_string(data.join("master.key")).unwrap();
    keys.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// Two `key:rotate` runs started together over thousands of values: both finish, every value
/// still reads, every key a row names is in the key file, and no key id is ever reused.
#[test]
fn overlapping_key_rotations_lose_no_value() {
    const VALUES: usize = 3000;
    let svc = service(Engine::Sqlite);
    {
        let store = Store::open(&DataDir(svc.data.clone())).unwrap();
        let site = Owner::Site("s1".into());
        let user = ["user".to_string()];
        for i in 0..VALUES {
            store.put_secret(&site, &format!("V{i}"), &format!("value-{i}"), None, Some(&user)).unwrap();
        }
    }
    let started = std::time::Instant::now();
    let rotations: Vec<_> = (0..2)
        .map(|_| {
            Command::new(BIN)
                .args(["key:rotate", "--data-dir", svc.data.to_str().unwrap()])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for rotation in rotations {
        let out = rotation.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    eprintln!("two overlapping rotations of {VALUES} values: {:?}", started.elapsed());
    let (status, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
    assert_eq!(status, 200, "{doc}");
    for i in 0..VALUES {
        assert_eq!(doc["Secrets"][format!("V{i}")]["Value"], format!("value-{i}"), "V{i}");
    }
    let ids = key_ids(&svc.data);
    let db = rusqlite::Connection::open(svc.data.join("secrets.db")).unwrap();
    let mut used = db.prepare("SELECT DISTINCT key_id FROM secret_values").unwrap();
    let used: Vec<u32> = used.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert!(used.iter().all(|id| ids.contains(id)), "rows use {used:?}, the key file holds {ids:?}");
    assert_eq!(ids, [1, 2, 3], "two rotations after key 1: keys 2 and 3, and the retired ones kept");
    let current: String =
        db.query_row("SELECT value FROM meta WHERE key = 'current_key'", [], |r| r.get(0)).unwrap();
    assert_eq!(current, "3");
    assert_eq!(used, [3], "every value is under the current key");
    // The next rotation takes a fresh id, and the values still read.
    let out = text(&svc.op_output(&["key:rotate"]));
    assert!(out.contains("Master key 4 is current"), "{out}");
    let (_, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
    assert_eq!(doc["Secrets"][format!("V{}", VALUES - 1)]["Value"], format!("value-{}", VALUES - 1));
}

engine_test! {
    /// A rotation never hands out an id it handed out before, even when the key file lost track of
    /// the newer ones (a restored file, or the aftermath of the race above).
    fn key_rotate_never_reuses_a_key_id(engine) {
        let svc = service(engine);
        svc.admin_cli(&["secret:site:set", "s1", "A", "a-value"]);
        svc.op(&["key:rotate"]);
        svc.op(&["key:rotate"]);
        assert_eq!(key_ids(&svc.data), [1, 2, 3]);
        // A key file that only knows key 1 again (holding key 3's bytes), while the database says 3
        // was handed out.
        let key_file = svc.data.join("master.key");
        let saved = std::fs::read_to_string(&key_file).unwrap();
        let key3 = saved.lines().find_map(|l| l.strip_prefix("3 ")).unwrap();
        std::fs::write(&key_file, format!("1 {key3}\n")).unwrap();
        svc.sql("UPDATE secret_values SET key_id = 1");
        let out = text(&svc.op_output(&["key:rotate"]));
        assert!(out.contains("Master key 4 is current"), "{out}");
        let (_, doc) = svc.api(&svc.admin).get("/sites/s1/secrets/showall");
        assert_eq!(doc["Secrets"]["A"]["Value"], "a-value");
    }
}
