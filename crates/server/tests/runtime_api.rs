//! The runtime API over mTLS: the resolution matrix of ARCHITECTURE §3, build identities, and
//! `local-generate` agreeing with the runtime API through the extension's file backend.

mod common;

use common::{text, value, Engine, Service};
use secrets_core::resolve::resolve;
use secrets_core::Scope;

/// Two organizations (one owns s1, one only supports it) and the matrix of ARCHITECTURE §3.
fn matrix(engine: Engine) -> Service {
    let svc = Service::start_on(engine, 0.0, &[], None);
    svc.op(&["org:create", "acme"]);
    svc.op(&["org:create", "helper"]);
    svc.op(&["site:create", "s1", "--org", "acme", "--supporting-org", "helper"]);
    let set = |args: &[&str]| svc.admin_cli(args);
    // Organization only.
    set(&["secret:org:set", "acme", "ORG_ONLY", "org-only", "--scope=web,user"]);
    // Site over organization.
    set(&["secret:org:set", "acme", "SITE_OVER_ORG", "org-v", "--scope=web"]);
    set(&["secret:site:set", "s1", "SITE_OVER_ORG", "site-v", "--scope=web"]);
    // Organization environment override.
    set(&["secret:org:set", "acme", "ORG_ENV", "org-d", "--scope=web"]);
    set(&["secret:org:set", "acme", "ORG_ENV", "org-live", "--env=live"]);
    // Site environment override, over every organization value.
    set(&["secret:org:set", "acme", "SITE_ENV", "org", "--scope=web"]);
    set(&["secret:org:set", "acme", "SITE_ENV", "org-live-2", "--env=live"]);
    set(&["secret:site:set", "s1", "SITE_ENV", "site", "--scope=web"]);
    set(&["secret:site:set", "s1.live", "SITE_ENV", "site-live"]);
    set(&["secret:site:set", "s1.pr-1", "SITE_ENV", "site-pr-1"]);
    // A supporting organization never contributes.
    set(&["secret:org:set", "helper", "SUPPORT", "helper-v", "--scope=web"]);
    set(&["secret:org:set", "helper", "SITE_OVER_ORG", "helper-v2", "--scope=web"]);
    // Not web: never served to PHP workers.
    set(&["secret:site:set", "s1", "USER_ONLY", "user-v"]);
    set(&["secret:site:set", "s1", "github-oauth.github.com", "gh-token", "--type=composer", "--scope=ic"]);
    set(&["secret:site:set", "s1", "NPM_TOKEN", "npm-v", "--type=env", "--scope=ic,user"]);
    svc
}

/// An environment and the value each secret must have there (`None`: absent).
type Expected<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)]);

engine_test! {
    fn runtime_resolution_matrix_per_environment(engine) {
        let svc = matrix(engine);
        let cases: &[Expected] = &[
            (
                "dev",
                &[
                    ("ORG_ONLY", Some("org-only")),
                    ("SITE_OVER_ORG", Some("site-v")),
                    ("ORG_ENV", Some("org-d")),
                    ("SITE_ENV", Some("site")),
                    ("SUPPORT", None),
                    ("USER_ONLY", None),
                    ("github-oauth.github.com", None),
                ],
            ),
            (
                "live",
                &[
                    ("ORG_ONLY", Some("org-only")),
                    ("SITE_OVER_ORG", Some("site-v")),
                    ("ORG_ENV", Some("org-live")),
                    ("SITE_ENV", Some("site-live")),
                    ("SUPPORT", None),
                ],
            ),
            ("test", &[("ORG_ENV", Some("org-d")), ("SITE_ENV", Some("site"))]),
            ("pr-1", &[("SITE_ENV", Some("site-pr-1")), ("ORG_ENV", Some("org-d"))]),
        ];
        for (env, expected) in cases {
            let doc = svc.runtime(&svc.binding(&format!("s1.{env}"), &[]));
            assert_eq!(doc.site_id, "s1");
            for (name, want) in *expected {
                assert_eq!(value(&doc, name), *want, "{name} in {env}");
            }
            for secret in doc.secrets.values() {
                assert!(secret.has_scope(&Scope::Web));
                assert!(secret.env_values.is_empty() && secret.org_values.is_empty());
            }
        }
    }
}

engine_test! {
    fn runtime_dev_certificate_never_sees_live_or_supporting_values(engine) {
        let svc = matrix(engine);
        let (status, body) = svc.runtime_with(Some(&svc.binding("s1.dev", &[]))).unwrap();
        assert_eq!(status, 200);
        for leaked in ["org-live", "site-live", "site-pr-1", "helper-v", "user-v", "gh-token", "org-v\""] {
            assert!(!body.contains(leaked), "{leaked} in {body}");
        }
    }
}

engine_test! {
    fn runtime_build_identity_reads_ic_in_dev_only(engine) {
        let svc = matrix(engine);
        let doc = svc.runtime(&svc.binding("s1.dev", &["--build"]));
        assert_eq!(value(&doc, "github-oauth.github.com"), Some("gh-token"));
        assert_eq!(value(&doc, "NPM_TOKEN"), Some("npm-v"));
        assert_eq!(value(&doc, "SITE_ENV"), None, "web secrets are not for builds");
        assert_eq!(doc.scopes, ["ic"]);
        let multidev = svc.runtime(&svc.binding("s1.pr-1", &["--build"]));
        assert_eq!(value(&multidev, "NPM_TOKEN"), Some("npm-v"));
        for env in ["s1.live", "s1.test"] {
            let pem = svc.dir.join("refused.pem");
            let out = svc.op_output(&["binding:issue", env, "--out", pem.to_str().unwrap(), "--build"]);
            assert!(!out.status.success(), "{}", text(&out));
            assert!(text(&out).contains("dev and multidev"), "{}", text(&out));
            assert!(!pem.exists());
        }
    }
}

engine_test! {
    fn local_generate_file_backend_answers_like_runtime_api(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["org:create", "acme"]);
        svc.op(&["site:create", "s1", "--org", "acme"]);
        let set = |args: &[&str]| svc.admin_cli(args);
        set(&["secret:org:set", "acme", "A", "org-a", "--scope=web,user"]);
        set(&["secret:org:set", "acme", "A", "org-a-test", "--env=test"]);
        set(&["secret:org:set", "acme", "B", "org-b", "--scope=web,user"]);
        set(&["secret:site:set", "s1", "B", "site-b", "--scope=web,user"]);
        set(&["secret:site:set", "s1.live", "B", "site-b-live"]);
        set(&["secret:site:set", "s1", "EMPTY", "", "--scope=web,user"]);
        set(&["secret:site:set", "s1", "BUILD_ONLY", "ic-v", "--scope=ic,user"]);
        let file = svc.dir.join("local.json");
        let out = set(&["secret:site:local-generate", "s1", "--filepath", file.to_str().unwrap()]);
        assert!(out.contains("Secrets file written to"), "{out}");
        for env in ["dev", "test", "live"] {
            // Read the file the way the extension does: its configuration, its file backend.
            let config = secrets_runtime::Config::read(
                |name| match name {
                    secrets_runtime::config::ini::BACKEND => Some(format!("file://{}", file.display())),
                    secrets_runtime::config::ini::ENVIRONMENT => Some(env.to_string()),
                    _ => None,
                },
                |_| None,
            );
            let mut backend = secrets_runtime::backend::open(&config).unwrap().unwrap();
            let local = secrets_core::Document::parse(&backend.fetch().unwrap().bytes).unwrap();
            let from_file: Vec<(String, String)> = resolve(&local, &config.environment, &Scope::Web)
                .into_iter()
                .map(|e| (e.name.clone(), e.value.to_string()))
                .collect();
            let remote = svc.runtime(&svc.binding(&format!("s1.{env}"), &[]));
            let from_api: Vec<(String, String)> =
                resolve(&remote, env, &Scope::Web).into_iter().map(|e| (e.name.clone(), e.value.to_string())).collect();
            assert_eq!(from_file, from_api, "{env}");
            assert_eq!(from_api.len(), 3, "{env}: A, B and EMPTY");
        }
    }
}

engine_test! {
    fn runtime_answers_follow_every_change(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["org:create", "acme"]);
        svc.op(&["site:create", "s1", "--org", "acme"]);
        svc.admin_cli(&["secret:site:set", "s1", "K", "one", "--scope=web"]);
        let pem = svc.binding("s1.live", &[]);
        assert_eq!(value(&svc.runtime(&pem), "K"), Some("one"));
        assert_eq!(value(&svc.runtime(&pem), "K"), Some("one"), "served again, unchanged");
        svc.admin_cli(&["secret:site:set", "s1.live", "K", "live-two"]);
        assert_eq!(value(&svc.runtime(&pem), "K"), Some("live-two"));
        svc.admin_cli(&["secret:org:set", "acme", "O", "org", "--scope=web"]);
        assert_eq!(value(&svc.runtime(&pem), "O"), Some("org"));
        svc.admin_cli(&["secret:site:delete", "s1.live", "K"]);
        assert_eq!(value(&svc.runtime(&pem), "K"), Some("one"));
        svc.admin_cli(&["secret:site:delete", "s1", "K"]);
        assert_eq!(value(&svc.runtime(&pem), "K"), None);
    }
}

/// The extension's configuration for one backend setting, as php.ini would give it.
fn extension_config(settings: &[(&str, String)]) -> secrets_runtime::Config {
    secrets_runtime::Config::read(
        |name| settings.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()),
        |_| None,
    )
}

/// What the extension's backend for `config` fetches, resolved as `pantheon_get_secret()` sees it.
fn extension_answers(config: &secrets_runtime::Config) -> Vec<(String, String)> {
    let mut backend = secrets_runtime::backend::open(config).unwrap().unwrap();
    let doc = secrets_core::Document::parse(&backend.fetch().unwrap().bytes).unwrap();
    resolve(&doc, &config.environment, &Scope::Web)
        .into_iter()
        .map(|e| (e.name.clone(), e.value.to_string()))
        .collect()
}

#[test]
fn extension_https_backend_over_mtls_matches_local_generate() {
    use secrets_runtime::config::ini;
    let svc = Service::start_with_rate(0.0);
    svc.op(&["org:create", "acme"]);
    svc.op(&["site:create", "s1", "--org", "acme"]);
    let set = |args: &[&str]| svc.admin_cli(args);
    set(&["secret:org:set", "acme", "SMTP_PASSWORD", "org-smtp", "--scope=web,user"]);
    set(&["secret:org:set", "acme", "SMTP_PASSWORD", "org-smtp-test", "--env=test"]);
    set(&["secret:site:set", "s1", "STRIPE_KEY", "sk_site", "--scope=web,user"]);
    set(&["secret:site:set", "s1.live", "STRIPE_KEY", "sk_live"]);
    set(&["secret:site:set", "s1", "GITHUB", "gh", "--type=composer", "--scope=ic,user"]);
    let file = svc.dir.join("local.json");
    set(&["secret:site:local-generate", "s1", "--filepath", file.to_str().unwrap()]);
    let ca = svc.data.join("ca.pem").display().to_string();
    for env in ["dev", "test", "live"] {
        let over_mtls = extension_answers(&extension_config(&[
            (ini::BACKEND, svc.url.clone()),
            (ini::CLIENT_CERT, svc.binding(&format!("s1.{env}"), &[]).display().to_string()),
            (ini::CA_FILE, ca.clone()),
            (ini::ENVIRONMENT, env.to_string()),
        ]));
        let from_file = extension_answers(&extension_config(&[
            (ini::BACKEND, format!("file://{}", file.display())),
            (ini::ENVIRONMENT, env.to_string()),
        ]));
        assert_eq!(over_mtls, from_file, "{env}");
        let stripe = over_mtls.iter().find(|(n, _)| n == "STRIPE_KEY").map(|(_, v)| v.as_str());
        assert_eq!(stripe, Some(if env == "live" { "sk_live" } else { "sk_site" }), "{env}");
        assert!(!over_mtls.iter().any(|(n, _)| n == "GITHUB"), "ic secrets never reach web code");
    }
    // The extension resolves nothing again: configured for no environment (so dev), a live
    // binding's answer is served as live and reported as live.
    let cache = secrets_runtime::Cache::new(secrets_runtime::snapshot::zend_hash);
    cache.configure(
        1,
        extension_config(&[
            (ini::BACKEND, svc.url.clone()),
            (ini::CLIENT_CERT, svc.binding("s1.live", &[]).display().to_string()),
            (ini::CA_FILE, ca.clone()),
        ]),
    );
    assert_eq!(cache.update(0), None);
    assert_eq!(cache.held(|s| s.unwrap().get("STRIPE_KEY").unwrap().value.to_string()), "sk_live");
    assert_eq!(cache.status(0).environment, "live");
    // A revoked binding makes the extension's backend drop its values (401/403/404 revoke).
    let pem = svc.binding("s1.dev", &[]);
    svc.op(&["binding:revoke", "s1.dev"]);
    let config = extension_config(&[
        (ini::BACKEND, svc.url.clone()),
        (ini::CLIENT_CERT, pem.display().to_string()),
        (ini::CA_FILE, ca),
    ]);
    let err = secrets_runtime::backend::open(&config).unwrap().unwrap().fetch().unwrap_err();
    assert_eq!(err.kind, secrets_runtime::backend::FailureKind::Revoked, "{}", err.message);
    assert_eq!(err.status, Some(403));
}
