//! Private files (auth.json, local documents, binding PEMs) are written into a new file and
//! renamed over the target: a symlink at the target is replaced, never written through.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{text, Service, BIN};

/// A symlink where a private file goes: each writer replaces the link with a new 0600 file and
/// leaves the link's target as it was.
#[test]
fn private_file_writers_replace_a_symlink_never_write_through_it() {
    let svc = Service::start_with_rate(0.0);
    svc.op(&["site:create", "s1"]);
    svc.admin_cli(&[
        "secret:site:set",
        "s1",
        "github-oauth.github.com",
        "gh-1",
        "--type=composer",
        "--scope=ic",
    ]);
    let victim = svc.dir.join("victim");
    let link = |path: &Path| {
        std::fs::write(&victim, "precious").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&victim, path).unwrap();
    };
    let check = |path: &Path, what: &str| {
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "{what} wrote through the link");
        let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{what} changed the link target's mode");
        let meta = std::fs::symlink_metadata(path).unwrap();
        assert!(meta.file_type().is_file(), "{what}: the link was not replaced by a file");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{what}");
    };

    let project = svc.dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let auth = project.join("auth.json");
    link(&auth);
    let cert = svc.binding("s1.dev", &["--build"]);
    let out = Command::new(BIN)
        .args(["ic:composer-auth", "--url", &svc.url, "--cert", cert.to_str().unwrap()])
        .args(["--ca-file", svc.data.join("ca.pem").to_str().unwrap(), "--php-version", "8.2"])
        .args(["--write", project.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    check(&auth, "ic:composer-auth --write");
    assert!(std::fs::read_to_string(&auth).unwrap().contains("gh-1"));

    let generated = svc.dir.join("generated.json");
    link(&generated);
    let out =
        svc.cli(&svc.admin, &["secret:site:local-generate", "s1", "--filepath", generated.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    check(&generated, "secret:site:local-generate --filepath");

    let pem = svc.dir.join("binding.pem");
    link(&pem);
    svc.op(&["binding:issue", "s1.dev", "--out", pem.to_str().unwrap()]);
    check(&pem, "binding:issue --out");
    assert!(std::fs::read_to_string(&pem).unwrap().contains("PRIVATE KEY"));
}
