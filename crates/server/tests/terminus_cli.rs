//! The Terminus commands with Terminus habits: the plugin's aliases, `--format` table, json,
//! csv and yaml, `--fields` and `--field`, its messages, `local-generate`'s default file and
//! values from standard input kept byte for byte.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{text, Service};
use secrets_server::messages;
use serde_json::json;

/// A Terminus command as admin in `dir`, with `stdin` on its standard input.
fn cli_in(svc: &Service, dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(common::BIN)
        .args(args)
        .current_dir(dir)
        .env("PANTHEON_SECRETS_URL", &svc.url)
        .env("PANTHEON_SECRETS_TOKEN", &svc.admin)
        .env("PANTHEON_SECRETS_CA_FILE", svc.data.join("ca.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn plugin_aliases_run_their_commands() {
    let svc = Service::with_acme_s1();
    let ok = |args: &[&str]| svc.admin_cli(args);
    assert!(ok(&["secret:set", "s1", "A", "a", "--scope=web,user"]).contains(messages::SECRET_SET));
    assert!(ok(&["secret-set", "s1.live", "A", "a-live"]).contains(messages::SECRET_SET));
    assert!(ok(&["secret-org-set", "acme", "O", "o", "--scope=user"]).contains(messages::SECRET_SET));
    for list in ["secrets", "secret:list"] {
        let out = ok(&[list, "s1", "--field=name"]);
        assert_eq!(out.lines().next(), Some("A"), "{list}: {out}");
    }
    assert_eq!(ok(&["secret-org-list", "acme", "--field=value"]).trim(), "o");
    let dir = svc.dir.join("alias");
    std::fs::create_dir_all(&dir).unwrap();
    let out = cli_in(&svc, &dir, &["secret:local-generate", "s1"], b"");
    assert!(out.status.success() && dir.join("secrets.json").exists(), "{}", text(&out));
    assert!(ok(&["secret-delete", "s1.live", "A"]).contains(messages::OVERRIDE_DELETED));
    assert!(ok(&["secret:delete", "s1", "A"]).contains(messages::SECRET_DELETED));
    assert!(ok(&["secret-org-delete", "acme", "O"]).contains(messages::SECRET_DELETED));
    let out = ok(&["secrets", "s1"]);
    assert!(out.contains(messages::NO_SECRETS), "{out}");
    assert!(ok(&["secret-org-list", "acme"]).contains(messages::NO_SECRETS));
}

#[test]
fn list_formats_each_really_that_format() {
    let svc = Service::with_acme_s1();
    svc.admin_cli(&["secret:org:set", "acme", "SHARED", "org-v", "--scope=web,user"]);
    svc.admin_cli(&["secret:site:set", "s1", "MINE", "a,\"b\"", "--scope=user,web"]);
    svc.admin_cli(&["secret:site:set", "s1.live", "MINE", "live-v"]);
    svc.admin_cli(&["secret:site:set", "s1", "HIDDEN", "hidden-v", "--scope=web"]);
    let dir = svc.dir.clone();
    let list = |args: &[&str]| {
        let mut all = vec!["secret:site:list", "s1"];
        all.extend_from_slice(args);
        stdout(&cli_in(&svc, &dir, &all, b""))
    };

    // JSON: keyed by name, scopes an array, overrides objects, unreadable values null.
    let doc: serde_json::Value = serde_json::from_str(&list(&["--format=json"])).unwrap();
    assert_eq!(
        doc,
        json!({
            "HIDDEN": {"name": "HIDDEN", "type": "runtime", "value": null, "scopes": ["web"],
                       "env-values": {}, "org-values": {}},
            "MINE": {"name": "MINE", "type": "runtime", "value": "a,\"b\"", "scopes": ["user", "web"],
                     "env-values": {"live": "live-v"}, "org-values": {}},
            "SHARED": {"name": "SHARED", "type": "runtime", "value": null, "scopes": ["web", "user"],
                       "env-values": {}, "org-values": {"default": "org-v"}},
        })
    );
    // YAML: the same structure (keys in order), every string quoted.
    let yaml = list(&["--format=yaml", "--fields=name,value,scopes,env-values"]);
    let hidden = "\"HIDDEN\":\n  \"env-values\": {}\n  \"name\": \"HIDDEN\"\n  \"scopes\":\n    - \"web\"\n  \"value\": null\n";
    assert!(yaml.starts_with(hidden), "{yaml}");
    assert!(
        yaml.contains("\"MINE\":\n  \"env-values\":\n    \"live\": \"live-v\"\n  \"name\": \"MINE\"\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  \"scopes\":\n    - \"user\"\n    - \"web\"\n  \"value\": \"a,\\\"b\\\"\"\n"),
        "{yaml}"
    );
    // CSV: a header of labels, RFC 4180 quoting.
    let csv = list(&["--format=csv"]);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "Secret name,Secret type,Secret value,Secret scopes", "{csv}");
    assert_eq!(lines[1], "HIDDEN,runtime,[REDACTED],web");
    assert_eq!(lines[2], "MINE,runtime,\"a,\"\"b\"\"\",\"user, web\"");
    assert_eq!(lines[3], "SHARED,runtime,,\"web, user\"", "an inherited value is empty, not redacted");
    // Table: the plugin's default columns.
    let table = list(&[]);
    assert!(table.contains("Secret name") && table.contains("Secret scopes"), "{table}");
    assert!(!table.contains("Environment override values") && !table.contains("live-v"), "{table}");
    assert!(!table.contains("hidden-v") && table.contains("[REDACTED]"), "{table}");
    // An unknown format is an error, not a table.
    let out = cli_in(&svc, &dir, &["secret:site:list", "s1", "--format=xml"], b"");
    assert!(!out.status.success() && text(&out).contains("table, json, csv and yaml"), "{}", text(&out));
}

#[test]
fn list_fields_names_labels_star_and_field() {
    let svc = Service::with_acme_s1();
    svc.admin_cli(&["secret:site:set", "s1", "K1", "v1", "--scope=user", "--type=env"]);
    svc.admin_cli(&["secret:site:set", "s1", "K2", "v2", "--scope=user"]);
    svc.admin_cli(&["secret:site:set", "s1.test", "K2", "t2"]);
    let dir = svc.dir.clone();
    let list = |args: &[&str]| {
        let mut all = vec!["secret:site:list", "s1", "--format=json"];
        all.extend_from_slice(args);
        serde_json::from_str::<serde_json::Value>(&stdout(&cli_in(&svc, &dir, &all, b""))).unwrap()
    };
    let by_name = list(&["--fields=name,env_values"]);
    let by_label = list(&["--fields=Secret name, environment override values"]);
    assert_eq!(by_name, by_label);
    assert_eq!(by_name["K2"], json!({"name": "K2", "env-values": {"test": "t2"}}));
    let all = list(&["--fields=*"]);
    assert_eq!(all["K1"].as_object().unwrap().len(), 6, "{all}");
    let org = stdout(&cli_in(&svc, &dir, &["secret:org:list", "acme", "--fields=*", "--format=csv"], b""));
    assert_eq!(
        org.lines().next(),
        Some("Secret name,Secret type,Secret value,Secret scopes,Environment override values")
    );
    let out = cli_in(&svc, &dir, &["secret:site:list", "s1", "--fields=name,colour"], b"");
    assert!(!out.status.success() && text(&out).contains("unknown field 'colour'"), "{}", text(&out));
    // --field: one bare value per row.
    let values = stdout(&cli_in(&svc, &dir, &["secret:site:list", "s1", "--field=value"], b""));
    assert_eq!(values, "v1\nv2\n");
    let types = stdout(&cli_in(&svc, &dir, &["secret:site:list", "s1.test", "--field", "Secret value"], b""));
    assert_eq!(types, "v1\nt2\n", "the value in that environment");
}

#[test]
fn local_generate_default_file_and_messages() {
    let svc = Service::with_acme_s1();
    svc.admin_cli(&["secret:site:set", "s1", "K", "v", "--scope=user,web"]);
    let dir = svc.dir.join("project");
    std::fs::create_dir_all(&dir).unwrap();
    let out = cli_in(&svc, &dir, &["secret:site:local-generate", "s1"], b"");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&messages::file_written("./secrets.json")), "{}", text(&out));
    let doc = secrets_core::Document::parse(&std::fs::read(dir.join("secrets.json")).unwrap()).unwrap();
    assert_eq!(doc.secrets["K"].value.as_deref().map(String::as_str), Some("v"));
    // site.env is accepted, as the plugin accepts it.
    let out = cli_in(&svc, &dir, &["secret:site:local-generate", "s1.dev", "--filepath=dev.json"], b"");
    assert!(out.status.success() && dir.join("dev.json").exists(), "{}", text(&out));
}

#[test]
fn value_from_stdin_byte_for_byte_positional_as_given() {
    let svc = Service::with_acme_s1();
    let dir = svc.dir.clone();
    for (name, input) in [("TWO_LINES", &b"line1\nline2\n"[..]), ("NO_NEWLINE", b"exact"), ("CRLF", b"a\r\n")]
    {
        let out = cli_in(&svc, &dir, &["secret:site:set", "s1", name, "--scope=web,user"], input);
        assert!(out.status.success(), "{}", text(&out));
    }
    svc.admin_cli(&["secret:site:set", "s1", "POSITIONAL", "p\n", "--scope=web,user"]);
    let doc = svc.runtime(&svc.binding("s1.dev", &[]));
    assert_eq!(common::value(&doc, "TWO_LINES"), Some("line1\nline2\n"));
    assert_eq!(common::value(&doc, "NO_NEWLINE"), Some("exact"));
    assert_eq!(common::value(&doc, "CRLF"), Some("a\r\n"));
    assert_eq!(common::value(&doc, "POSITIONAL"), Some("p\n"));
}
