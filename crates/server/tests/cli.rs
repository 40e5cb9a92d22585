//! The command line as operators and site owners use it: init's files, the server certificate's
//! names, and the Terminus list formats.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::{run, text, Service};

#[test]
fn init_files_private_and_not_twice() {
    let svc = Service::start_with_rate(0.0);
    for private in ["master.key", "ca.key", "server.key"] {
        let mode = std::fs::metadata(svc.data.join(private)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{private}");
    }
    assert!(svc.admin.starts_with("pss_") && svc.admin.len() == 68, "one token on stdout");
    let out = run(&["init", "--data-dir", svc.data.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already initialized"), "{}", text(&out));
}

#[test]
fn init_hostname_is_in_the_server_certificate() {
    let dir = std::env::temp_dir().join(format!(
        "pantheon-secrets-test-host-{}",
        secrets_server::crypto::to_hex(&secrets_server::crypto::random_bytes(6))
    ));
    let data = dir.join("data");
    let data_arg = data.to_str().unwrap();
    let out = run(&["init", "--data-dir", data_arg, "--hostname", "secrets.internal.test"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut child = Command::new(common::BIN)
        .args(["serve", "--data-dir", data_arg, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)
        .unwrap();
    let addr: std::net::SocketAddr = line.trim().trim_start_matches("listening on https://").parse().unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(data.join("ca.pem")).unwrap()).unwrap();
    let client = |name: &str| {
        reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca.clone())
            .resolve(name, addr)
            .build()
            .unwrap()
            .get(format!("https://{name}:{}/customer-secrets/v1/runtime/secrets", addr.port()))
            .send()
    };
    assert_eq!(client("secrets.internal.test").unwrap().status(), 401, "the name verifies");
    assert_eq!(client("localhost").unwrap().status(), 401);
    assert!(client("other.internal.test").is_err(), "a name not in the certificate fails");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn site_list_formats_fields_and_redaction() {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    svc.admin_cli(&["secret:org:set", "acme", "SHARED", "org-v", "--scope=web,user"]);
    svc.admin_cli(&["secret:site:set", "s1", "MINE", "site-v", "--scope=user,web"]);
    svc.admin_cli(&["secret:site:set", "s1.live", "MINE", "live-v"]);
    svc.admin_cli(&["secret:site:set", "s1", "HIDDEN", "hidden-v", "--scope=web"]);

    let table = svc.admin_cli(&["secret:site:list", "s1", "--fields=*"]);
    for expected in [
        "Secret name",
        "Environment override values",
        "Org values",
        "live=live-v",
        "default=org-v",
        "[REDACTED]",
    ] {
        assert!(table.contains(expected), "{expected} in\n{table}");
    }
    assert!(!table.contains("hidden-v"), "{table}");

    let out = svc.cli(&svc.admin, &["secret:site:list", "s1.live", "--format=json", "--fields=name,value"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows,
        serde_json::json!({
            "HIDDEN": {"name": "HIDDEN", "value": null},
            "MINE": {"name": "MINE", "value": "live-v"},
            "SHARED": {"name": "SHARED", "value": "org-v"},
        })
    );
    let org = svc.admin_cli(&["secret:org:list", "acme", "--format=json"]);
    assert!(org.contains("\"org-v\"") && !org.contains("site-v"), "{org}");
}

#[test]
fn set_value_from_stdin() {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["site:create", "s1"]);
    let mut child = Command::new(common::BIN)
        .args(["secret:site:set", "s1", "FROM_STDIN", "--scope=web,user"])
        .env("PANTHEON_SECRETS_URL", &svc.url)
        .env("PANTHEON_SECRETS_TOKEN", &svc.admin)
        .env("PANTHEON_SECRETS_CA_FILE", svc.data.join("ca.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"line1\nline2\n").unwrap();
    assert!(child.wait().unwrap().success());
    let doc = svc.runtime(&svc.binding("s1.dev", &[]));
    assert_eq!(common::value(&doc, "FROM_STDIN"), Some("line1\nline2\n"), "byte for byte");
}

#[test]
fn cli_without_url_says_so() {
    let out = Command::new(common::BIN)
        .args(["secret:site:list", "s1"])
        .env_remove("PANTHEON_SECRETS_URL")
        .env_remove("PANTHEON_SECRETS_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("--url"), "{}", text(&out));
}
