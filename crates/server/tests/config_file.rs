//! `serve --config FILE`: the file sets what flags and environment variables set, and a flag
//! (or its environment variable) given overrides the file.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::Service;

struct Served {
    child: Child,
    url: String,
    stderr: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve` with only these arguments and environment variables; waits for its address.
fn serve(svc: &Service, args: &[&str], env: &[(&str, &Path)]) -> Served {
    let stderr = svc.dir.join(format!(
        "serve-{}.stderr",
        secrets_server::crypto::to_hex(&secrets_server::crypto::random_bytes(4))
    ));
    let mut command = Command::new(common::BIN);
    command
        .arg("serve")
        .args(args)
        .env_remove("PANTHEON_SECRETS_DATA_DIR")
        .env_remove("PANTHEON_SECRETS_CONFIG");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child =
        command.stdout(Stdio::piped()).stderr(std::fs::File::create(&stderr).unwrap()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| {
        panic!("no address: {line:?} {}", std::fs::read_to_string(&stderr).unwrap_or_default())
    });
    Served { url: url.to_string(), child, stderr }
}

/// How many of `n` quick management requests got 429.
fn limited_of(svc: &Service, url: &str, n: usize) -> usize {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    let client = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (0..n)
        .filter(|_| {
            let r = client
                .get(format!("{url}/customer-secrets/v1/sites/s1/secrets/showall"))
                .bearer_auth(&svc.admin)
                .send()
                .unwrap();
            r.status().as_u16() == 429
        })
        .count()
}

fn write_config(svc: &Service, text: &str) -> PathBuf {
    let path = svc.dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_file_sets_serve_flags_override_it() {
    let mut svc = Service::start_with_rate(0.0);
    svc.stop();
    svc.op(&["site:create", "s1"]);
    let access = svc.dir.join("access.log");
    let config = write_config(
        &svc,
        &format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nrate_limit = 1\nlog_format = \"json\"\naccess_log = {:?}\n",
            svc.data.to_str().unwrap(),
            access.to_str().unwrap()
        ),
    );
    let config = config.to_str().unwrap();

    // Everything from the file: data directory, address, rate limit, log format, access log.
    let served = serve(&svc, &["--config", config], &[]);
    assert!(limited_of(&svc, &served.url, 4) >= 2, "rate_limit = 1 from the file");
    let pem = svc.binding("s1.dev", &[]);
    let identity = reqwest::Identity::from_pem(&std::fs::read(&pem).unwrap()).unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(svc.data.join("ca.pem")).unwrap()).unwrap();
    let client = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .identity(identity)
        .build()
        .unwrap();
    let status = client
        .get(format!("{}/customer-secrets/v1/runtime/secrets", served.url))
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 200);
    assert!(
        std::fs::read_to_string(&access).unwrap().contains("runtime.read s1.dev"),
        "access_log from the file"
    );
    drop(served);

    // Flags win: no rate limit, text logs.
    let served = serve(&svc, &["--config", config, "--rate-limit", "0", "--log-format", "text"], &[]);
    assert_eq!(limited_of(&svc, &served.url, 6), 0, "--rate-limit 0 overrides rate_limit = 1");
    let stderr = served.stderr.clone();
    drop(served);
    let text = std::fs::read_to_string(&stderr).unwrap();
    let first = text.lines().next().unwrap_or_default();
    assert!(!first.starts_with('{') && first.contains("INFO listening"), "--log-format text: {text}");

    // The environment variable of a flag wins too: the file's data_dir is ignored.
    let elsewhere =
        write_config(&svc, "data_dir = \"/nonexistent/data\"\nlisten = \"127.0.0.1:0\"\nrate_limit = 0\n");
    let served = serve(
        &svc,
        &[],
        &[("PANTHEON_SECRETS_CONFIG", &elsewhere), ("PANTHEON_SECRETS_DATA_DIR", &svc.data)],
    );
    assert_eq!(limited_of(&svc, &served.url, 4), 0);
}

#[test]
fn config_file_refused_with_the_key_named() {
    let svc = Service::start_with_rate(0.0);
    let data = svc.data.to_str().unwrap().to_string();
    for (text, named) in [
        ("rate_limt = 3\n", "rate_limt"),
        ("idle_timeout = 0\n", "idle_timeout"),
        ("log_format = \"xml\"\n", "xml"),
        ("listen = [1]\n", "listen"),
    ] {
        let path = write_config(&svc, text);
        let out = common::run(&["serve", "--data-dir", &data, "--config", path.to_str().unwrap()]);
        let message = common::text(&out);
        assert!(!out.status.success(), "{text}");
        assert!(message.contains(named) && message.contains("config.toml"), "{text}: {message}");
    }
    let out = common::run(&["serve", "--data-dir", &data, "--config", "/nonexistent/config.toml"]);
    assert!(common::text(&out).contains("/nonexistent/config.toml"), "{}", common::text(&out));
    let out = Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("PANTHEON_SECRETS_DATA_DIR")
        .output()
        .unwrap();
    assert!(common::text(&out).contains("no data directory"), "{}", common::text(&out));
}
