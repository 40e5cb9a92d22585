//! What reaches the operator's terminal: an id from a refused request, or a value a site user
//! set, may carry newlines and terminal escape sequences; tables show them escaped, one line per
//! row, while JSON output keeps them exact. Ids from refused requests are stored bounded.

mod common;

use common::Service;
use serde_json::{json, Value as Json};

/// Whether `text` holds a character a terminal would act on (other than the table's newlines).
fn has_raw_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

/// A site id made to forge a row of `audit:list` and to drive a terminal: a newline followed
/// by a fake row, a title change (OSC 0), a screen clear (CSI 2J), and a C1 CSI.
const FORGED: &str =
    "evil\n 2026-01-01 00:00:00   operator   key.rotate\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m";

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn audit_list_forged_id_escaped_in_table_exact_in_json() {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    let mallory = svc.api(&svc.token("mallory", &["--site", "s1"]));
    let (status, body) = mallory.get(&format!("/sites/{}/secrets/showall", percent_encode(FORGED)));
    assert_eq!(status, 403, "{body}");
    let events = svc.audit_when(|events| {
        events.iter().any(|e| e["action"] == "access.denied" && e["actor"] == "user:mallory")
    });
    let denied = events.iter().find(|e| e["action"] == "access.denied").unwrap();
    assert_eq!(denied["target"], json!(format!("site:{FORGED}")), "JSON output is exact");

    let table = svc.op(&["audit:list"]);
    assert!(!has_raw_control(&table), "raw control characters in the table: {table:?}");
    let rows = table.lines().filter(|l| !l.trim_start().starts_with('-')).count() - 1;
    assert_eq!(rows, events.len(), "one line per event, no forged row:\n{table}");
    assert!(table.contains(r"site:evil\n 2026-01-01"), "{table}");
    assert!(table.contains(r"\x1b]0;pwned\x07\x1b[2J\u{009b}31m"), "{table}");
}

#[test]
fn audit_refused_huge_id_stored_bounded() {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    let mallory = svc.api(&svc.token("mallory", &["--site", "s1"]));
    let huge = "x".repeat(60_000);
    let (status, _) = mallory.get(&format!("/sites/{huge}/secrets/showall"));
    assert_eq!(status, 403);
    let events = svc.audit_when(|events| events.iter().any(|e| e["action"] == "access.denied"));
    let target = events.iter().find(|e| e["action"] == "access.denied").unwrap()["target"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(target.len() <= 300, "a refused id is stored bounded, not {} bytes", target.len());
    assert!(target.starts_with("site:xxxx") && target.ends_with("more bytes]"), "{target}");
}

#[test]
fn secret_site_list_value_with_escape_sequences_escaped_in_table_exact_in_json() {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    let token = svc.token("siteuser", &["--site", "s1"]);
    let value = "v\u{1b}]0;owned\u{7}\u{1b}[2J\nFORGED   row";
    let (status, body) = svc.api(&token).post("/sites/s1/secrets", json!({"name": "K", "value": value}));
    assert!(status == 201 || status == 200, "{status} {body}");

    let out = svc.cli(&svc.admin, &["secret:site:list", "s1"]);
    assert!(out.status.success(), "{}", common::text(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(!has_raw_control(&table), "raw control characters in the table: {table:?}");
    assert!(table.contains(r"v\x1b]0;owned\x07\x1b[2J\nFORGED   row"), "{table}");
    assert!(!table.lines().any(|l| l.trim_start().starts_with("FORGED")), "{table}");

    let out = svc.cli(&svc.admin, &["secret:site:list", "s1", "--format", "json"]);
    assert!(out.status.success(), "{}", common::text(&out));
    let listed: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["K"]["value"], json!(value), "JSON output is exact");
}
