//! Integrated Composer (ARCHITECTURE §8): `ic`-scope secrets of a build become one `COMPOSER_AUTH`
//! document and environment variables. Messages name secrets and keys, never values.

use serde_json::{json, Map, Value as Json};
use zeroize::Zeroizing;

use crate::model::{Scope, SecretType};
use crate::resolve::Entry;
use crate::validate::check_env_name;

/// The message a build on PHP < 8 prints instead of setting up secrets.
pub const PHP_LT_8: &str = "Skipping setting up secrets as it is not supported in PHP < 8";
/// The name of an `env`-type secret whose JSON is merged into the generated auth.
pub const COMPOSER_AUTH: &str = "COMPOSER_AUTH";

/// How much a message matters to the person reading the build log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Worth knowing; nothing was lost.
    Notice,
    /// Something was skipped; the build may fail for it.
    Warning,
}

/// One line for the build log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// How much it matters.
    pub level: Level,
    /// The text, naming the secret and never its value.
    pub text: String,
}

/// What a build gets from its secrets.
#[derive(Default)]
pub struct BuildSecrets {
    /// The `COMPOSER_AUTH` document, by auth kind then host.
    pub composer_auth: Map<String, Json>,
    /// Environment variables from `env`-type secrets (other than `COMPOSER_AUTH`), in name order.
    pub env: Vec<(String, Zeroizing<String>)>,
    /// What the build log should say.
    pub messages: Vec<Message>,
}

impl BuildSecrets {
    /// The `COMPOSER_AUTH` JSON (compact, as the variable holds it), or `None` when there is none.
    pub fn composer_auth_json(&self) -> Option<Zeroizing<String>> {
        (!self.composer_auth.is_empty())
            .then(|| Zeroizing::new(Json::Object(self.composer_auth.clone()).to_string()))
    }

    /// `auth.json` content (pretty, as Composer writes it).
    pub fn auth_json(&self) -> Zeroizing<String> {
        Zeroizing::new(
            serde_json::to_string_pretty(&Json::Object(self.composer_auth.clone())).unwrap_or_default(),
        )
    }

    /// `export NAME='value'` lines for a POSIX shell, values quoted so that nothing in them is
    /// interpreted; `COMPOSER_AUTH` included when there is one.
    pub fn shell_exports(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        let auth = self.composer_auth_json();
        let all = self
            .env
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(auth.as_deref().map(|a| (COMPOSER_AUTH, a.as_str())));
        for (name, value) in all {
            out.push_str(&format!("export {name}={}\n", shell_quote(value).as_str()));
        }
        out
    }

    fn say(&mut self, level: Level, text: String) {
        self.messages.push(Message { level, text });
    }
}

/// Single-quotes `value` for a POSIX shell: `it's` becomes `'it'\''s'`.
pub fn shell_quote(value: &str) -> Zeroizing<String> {
    Zeroizing::new(format!("'{}'", value.replace('\'', r"'\''")))
}

/// Maps the resolved secrets of a build onto Composer auth and environment variables.
pub fn build_secrets(entries: &[Entry]) -> BuildSecrets {
    let mut out = BuildSecrets::default();
    let mut from_blob = Map::new();
    for entry in entries {
        let has_ic = entry.scopes.contains(&Scope::Ic);
        match (&entry.kind, has_ic) {
            (SecretType::Composer, true) => add_auth(&mut out, entry),
            (SecretType::Env, true) if entry.name == COMPOSER_AUTH => {
                match serde_json::from_str::<Json>(&entry.value) {
                    Ok(Json::Object(blob)) => from_blob = blob,
                    _ => out.say(
                        Level::Warning,
                        format!("secret {COMPOSER_AUTH} is not a JSON object; it was not used"),
                    ),
                }
            }
            (SecretType::Env, true) => match check_env_name(entry.name.as_bytes()) {
                Ok(()) if !entry.value.contains('\0') => {
                    out.env.push((entry.name.clone(), entry.value.clone()))
                }
                _ => out.say(
                    Level::Warning,
                    format!("secret {} cannot be an environment variable; it was not set", entry.name),
                ),
            },
            (SecretType::Composer, false) => {
                out.say(Level::Warning, recreate(&entry.name, "it lacks the ic scope"))
            }
            (kind, true) => out.say(
                Level::Warning,
                recreate(&entry.name, &format!("its type is {kind}, not composer or env")),
            ),
            _ => {}
        }
    }
    merge(&mut out, from_blob);
    out.env.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn recreate(name: &str, why: &str) -> String {
    format!(
        "secret {name} is not used by Integrated Composer: {why}. Delete it and create it again with \
         --type=composer --scope=ic"
    )
}

fn add_auth(out: &mut BuildSecrets, entry: &Entry) {
    let name = &entry.name;
    let Some((kind, host)) = name.split_once('.').filter(|(k, h)| !k.is_empty() && !h.is_empty()) else {
        out.say(Level::Warning, format!("secret {name} is not named <auth-kind>.<host>; it was not used"));
        return;
    };
    let value = entry.value.as_str();
    let credential = match kind {
        "github-oauth" | "gitlab-oauth" | "gitlab-token" | "bearer" => Some(json!(value)),
        "bitbucket-oauth" => value
            .split_once(' ')
            .filter(|(k, s)| !k.is_empty() && !s.is_empty())
            .map(|(key, secret)| json!({"consumer-key": key, "consumer-secret": secret})),
        "http-basic" => value
            .split_once(':')
            .filter(|(user, _)| !user.is_empty())
            .map(|(user, password)| json!({"username": user, "password": password})),
        _ => {
            out.say(
                Level::Warning,
                format!(
                "secret {name}: unknown auth kind {kind:?} (known: github-oauth, gitlab-oauth, gitlab-token, \
                 bitbucket-oauth, http-basic, bearer); it was not used"
            ),
            );
            return;
        }
    };
    let Some(credential) = credential else {
        let shape = if kind == "bitbucket-oauth" { "\"key secret\"" } else { "\"user:password\"" };
        out.say(Level::Warning, format!("secret {name}: the value must be {shape}; it was not used"));
        return;
    };
    let hosts = out.composer_auth.entry(kind.to_string()).or_insert_with(|| json!({}));
    if let Json::Object(hosts) = hosts {
        hosts.insert(host.to_string(), credential);
    }
}

/// Merges the `COMPOSER_AUTH` secret's JSON under what the per-host secrets set: they win.
fn merge(out: &mut BuildSecrets, blob: Map<String, Json>) {
    for (kind, hosts) in blob {
        match (out.composer_auth.get_mut(&kind), hosts) {
            (Some(Json::Object(mine)), Json::Object(theirs)) => {
                for (host, credential) in theirs {
                    if mine.contains_key(&host) {
                        out.messages.push(Message {
                            level: Level::Notice,
                            text: format!("{COMPOSER_AUTH} sets {kind}.{host}, and so does secret {kind}.{host}; the secret wins"),
                        });
                    } else {
                        mine.insert(host, credential);
                    }
                }
            }
            (Some(_), _) => out
                .say(Level::Notice, format!("{COMPOSER_AUTH} sets {kind} in another shape; the secrets win")),
            (None, hosts) => {
                out.composer_auth.insert(kind, hosts);
            }
        }
    }
}

/// Repository URLs in a `composer.json` that Composer would fetch over SSH (`git@host:…`,
/// `ssh://…`), each with the advice to use HTTPS, which the generated auth serves.
pub fn ssh_repositories(composer_json: &str) -> Vec<Message> {
    let Ok(doc) = serde_json::from_str::<Json>(composer_json) else { return Vec::new() };
    let repositories = match doc.get("repositories") {
        Some(Json::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(Json::Object(map)) => map.values().collect(),
        _ => Vec::new(),
    };
    repositories
        .into_iter()
        .filter_map(|repo| repo.get("url")?.as_str())
        .filter(|url| url.starts_with("git@") || url.starts_with("ssh://"))
        .map(|url| Message {
            level: Level::Warning,
            text: format!("repository {url} uses SSH, which builds cannot authenticate; use its https:// URL, which the auth from secrets serves"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: &str, value: &str, scopes: &[&str]) -> Entry {
        Entry {
            name: name.into(),
            value: Zeroizing::new(value.into()),
            kind: kind.into(),
            scopes: scopes.iter().map(|s| Scope::parse(s)).collect(),
        }
    }

    fn ic(name: &str, kind: &str, value: &str) -> Entry {
        entry(name, kind, value, &["ic"])
    }

    #[test]
    fn build_secrets_maps_every_auth_kind() {
        let out = build_secrets(&[
            ic("github-oauth.github.com", "composer", "ghp_1"),
            ic("gitlab-oauth.gitlab.com", "composer", "glo_2"),
            ic("gitlab-token.git.example.com", "composer", "glt_3"),
            ic("bitbucket-oauth.bitbucket.org", "composer", "key4 secret4"),
            ic("http-basic.repo.example.com", "composer", "user5:pa:ss5"),
            ic("bearer.packages.example.com", "composer", "tok6"),
        ]);
        assert_eq!(
            Json::Object(out.composer_auth.clone()),
            json!({
                "github-oauth": {"github.com": "ghp_1"},
                "gitlab-oauth": {"gitlab.com": "glo_2"},
                "gitlab-token": {"git.example.com": "glt_3"},
                "bitbucket-oauth": {"bitbucket.org": {"consumer-key": "key4", "consumer-secret": "secret4"}},
                "http-basic": {"repo.example.com": {"username": "user5", "password": "pa:ss5"}},
                "bearer": {"packages.example.com": "tok6"},
            })
        );
        assert!(out.messages.is_empty(), "{:?}", out.messages);
    }

    #[test]
    fn build_secrets_merges_composer_auth_with_secrets_winning() {
        let blob = r#"{"github-oauth": {"github.com": "from_blob", "ghe.example.com": "ghe"}, "bearer": {"b.example.com": "b"}}"#;
        let out = build_secrets(&[
            ic("github-oauth.github.com", "composer", "from_secret"),
            ic("COMPOSER_AUTH", "env", blob),
        ]);
        assert_eq!(
            out.composer_auth["github-oauth"],
            json!({"github.com": "from_secret", "ghe.example.com": "ghe"})
        );
        assert_eq!(out.composer_auth["bearer"], json!({"b.example.com": "b"}));
        assert_eq!(out.messages.len(), 1);
        assert_eq!(out.messages[0].level, Level::Notice);
        assert!(out.messages[0].text.contains("github-oauth.github.com"), "{:?}", out.messages);
        assert!(!out.messages[0].text.contains("from_"), "no value in messages");
        assert!(out.env.is_empty(), "COMPOSER_AUTH is merged, not exported as given");
    }

    #[test]
    fn build_secrets_bad_values_named_without_value() {
        let out = build_secrets(&[
            ic("bitbucket-oauth.bitbucket.org", "composer", "nospace-SECRETVALUE"),
            ic("http-basic.repo.example.com", "composer", "nocolon-SECRETVALUE"),
            ic("COMPOSER_AUTH", "env", "not json SECRETVALUE"),
            ic("svn-auth.example.com", "composer", "SECRETVALUE"),
            ic("nodot", "composer", "SECRETVALUE"),
        ]);
        assert!(out.composer_auth.is_empty());
        let texts: Vec<_> = out.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts.len(), 5, "{texts:?}");
        assert!(texts[0].contains("bitbucket-oauth.bitbucket.org") && texts[0].contains("\"key secret\""));
        assert!(texts[1].contains("http-basic.repo.example.com") && texts[1].contains("\"user:password\""));
        assert!(texts[2].contains("COMPOSER_AUTH") && texts[2].contains("JSON"));
        assert!(texts[3].contains("unknown auth kind \"svn-auth\""));
        assert!(texts[4].contains("<auth-kind>.<host>"));
        assert!(texts.iter().all(|t| !t.contains("SECRETVALUE")), "{texts:?}");
    }

    #[test]
    fn build_secrets_env_and_misplaced_secrets() {
        let out = build_secrets(&[
            ic("NPM_TOKEN", "env", "npm_1"),
            ic("A_FIRST", "env", "it's \"quoted\" $HOME `x`\nline"),
            entry("github-oauth.github.com", "composer", "x", &["web"]),
            ic("STRIPE", "runtime", "x"),
            entry("WEB_ONLY", "env", "x", &["web"]),
        ]);
        assert_eq!(out.env.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["A_FIRST", "NPM_TOKEN"]);
        assert_eq!(out.messages.len(), 2);
        assert!(out.messages.iter().all(|m| m.text.contains("--type=composer --scope=ic")));
        let exports = out.shell_exports();
        assert_eq!(
            exports.as_str(),
            "export A_FIRST='it'\\''s \"quoted\" $HOME `x`\nline'\nexport NPM_TOKEN='npm_1'\n"
        );
    }

    #[test]
    fn shell_exports_round_trip_through_sh() {
        let value = "it's \"odd\" $HOME `id` \\ ; newline\nend";
        let out = build_secrets(&[ic("ODD", "env", value), ic("github-oauth.github.com", "composer", "g'h")]);
        let script = format!("{}printf '%s|%s' \"$ODD\" \"$COMPOSER_AUTH\"", out.shell_exports().as_str());
        let shell = std::process::Command::new("sh").arg("-c").arg(script).output().unwrap();
        let printed = String::from_utf8(shell.stdout).unwrap();
        assert_eq!(printed, format!("{value}|{{\"github-oauth\":{{\"github.com\":\"g'h\"}}}}"));
    }

    #[test]
    fn ssh_repositories_found_in_both_shapes() {
        let list = r#"{"repositories": [{"type": "vcs", "url": "git@github.com:org/private.git"}, {"type": "vcs", "url": "https://github.com/org/ok.git"}]}"#;
        let map = r#"{"repositories": {"a": {"type": "vcs", "url": "ssh://git@gitlab.com/org/x.git"}}}"#;
        assert_eq!(ssh_repositories(list).len(), 1);
        assert!(ssh_repositories(list)[0].text.contains("git@github.com:org/private.git"));
        assert_eq!(ssh_repositories(map).len(), 1);
        assert!(ssh_repositories("{}").is_empty() && ssh_repositories("not json").is_empty());
    }
}
