//! The Terminus commands (`secret:site:*`, `secret:org:*`): a small blocking client of the
//! management API, and the tables users know.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use reqwest::blocking::{Client, Response};
use reqwest::{Method, StatusCode, Url};
use secrets_core::document::{Document, Secret};
use secrets_core::resolve::resolve_value;
use serde_json::json;

use crate::cli::CliError;
use crate::messages;
use crate::server::{BASE, ERROR_CODE_HEADER};

/// How to reach the management API.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The service, e.g. `https://127.0.0.1:8443`.
    #[arg(long, env = "PANTHEON_SECRETS_URL")]
    pub url: String,
    /// A bearer token (`token:create`).
    #[arg(long, env = "PANTHEON_SECRETS_TOKEN", hide_env_values = true)]
    pub token: String,
    /// A CA certificate to trust (the service's `ca.pem`) besides the system roots.
    #[arg(long, env = "PANTHEON_SECRETS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

/// The secret a `set` command names, and what to set it to.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// The secret's name.
    pub name: String,
    /// The value; read from standard input when omitted.
    pub value: Option<String>,
    /// `runtime`, `env`, `composer` or `file` (new secrets only; default runtime).
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Comma-separated `web`, `ic`, `user` (new secrets only; default user).
    #[arg(long = "scope")]
    pub scope: Option<String>,
}

/// `--fields` and `--format` of the list commands.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Comma-separated: name,type,value,scopes,env_values,org_values.
    #[arg(long)]
    pub fields: Option<String>,
    /// `table` or `json`.
    #[arg(long, default_value = "table")]
    pub format: String,
}

/// Why a call to the service failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service answered with an error; the message is the service's.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable code.
        code: String,
        /// The message.
        message: String,
    },
    /// No answer.
    #[error("cannot reach the secrets service: {0}")]
    Http(String),
    /// A usage error.
    #[error("{0}")]
    Usage(String),
}

struct Api {
    client: Client,
    base: Url,
    token: zeroize::Zeroizing<String>,
}

impl Api {
    fn new(args: &ApiArgs) -> Result<Api, ClientError> {
        let mut builder = Client::builder().use_rustls_tls().timeout(Duration::from_secs(30));
        if let Some(path) = &args.ca_file {
            let pem =
                std::fs::read(path).map_err(|e| ClientError::Usage(format!("{}: {e}", path.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| ClientError::Usage(format!("{}: {e}", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| ClientError::Http(e.to_string()))?;
        let mut base =
            Url::parse(&args.url).map_err(|e| ClientError::Usage(format!("--url {}: {e}", args.url)))?;
        if base.path() == "/" || base.path().is_empty() {
            base.set_path(BASE);
        }
        Ok(Api { client, base, token: zeroize::Zeroizing::new(args.token.clone()) })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends a request; waits and retries (a few times) when told 429 with `Retry-After`.
    fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ClientError> {
        for attempt in 0.. {
            let mut request = self.client.request(method.clone(), url.clone()).bearer_auth(&*self.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().map_err(|e| ClientError::Http(without_url(&e)))?;
            if response.status() == StatusCode::TOO_MANY_REQUESTS && attempt < 5 {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(10);
                std::thread::sleep(Duration::from_secs(wait));
                continue;
            }
            if response.status().is_success() {
                return Ok(response);
            }
            return Err(api_error(response));
        }
        unreachable!("the loop returns")
    }

    fn document(&self, segments: &[&str]) -> Result<Document, ClientError> {
        let bytes = self
            .send(Method::GET, self.url(segments), None)?
            .bytes()
            .map_err(|e| ClientError::Http(without_url(&e)))?;
        Document::parse(&bytes).map_err(|e| ClientError::Http(format!("unexpected answer: {e}")))
    }
}

/// An error answer: the code from its header, the message from its body (a JSON string).
fn api_error(response: Response) -> ClientError {
    let status = response.status().as_u16();
    let code = response
        .headers()
        .get(ERROR_CODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_string();
    let body: serde_json::Value = response.json().unwrap_or_default();
    let message = match body {
        serde_json::Value::String(message) => message,
        _ => format!("the service answered {status}"),
    };
    ClientError::Api { status, code, message }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn read_value(value: Option<String>) -> Result<zeroize::Zeroizing<String>, CliError> {
    if let Some(v) = value {
        return Ok(zeroize::Zeroizing::new(v));
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::Io(format!("reading the value from standard input: {e}")))?;
    let trimmed = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(trimmed);
    Ok(text)
}

fn split_optional_env(text: &str) -> (String, Option<String>) {
    match text.split_once('.') {
        Some((site, env)) => (site.to_string(), Some(env.to_string())),
        None => (text.to_string(), None),
    }
}

#[allow(clippy::too_many_arguments)]
fn set(api: &Api, owner: [&str; 2], secret: SecretArgs, env: Option<String>) -> Result<(), CliError> {
    let SecretArgs { name, value, kind, scope } = secret;
    let name = name.as_str();
    let value = read_value(value)?;
    if let Some(warning) = integrated_composer_warning(kind.as_deref(), scope.as_deref(), name) {
        eprintln!("[warning] {warning}");
    }
    match env {
        Some(env) => {
            if kind.is_some() || scope.is_some() {
                return Err(CliError::Usage(
                    "type and scopes belong to the secret, not to one environment: omit them".into(),
                ));
            }
            let body = json!({"value": *value, "env": env});
            api.send(Method::PATCH, api.url(&[owner[0], owner[1], "secrets", name]), Some(&body))?;
        }
        None => {
            let mut body = json!({"name": name, "value": *value});
            let fixed = kind.is_some() || scope.is_some();
            if let Some(kind) = kind {
                body["type"] = json!(kind);
            }
            if let Some(scope) = scope {
                let scopes: Vec<&str> = scope.split(',').map(str::trim).collect();
                body["scopes"] = json!(scopes);
            }
            // As the plugin does: a create that names an existing secret is refused (400,
            // `secret_exists`); without type and scopes, the value is then sent as a PATCH.
            match api.send(Method::POST, api.url(&[owner[0], owner[1], "secrets"]), Some(&body)) {
                Err(ClientError::Api { code, .. }) if code == "secret_exists" => {
                    if fixed {
                        return Err(ClientError::Usage(messages::secret_exists(name)).into());
                    }
                    let body = json!({"value": *value});
                    api.send(Method::PATCH, api.url(&[owner[0], owner[1], "secrets", name]), Some(&body))?;
                }
                result => {
                    result?;
                }
            }
        }
    }
    eprintln!("[success] {}", messages::SECRET_SET);
    Ok(())
}

fn delete(api: &Api, owner: [&str; 2], name: &str, env: Option<String>) -> Result<(), CliError> {
    let mut url = api.url(&[owner[0], owner[1], "secrets", name]);
    if let Some(env) = &env {
        url.query_pairs_mut().append_pair("env", env);
    }
    api.send(Method::DELETE, url, None)?;
    let done = if env.is_some() { messages::OVERRIDE_DELETED } else { messages::SECRET_DELETED };
    eprintln!("[success] {done}");
    Ok(())
}

/// `secret:site:set <site>[.<env>] <name> [<value>] [--type] [--scope]`.
pub fn site_set(args: &ApiArgs, site_env: &str, secret: SecretArgs) -> Result<(), CliError> {
    let (site, env) = split_optional_env(site_env);
    set(&Api::new(args)?, ["sites", &site], secret, env)
}

/// The warning for a new secret Integrated Composer would not use as its creator intends: a
/// composer-type secret without the ic scope, or an ic secret of another type than composer or env.
fn integrated_composer_warning(kind: Option<&str>, scope: Option<&str>, name: &str) -> Option<String> {
    let has_ic = scope.is_some_and(|s| s.split(',').any(|s| s.trim() == "ic"));
    let kind = kind.unwrap_or("runtime");
    let why = match (kind, has_ic) {
        ("composer", false) => "a composer secret needs the ic scope",
        ("composer" | "env", true) | (_, false) => return None,
        (_, true) => "an ic secret must be of type composer or env",
    };
    Some(format!(
        "Integrated Composer will not use secret '{name}': {why}. Delete it and create it again with \
         --type=composer --scope=ic"
    ))
}

/// `secret:site:delete <site>[.<env>] <name>`.
pub fn site_delete(args: &ApiArgs, site_env: &str, name: &str) -> Result<(), CliError> {
    let (site, env) = split_optional_env(site_env);
    delete(&Api::new(args)?, ["sites", &site], name, env)
}

/// `secret:org:set <org> <name> [<value>] [--type] [--scope] [--env]`.
pub fn org_set(args: &ApiArgs, org: &str, secret: SecretArgs, env: Option<String>) -> Result<(), CliError> {
    set(&Api::new(args)?, ["organizations", org], secret, env)
}

/// `secret:org:delete <org> <name> [--env]`.
pub fn org_delete(args: &ApiArgs, org: &str, name: &str, env: Option<String>) -> Result<(), CliError> {
    delete(&Api::new(args)?, ["organizations", org], name, env)
}

/// `secret:site:list <site>[.<env>]`: with an environment, the value each secret has there.
pub fn site_list(args: &ApiArgs, site_env: &str, list: &ListArgs) -> Result<(), CliError> {
    let (site, env) = split_optional_env(site_env);
    let api = Api::new(args)?;
    let doc = api.document(&["sites", &site, "secrets", "showall"])?;
    print_list(&doc, env.as_deref(), list, true)
}

/// `secret:org:list <org>`.
pub fn org_list(args: &ApiArgs, org: &str, list: &ListArgs) -> Result<(), CliError> {
    let api = Api::new(args)?;
    let doc = api.document(&["organizations", org, "secrets"])?;
    print_list(&doc, None, list, false)
}

/// `secret:site:local-generate <site> --filepath=FILE`: the document as the API returns it,
/// so secrets without the `user` scope carry no value.
pub fn local_generate(args: &ApiArgs, site: &str, filepath: &Path) -> Result<(), CliError> {
    let api = Api::new(args)?;
    let doc = api.document(&["sites", site, "secrets", "showall"])?;
    let json = doc.to_json();
    let io = |e: std::io::Error| CliError::Io(format!("{}: {e}", filepath.display()));
    let mut bytes = zeroize::Zeroizing::new(json.as_bytes().to_vec());
    bytes.push(b'\n');
    crate::pki::write_private(filepath, &bytes).map_err(io)?;
    let redacted = doc.secrets.values().filter(|s| !s.has_scope("user")).count();
    if redacted > 0 {
        eprintln!("[notice] {redacted} secret(s) without the user scope have no value in the file.");
    }
    eprintln!("[success] {}", messages::file_written(&filepath.display().to_string()));
    Ok(())
}

const FIELDS: &[(&str, &str)] = &[
    ("name", "Secret name"),
    ("type", "Secret type"),
    ("value", "Secret value"),
    ("scopes", "Secret scopes"),
    ("env_values", "Environment override values"),
    ("org_values", "Org values"),
];

fn shown(secret: &Secret, value: Option<&str>) -> String {
    if !secret.has_scope("user") {
        messages::REDACTED.to_string()
    } else {
        value.unwrap_or("").to_string()
    }
}

fn pairs(
    secret: &Secret,
    map: &std::collections::BTreeMap<String, Option<secrets_core::document::Value>>,
) -> String {
    map.iter()
        .map(|(env, v)| format!("{env}={}", shown(secret, v.as_deref().map(String::as_str))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_list(doc: &Document, env: Option<&str>, list: &ListArgs, site: bool) -> Result<(), CliError> {
    let default_fields: Vec<&str> = match (site, env) {
        (true, None) => vec!["name", "type", "value", "scopes", "env_values", "org_values"],
        (false, _) => vec!["name", "type", "value", "scopes", "env_values"],
        (true, Some(_)) => vec!["name", "type", "value", "scopes"],
    };
    let fields: Vec<String> = match &list.fields {
        Some(f) => f.split(',').map(|s| s.trim().replace('-', "_")).collect(),
        None => default_fields.iter().map(|s| s.to_string()).collect(),
    };
    for f in &fields {
        if !FIELDS.iter().any(|(k, _)| k == f) {
            return Err(CliError::Usage(format!(
                "unknown field '{f}': fields are name, type, value, scopes, env_values, org_values"
            )));
        }
    }
    let rows: Vec<Vec<String>> = doc
        .secrets
        .iter()
        .map(|(name, secret)| {
            fields
                .iter()
                .map(|f| match f.as_str() {
                    "name" => name.clone(),
                    "type" => secret.kind.clone(),
                    "value" => {
                        let value = match env {
                            Some(env) => resolve_value(secret, env),
                            None => secret.value.as_ref(),
                        };
                        shown(secret, value.map(|v| v.as_str()))
                    }
                    "scopes" => secret.scopes.join(", "),
                    "env_values" => pairs(secret, &secret.env_values),
                    _ => pairs(secret, &secret.org_values),
                })
                .collect()
        })
        .collect();
    if list.format == "json" {
        let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .iter()
            .map(|row| fields.iter().cloned().zip(row.iter().map(|v| json!(v))).collect())
            .collect();
        println!("{}", serde_json::to_string_pretty(&objects).unwrap_or_default());
    } else if rows.is_empty() {
        eprintln!("[warning] You have no secrets.");
    } else {
        let headers: Vec<&str> =
            fields.iter().map(|f| FIELDS.iter().find(|(k, _)| k == f).map_or("", |(_, h)| *h)).collect();
        print!("{}", table(&headers, &rows));
    }
    Ok(())
}

/// A plain text table with a header and a rule, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!(" {}\n", padded.join("   ").trim_end())
    };
    let mut out = String::new();
    out.push_str(&format!(" {}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" - ")));
    out.push_str(&line(headers.to_vec()));
    out.push_str(&format!(" {}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" - ")));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push_str(&format!(" {}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" - ")));
    out
}

#[cfg(test)]
mod tests {
    use super::integrated_composer_warning;

    #[test]
    fn integrated_composer_warning_only_for_misplaced_build_secrets() {
        assert!(integrated_composer_warning(Some("composer"), Some("web"), "x")
            .unwrap()
            .contains("needs the ic scope"));
        assert!(integrated_composer_warning(Some("composer"), None, "x").is_some());
        assert!(integrated_composer_warning(Some("runtime"), Some("ic,web"), "x")
            .unwrap()
            .contains("type composer or env"));
        assert!(integrated_composer_warning(Some("composer"), Some("ic"), "x").is_none());
        assert!(integrated_composer_warning(Some("env"), Some("ic"), "x").is_none());
        assert!(integrated_composer_warning(None, Some("web,user"), "x").is_none());
    }
}
