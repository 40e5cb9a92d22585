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
use secrets_core::{Scope, SecretType};
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
    /// The value; when omitted, standard input is read as it is (a final newline included).
    pub value: Option<String>,
    /// `runtime`, `env`, `composer`, `file` or `vcs` (new secrets only; default runtime).
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Comma-separated `web`, `ic`, `user` (new secrets only; default user).
    #[arg(long = "scope")]
    pub scope: Option<String>,
}

/// `--format`, `--fields` and `--field` of the list commands.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Comma-separated fields: name, type, value, scopes, env-values, org-values (sites), their
    /// labels ("Secret name", …), or `*` for all.
    #[arg(long)]
    pub fields: Option<String>,
    /// One field, printed bare, one line per secret.
    #[arg(long)]
    pub field: Option<String>,
    /// `table`, `json`, `csv` or `yaml`.
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
    // Byte for byte: a PEM key or a multi-line value keeps its final newline. (`printf %s`
    // sends a value without one.)
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::Io(format!("reading the value from standard input: {e}")))?;
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
    let has_ic = scope.is_some_and(|s| s.split(',').any(|s| Scope::parse(s.trim()) == Scope::Ic));
    let kind = kind.map_or(SecretType::Runtime, SecretType::parse);
    let why = match (kind, has_ic) {
        (SecretType::Composer, false) => "a composer secret needs the ic scope",
        (SecretType::Composer | SecretType::Env, true) | (_, false) => return None,
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
    // `site.env` is accepted as the plugin accepts it; the document holds every environment.
    let (site, _) = split_optional_env(site);
    let site = site.as_str();
    let api = Api::new(args)?;
    let doc = api.document(&["sites", site, "secrets", "showall"])?;
    let json = doc.to_json();
    let io = |e: std::io::Error| CliError::Io(format!("{}: {e}", filepath.display()));
    let mut bytes = zeroize::Zeroizing::new(json.as_bytes().to_vec());
    bytes.push(b'\n');
    crate::private_file::write(filepath, &bytes).map_err(io)?;
    let redacted = doc.secrets.values().filter(|s| !s.has_scope(&Scope::User)).count();
    if redacted > 0 {
        eprintln!("[notice] {redacted} secret(s) without the user scope have no value in the file.");
    }
    eprintln!("[success] {}", messages::file_written(&filepath.display().to_string()));
    Ok(())
}

/// The list commands' fields, machine name and label, as the plugin names them.
const FIELDS: &[(&str, &str)] = &[
    ("name", "Secret name"),
    ("type", "Secret type"),
    ("value", "Secret value"),
    ("scopes", "Secret scopes"),
    ("env-values", "Environment override values"),
    ("org-values", "Org values"),
];

/// The output formats of the list commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
    Yaml,
}

impl Format {
    fn parse(text: &str) -> Result<Format, CliError> {
        match text {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "yaml" => Ok(Format::Yaml),
            other => Err(CliError::Usage(format!(
                "unknown format '{other}': formats are table, json, csv and yaml"
            ))),
        }
    }
}

/// The fields `--fields` names, out of those the command has: machine names (`env-values` or
/// `env_values`), labels (`Secret name`, any case) or `*` for all, comma-separated.
fn parse_fields(
    spec: &str,
    available: &[(&'static str, &'static str)],
) -> Result<Vec<&'static str>, CliError> {
    let mut fields = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let found: Vec<&'static str> = if item == "*" {
            available.iter().map(|(k, _)| *k).collect()
        } else {
            let key = item.replace('_', "-");
            match available.iter().find(|(k, label)| *k == key || label.eq_ignore_ascii_case(item)) {
                Some((k, _)) => vec![*k],
                None => {
                    let names: Vec<&str> = available.iter().map(|(k, _)| *k).collect();
                    return Err(CliError::Usage(format!(
                        "unknown field '{item}': fields are {} (or their labels, or *)",
                        names.join(", ")
                    )));
                }
            }
        };
        for f in found {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
    }
    if fields.is_empty() {
        return Err(CliError::Usage("--fields names no field".into()));
    }
    Ok(fields)
}

/// A value as the management API gave it: `None` when not readable (no `user` scope) or absent.
fn value_json(value: Option<&secrets_core::document::Value>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, |v| json!(v.as_str()))
}

fn values_json(
    map: &std::collections::BTreeMap<String, Option<secrets_core::document::Value>>,
) -> serde_json::Value {
    map.iter().map(|(env, v)| (env.clone(), value_json(v.as_ref()))).collect::<serde_json::Map<_, _>>().into()
}

/// One secret as the plugin's rows hold it: `name`, `type`, `value`, `scopes` (an array),
/// `env-values` and, for sites, `org-values` (objects keyed by environment); unreadable values
/// are `null`.
fn row(
    name: &str,
    secret: &Secret,
    env: Option<&str>,
    fields: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .map(|f| {
            let v = match *f {
                "name" => json!(name),
                "type" => json!(secret.kind),
                "value" => value_json(match env {
                    Some(env) => resolve_value(secret, env),
                    None => secret.value.as_ref(),
                }),
                "scopes" => json!(secret.scopes),
                "env-values" => values_json(&secret.env_values),
                _ => values_json(&secret.org_values),
            };
            (f.to_string(), v)
        })
        .collect()
}

/// A cell as people read it (table, CSV, `--field`): scopes joined, overrides as `env=value`,
/// unreadable values as `[REDACTED]`.
fn cell(value: &serde_json::Value, readable: bool) -> String {
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null if !readable => messages::REDACTED.to_string(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    match value {
        serde_json::Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(", "),
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}={}", scalar(v))).collect::<Vec<_>>().join(", ")
        }
        v => scalar(v),
    }
}

fn print_list(doc: &Document, env: Option<&str>, list: &ListArgs, site: bool) -> Result<(), CliError> {
    let available = if site { FIELDS } else { &FIELDS[..5] };
    let format = Format::parse(&list.format)?;
    // The plugin's default table columns; the structured formats carry every field.
    let fields: Vec<&str> = match (&list.field, &list.fields) {
        (Some(_), Some(_)) => return Err(CliError::Usage("give --field or --fields, not both".into())),
        (Some(one), None) => parse_fields(one, available)?.into_iter().take(1).collect(),
        (None, Some(spec)) => parse_fields(spec, available)?,
        (None, None) if format == Format::Json || format == Format::Yaml => {
            available.iter().map(|(k, _)| *k).collect()
        }
        (None, None) if site => vec!["name", "type", "value", "scopes"],
        (None, None) => available.iter().map(|(k, _)| *k).collect(),
    };
    let rows: Vec<(bool, serde_json::Map<String, serde_json::Value>)> = doc
        .secrets
        .iter()
        .map(|(name, secret)| (secret.has_scope(&Scope::User), row(name, secret, env, &fields)))
        .collect();
    if rows.is_empty() {
        eprintln!("[warning] {}", messages::NO_SECRETS);
    }
    let cells = |(readable, row): &(bool, serde_json::Map<String, serde_json::Value>)| -> Vec<String> {
        fields.iter().map(|f| cell(&row[*f], *readable)).collect()
    };
    let mut out = String::new();
    if list.field.is_some() {
        for r in &rows {
            out.push_str(&cells(r).concat());
            out.push('\n');
        }
        print!("{out}");
        return Ok(());
    }
    match format {
        Format::Json | Format::Yaml => {
            let keyed: serde_json::Map<String, serde_json::Value> = doc
                .secrets
                .keys()
                .cloned()
                .zip(rows.into_iter().map(|(_, r)| serde_json::Value::Object(r)))
                .collect();
            let keyed = serde_json::Value::Object(keyed);
            if format == Format::Json {
                out = serde_json::to_string_pretty(&keyed).unwrap_or_default();
                out.push('\n');
            } else {
                out = yaml(&keyed);
            }
        }
        Format::Csv => {
            let labels: Vec<String> = fields
                .iter()
                .map(|f| available.iter().find(|(k, _)| k == f).map_or("", |(_, l)| *l).to_string())
                .collect();
            out.push_str(&csv_line(&labels));
            for r in &rows {
                out.push_str(&csv_line(&cells(r)));
            }
        }
        Format::Table if rows.is_empty() => {}
        Format::Table => {
            let labels: Vec<&str> = fields
                .iter()
                .map(|f| available.iter().find(|(k, _)| k == f).map_or("", |(_, l)| *l))
                .collect();
            let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
            out = table(&labels, &body);
        }
    }
    print!("{out}");
    Ok(())
}

/// A cell as a terminal may show it: control characters (C0, DEL, C1, so also the ESC that
/// starts a terminal sequence) and the invisible characters that reorder or hide text (bidi
/// controls, zero-width marks) become visible escapes like `\n`, `\x1b` or `\u{202e}`. A value
/// set by a site user or an id from a refused request can then neither forge a row nor drive
/// the operator's terminal. JSON output is not escaped this way: it stays exact.
pub fn escape_cell(text: &str) -> std::borrow::Cow<'_, str> {
    fn hidden(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
    }
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One CSV record (RFC 4180): fields with a comma, quote or line break are quoted.
fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
}

/// YAML for a JSON value: block mappings and sequences, every string double-quoted with JSON's
/// escapes (a subset of YAML's), so any value reads back byte for byte.
fn yaml(value: &serde_json::Value) -> String {
    fn scalar(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Array(a) if a.is_empty() => "[]".into(),
            serde_json::Value::Object(o) if o.is_empty() => "{}".into(),
            other => other.to_string(),
        }
    }
    fn emit(v: &serde_json::Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match v {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = serde_json::Value::String(k.clone()).to_string();
                    match v {
                        serde_json::Value::Object(m) if !m.is_empty() => {
                            out.push_str(&format!("{pad}{key}:\n"));
                            emit(v, indent + 2, out);
                        }
                        serde_json::Value::Array(a) if !a.is_empty() => {
                            out.push_str(&format!("{pad}{key}:\n"));
                            emit(v, indent + 2, out);
                        }
                        other => out.push_str(&format!("{pad}{key}: {}\n", scalar(other))),
                    }
                }
            }
            serde_json::Value::Array(items) if !items.is_empty() => {
                for item in items {
                    match item {
                        serde_json::Value::Object(m) if !m.is_empty() => {
                            out.push_str(&format!("{pad}-\n"));
                            emit(item, indent + 2, out);
                        }
                        serde_json::Value::Array(a) if !a.is_empty() => {
                            out.push_str(&format!("{pad}-\n"));
                            emit(item, indent + 2, out);
                        }
                        other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
                    }
                }
            }
            other => out.push_str(&format!("{pad}{}\n", scalar(other))),
        }
    }
    let mut out = String::new();
    emit(value, 0, &mut out);
    out
}

/// A plain text table with a header and a rule, columns padded to their widest cell; every
/// cell goes through [`escape_cell`].
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| escape_cell(h).into_owned()).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> =
        rows.iter().map(|row| row.iter().map(|c| escape_cell(c).into_owned()).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
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
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push_str(&format!(" {}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" - ")));
    out
}

#[cfg(test)]
mod tests {
    use super::{escape_cell, integrated_composer_warning, table};

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

    #[test]
    fn escape_cell_control_and_invisible_characters_made_visible() {
        assert_eq!(escape_cell("plain é ✓ \\ \"quoted\""), "plain é ✓ \\ \"quoted\"");
        assert_eq!(escape_cell("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(escape_cell("\u{1b}]0;pwned\u{7}\u{1b}[2J"), "\\x1b]0;pwned\\x07\\x1b[2J");
        assert_eq!(escape_cell("\0\u{7f}\u{9b}31m"), "\\x00\\x7f\\u{009b}31m");
        assert_eq!(escape_cell("abc\u{202e}fed\u{200b}"), "abc\\u{202e}fed\\u{200b}");
    }

    #[test]
    fn table_cells_escaped_one_line_per_row() {
        let rows = vec![vec!["s1\n 2026 forged row".to_string(), "\u{1b}[2J".to_string()]];
        let out = table(&["Id", "Value"], &rows);
        assert_eq!(out.lines().count(), 5, "{out}");
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("s1\\n 2026 forged row") && out.contains("\\x1b[2J"), "{out}");
    }
}
