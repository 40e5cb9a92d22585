//! Integrated Composer: `ic:composer-auth` with a build certificate, end to end through the CLI
//! and, when Debian's `composer` is installed, a real `composer install` from a private
//! repository on loopback that demands the generated auth.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::{text, Service, BIN};
use serde_json::{json, Value as Json};

/// A site with a build binding for dev, and `secrets` (name, value, type) set with scope ic.
fn build_site(secrets: &[(&str, &str, &str)]) -> (Service, std::path::PathBuf) {
    let service = Service::start_with_rate(0.0);
    service.op(&["org:create", "org"]);
    service.op(&["site:create", "site", "--org", "org"]);
    for (name, value, kind) in secrets {
        service.admin_cli(&["secret:site:set", "site", name, value, &format!("--type={kind}"), "--scope=ic"]);
    }
    let cert = service.binding("site.dev", &["--build"]);
    (service, cert)
}

fn composer_auth(service: &Service, cert: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["ic:composer-auth", "--url", &service.url, "--cert", cert.to_str().unwrap()])
        .args(["--ca-file", service.data.join("ca.pem").to_str().unwrap(), "--php-version", "8.2"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout_json(out: &Output) -> Json {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn composer_auth_maps_every_kind_and_merges() {
    let (service, cert) = build_site(&[
        ("github-oauth.github.com", "ghp_secret1", "composer"),
        ("http-basic.repo.example.com", "user:pa55word", "composer"),
        ("bitbucket-oauth.bitbucket.org", "key secret2", "composer"),
        ("bearer.packages.example.com", "bearer3", "composer"),
        (
            "COMPOSER_AUTH",
            r#"{"github-oauth": {"github.com": "from_blob", "ghe.example.com": "ghe4"}}"#,
            "env",
        ),
        ("NPM_TOKEN", "npm's \"token\"", "env"),
    ]);
    let out = composer_auth(&service, &cert, &[]);
    assert_eq!(
        stdout_json(&out),
        json!({
            "github-oauth": {"github.com": "ghp_secret1", "ghe.example.com": "ghe4"},
            "http-basic": {"repo.example.com": {"username": "user", "password": "pa55word"}},
            "bitbucket-oauth": {"bitbucket.org": {"consumer-key": "key", "consumer-secret": "secret2"}},
            "bearer": {"packages.example.com": "bearer3"},
        })
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("github-oauth.github.com") && stderr.contains("the secret wins"), "{stderr}");
    assert!(
        !stderr.contains("from_blob") && !stderr.contains("ghp_secret1"),
        "no value in messages: {stderr}"
    );

    let env = composer_auth(&service, &cert, &["--format", "env"]);
    assert!(env.status.success(), "{}", text(&env));
    let script = format!("{}printf '%s' \"$NPM_TOKEN\"", String::from_utf8_lossy(&env.stdout));
    let shell = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&shell.stdout), "npm's \"token\"");
}

#[test]
fn composer_auth_bad_values_are_named_not_shown() {
    let (service, cert) = build_site(&[
        ("bitbucket-oauth.bitbucket.org", "nospaceSECRET", "composer"),
        ("http-basic.repo.example.com", "nocolonSECRET", "composer"),
        ("COMPOSER_AUTH", "not json SECRET", "env"),
        ("svn-basic.example.com", "SECRET", "composer"),
    ]);
    let out = composer_auth(&service, &cert, &[]);
    assert_eq!(stdout_json(&out), json!({}));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in [
        "bitbucket-oauth.bitbucket.org",
        "http-basic.repo.example.com",
        "COMPOSER_AUTH",
        "svn-basic.example.com",
    ] {
        assert!(stderr.contains(name), "{name} named: {stderr}");
    }
    assert!(!stderr.contains("SECRET"), "no value: {stderr}");
}

#[test]
fn composer_auth_skips_php_below_8_without_fetching() {
    let out = Command::new(BIN)
        .args([
            "ic:composer-auth",
            "--url",
            "https://127.0.0.1:1",
            "--cert",
            "/nonexistent.pem",
            "--php-version",
            "7.4",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Skipping setting up secrets as it is not supported in PHP < 8"));
    assert!(out.stdout.is_empty());
}

#[test]
fn composer_auth_refuses_runtime_and_live_build_certificates() {
    let (service, _) = build_site(&[("github-oauth.github.com", "ghp_x", "composer")]);
    let live = service.op_output(&["binding:issue", "site.live", "--out", "/dev/null", "--build"]);
    assert!(!live.status.success(), "a live build binding must be refused");
    let runtime = service.binding("site.dev", &[]);
    let out = composer_auth(&service, &runtime, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("build certificate"), "{}", text(&out));
    assert!(!text(&out).contains("ghp_x"));
}

#[test]
fn composer_auth_warns_about_ssh_repositories() {
    let (service, cert) = build_site(&[("github-oauth.github.com", "ghp_x", "composer")]);
    let composer_json = service.dir.join("composer.json");
    std::fs::write(
        &composer_json,
        r#"{"repositories": [{"type": "vcs", "url": "git@github.com:acme/private.git"}]}"#,
    )
    .unwrap();
    let out = composer_auth(&service, &cert, &["--composer-json", composer_json.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("git@github.com:acme/private.git uses SSH"));
}

/// A private Composer repository on loopback (PHP's built-in server) demanding basic auth.
struct Repository(Child, u16);

impl Repository {
    fn start(user: &str, password: &str) -> Repository {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let router = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/composer-repo/router.php");
        let child = Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}"), router.to_str().unwrap()])
            .env("REPO_USER", user)
            .env("REPO_PASSWORD", password)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Repository(child, port)
    }
}

impl Drop for Repository {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn composer_install_needs_and_gets_the_generated_auth() {
    if Command::new("composer").arg("--version").output().is_err() {
        eprintln!("skipped: Debian's composer is not installed (make deps installs it)");
        return;
    }
    let password = "pr1vate-Repo-Passw0rd";
    let repo = Repository::start("builder", password);
    let (service, cert) = build_site(&[(
        &format!("http-basic.127.0.0.1:{}", repo.1),
        &format!("builder:{password}"),
        "composer",
    )]);
    let project = service.dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let composer_json = json!({
        "name": "acme/site",
        "require": {"acme/private": "1.0.0"},
        "repositories": [{"type": "composer", "url": format!("http://127.0.0.1:{}", repo.1)}, {"packagist.org": false}],
        "config": {"secure-http": false},
    });
    std::fs::write(project.join("composer.json"), composer_json.to_string()).unwrap();
    let install = |auth: Option<&str>| {
        let mut cmd = Command::new("composer");
        cmd.args(["install", "--no-interaction", "--no-progress", "--no-ansi"])
            .current_dir(&project)
            .env("COMPOSER_HOME", service.dir.join("composer-home"))
            .env("COMPOSER_CACHE_DIR", service.dir.join("composer-cache"))
            .env("COMPOSER_ALLOW_SUPERUSER", "1")
            .env_remove("COMPOSER_AUTH")
            .stdin(Stdio::null());
        if let Some(auth) = auth {
            cmd.env("COMPOSER_AUTH", auth);
        }
        cmd.output().unwrap()
    };

    let without = install(None);
    assert!(!without.status.success(), "without auth the install must fail: {}", text(&without));
    assert!(!project.join("vendor/acme/private/src/Hello.php").exists());

    let generated =
        composer_auth(&service, &cert, &["--composer-json", project.join("composer.json").to_str().unwrap()]);
    assert!(generated.status.success(), "{}", text(&generated));
    let auth = String::from_utf8(generated.stdout.clone()).unwrap();
    let with = install(Some(auth.trim()));
    assert!(with.status.success(), "with the generated auth the install must succeed: {}", text(&with));
    assert!(project.join("vendor/acme/private/src/Hello.php").exists());

    for (what, log) in [
        ("ic:composer-auth stderr", &generated.stderr),
        ("composer output", &with.stdout),
        ("composer errors", &with.stderr),
    ] {
        assert!(!String::from_utf8_lossy(log).contains(password), "the password leaked into the {what}");
    }

    // The same through auth.json written by --write.
    std::fs::remove_dir_all(project.join("vendor")).unwrap();
    let write = composer_auth(&service, &cert, &["--write", project.to_str().unwrap()]);
    assert!(write.status.success(), "{}", text(&write));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(project.join("auth.json")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let with_file = install(None);
    assert!(with_file.status.success(), "auth.json must serve as well: {}", text(&with_file));
}
