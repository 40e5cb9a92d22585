//! `ic:composer-auth` (ARCHITECTURE §8): the build runner of a dev or multidev environment reads its
//! site's `ic` secrets from the runtime API with its build certificate and turns them into
//! Composer authentication and environment variables. Values go to stdout or a 0600 file only;
//! messages go to stderr and name secrets, never values.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrets_core::composer::{build_secrets, ssh_repositories, Level, PHP_LT_8};
use secrets_core::resolve::resolve;
use secrets_core::{Document, Scope};
use secrets_runtime::backend::https::{HttpsBackend, HttpsOptions};
use secrets_runtime::backend::Backend;
use secrets_runtime::config::BackendSpec;

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The `COMPOSER_AUTH` JSON.
    Json,
    /// `export NAME='value'` lines for the env-type secrets and `COMPOSER_AUTH`.
    Env,
}

/// The options of `ic:composer-auth`.
#[derive(Debug, clap::Args)]
pub struct ComposerAuthArgs {
    /// The service's URL.
    #[arg(long, env = "PANTHEON_SECRETS_URL")]
    pub url: String,
    /// The build certificate (PEM; holds the key too unless --key is given).
    #[arg(long, env = "PANTHEON_SECRETS_BUILD_CERT")]
    pub cert: PathBuf,
    /// The build certificate's key, when it is in a file of its own.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The CA that signs the service's certificate (default: the system's roots).
    #[arg(long, env = "PANTHEON_SECRETS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Write auth.json (mode 0600) into this directory instead of printing.
    #[arg(long)]
    pub write: Option<PathBuf>,
    /// What to print.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// The PHP version of the build (default: what `php` on the PATH says, else 8).
    #[arg(long)]
    pub php_version: Option<String>,
    /// The project's composer.json, checked for repositories reached over SSH.
    #[arg(long, default_value = "composer.json")]
    pub composer_json: PathBuf,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum ComposerAuthError {
    /// The runtime API refused or failed.
    #[error("cannot read the build's secrets from {url}: {cause}{hint}")]
    Fetch {
        /// The runtime endpoint.
        url: String,
        /// What went wrong.
        cause: String,
        /// Advice, when there is some.
        hint: &'static str,
    },
    /// Writing auth.json failed.
    #[error("{0}")]
    Write(String),
}

const BUILD_CERT_HINT: &str =
    ". Integrated Composer needs a build certificate (binding:issue SITE.ENV --build) \
                               for a dev or multidev environment";

/// Runs `ic:composer-auth`.
pub fn composer_auth(args: &ComposerAuthArgs) -> Result<(), ComposerAuthError> {
    let php = args.php_version.clone().or_else(detect_php_version).unwrap_or_else(|| "8".into());
    if php.split('.').next().and_then(|major| major.trim().parse::<u32>().ok()).is_some_and(|major| major < 8)
    {
        eprintln!("[notice] {PHP_LT_8}");
        return Ok(());
    }
    let doc = fetch(args)?;
    // The runtime API answers each secret resolved for the certificate's environment.
    let entries = resolve(&doc, "", &Scope::Ic);
    let built = build_secrets(&entries);
    let mut messages = built.messages.clone();
    if let Ok(composer_json) = std::fs::read_to_string(&args.composer_json) {
        messages.extend(ssh_repositories(&composer_json));
    }
    for message in &messages {
        let level = if message.level == Level::Warning { "warning" } else { "notice" };
        eprintln!("[{level}] {}", message.text);
    }
    match (&args.write, args.format) {
        (Some(dir), _) => write_auth_json(dir, built.auth_json().as_bytes()),
        (None, Format::Env) => print(built.shell_exports().as_bytes()),
        (None, Format::Json) => {
            print(built.composer_auth_json().as_deref().map_or("{}", |s| s.as_str()).as_bytes())
        }
    }
}

fn fetch(args: &ComposerAuthArgs) -> Result<Document, ComposerAuthError> {
    let spec = BackendSpec::parse(&args.url, None);
    let url = match &spec {
        BackendSpec::Https(url) => url.clone(),
        _ => {
            return Err(ComposerAuthError::Fetch {
                url: args.url.clone(),
                cause: "not an https:// URL".into(),
                hint: "",
            })
        }
    };
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let options = HttpsOptions {
        url: url.clone(),
        client_cert: args.cert.display().to_string(),
        client_key: path(&args.key),
        ca_file: path(&args.ca_file),
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
    };
    let failed =
        |cause: String, hint: &'static str| ComposerAuthError::Fetch { url: url.clone(), cause, hint };
    let mut backend = HttpsBackend::new(&options).map_err(|e| failed(e.message, ""))?;
    let body = backend
        .fetch()
        .map_err(|e| {
            let hint = if matches!(e.status, Some(401 | 403)) { BUILD_CERT_HINT } else { "" };
            failed(e.message, hint)
        })?
        .bytes;
    let doc = Document::parse(&body).map_err(|e| failed(e.to_string(), ""))?;
    // A runtime (web) certificate gets web secrets: refuse it rather than build with them.
    if doc.scopes.iter().any(|s| *s != Scope::Ic) {
        return Err(failed("the certificate is not a build certificate".into(), BUILD_CERT_HINT));
    }
    Ok(doc)
}

fn detect_php_version() -> Option<String> {
    let out = std::process::Command::new("php").args(["-r", "echo PHP_VERSION;"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn print(bytes: &[u8]) -> Result<(), ComposerAuthError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|_| stdout.write_all(b"\n"))
        .map_err(|e| ComposerAuthError::Write(format!("stdout: {e}")))
}

fn write_auth_json(dir: &Path, json: &[u8]) -> Result<(), ComposerAuthError> {
    let path = dir.join("auth.json");
    crate::private_file::write(&path, json)
        .map_err(|e| ComposerAuthError::Write(format!("{}: {e}", path.display())))?;
    eprintln!("[success] Composer authentication written to {}", path.display());
    Ok(())
}
