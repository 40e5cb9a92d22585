//! The Terminus commands (`secret:site:*`, `secret:org:*`): what Terminus' secrets plugin does,
//! over the management API with [`ApiClient`], with the messages its users know.

use std::io::Read;
use std::path::Path;

use secrets_core::{Scope, SecretType};
use serde_json::json;

use super::error::CliError;
use super::render::{self, ListOptions};
use crate::api_client::{ApiClient, ClientError};
use crate::api_paths::OwnerKind;
use crate::messages;
use crate::sensitive::Sensitive;

/// The secret a `set` command names, and what to set it to.
pub struct NewValue {
    /// The secret's name.
    pub name: String,
    /// The value; `None`: read standard input as it is.
    pub value: Option<Sensitive>,
    /// The type (new secrets only).
    pub kind: Option<String>,
    /// Comma-separated scopes (new secrets only).
    pub scope: Option<String>,
}

fn read_value(value: Option<Sensitive>) -> Result<Sensitive, CliError> {
    if let Some(v) = value {
        return Ok(v);
    }
    // Byte for byte: a PEM key or a multi-line value keeps its final newline. (`printf %s`
    // sends a value without one.)
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::Io(format!("reading the value from standard input: {e}")))?;
    Ok(Sensitive::from(text))
}

fn split_optional_env(text: &str) -> (String, Option<String>) {
    match text.split_once('.') {
        Some((site, env)) => (site.to_string(), Some(env.to_string())),
        None => (text.to_string(), None),
    }
}

fn set(
    api: &ApiClient,
    (kind_of, id): (OwnerKind, &str),
    secret: NewValue,
    env: Option<String>,
) -> Result<(), CliError> {
    let NewValue { name, value, kind, scope } = secret;
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
            api.patch(kind_of, id, name, &json!({"value": value.expose(), "env": env}))?;
        }
        None => {
            let mut body = json!({"name": name, "value": value.expose()});
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
            match api.create(kind_of, id, &body) {
                Err(ClientError::Api { code, .. }) if code == "secret_exists" => {
                    if fixed {
                        return Err(CliError::Usage(messages::secret_exists(name)));
                    }
                    api.patch(kind_of, id, name, &json!({"value": value.expose()}))?;
                }
                result => result?,
            }
        }
    }
    eprintln!("[success] {}", messages::SECRET_SET);
    Ok(())
}

fn delete(
    api: &ApiClient,
    (kind, id): (OwnerKind, &str),
    name: &str,
    env: Option<String>,
) -> Result<(), CliError> {
    api.delete(kind, id, name, env.as_deref())?;
    let done = if env.is_some() { messages::OVERRIDE_DELETED } else { messages::SECRET_DELETED };
    eprintln!("[success] {done}");
    Ok(())
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

/// `secret:site:set <site>[.<env>] <name> [<value>] [--type] [--scope]`.
pub fn site_set(api: &ApiClient, site_env: &str, secret: NewValue) -> Result<(), CliError> {
    let (site, env) = split_optional_env(site_env);
    set(api, (OwnerKind::Site, &site), secret, env)
}

/// `secret:site:delete <site>[.<env>] <name>`.
pub fn site_delete(api: &ApiClient, site_env: &str, name: &str) -> Result<(), CliError> {
    let (site, env) = split_optional_env(site_env);
    delete(api, (OwnerKind::Site, &site), name, env)
}

/// `secret:org:set <org> <name> [<value>] [--type] [--scope] [--env]`.
pub fn org_set(api: &ApiClient, org: &str, secret: NewValue, env: Option<String>) -> Result<(), CliError> {
    set(api, (OwnerKind::Org, org), secret, env)
}

/// `secret:org:delete <org> <name> [--env]`.
pub fn org_delete(api: &ApiClient, org: &str, name: &str, env: Option<String>) -> Result<(), CliError> {
    delete(api, (OwnerKind::Org, org), name, env)
}

/// `secret:site:list <site>[.<env>]`: with an environment, the value each secret has there.
pub fn site_list(api: &ApiClient, site_env: &str, list: &ListOptions<'_>) -> Result<(), CliError> {
    let (site, env) = split_optional_env(site_env);
    let doc = api.document(OwnerKind::Site, &site)?;
    print_list(&doc, env.as_deref(), list, true)
}

/// `secret:org:list <org>`.
pub fn org_list(api: &ApiClient, org: &str, list: &ListOptions<'_>) -> Result<(), CliError> {
    let doc = api.document(OwnerKind::Org, org)?;
    print_list(&doc, None, list, false)
}

fn print_list(
    doc: &secrets_core::Document,
    env: Option<&str>,
    list: &ListOptions<'_>,
    site: bool,
) -> Result<(), CliError> {
    let out = render::secret_list(doc, env, list, site)?;
    if doc.secrets.is_empty() {
        eprintln!("[warning] {}", messages::NO_SECRETS);
    }
    print!("{out}");
    Ok(())
}

/// `secret:site:local-generate <site> --filepath=FILE`: the document as the API returns it,
/// so secrets without the `user` scope carry no value.
pub fn local_generate(api: &ApiClient, site: &str, filepath: &Path) -> Result<(), CliError> {
    // `site.env` is accepted as the plugin accepts it; the document holds every environment.
    let (site, _) = split_optional_env(site);
    let doc = api.document(OwnerKind::Site, &site)?;
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
