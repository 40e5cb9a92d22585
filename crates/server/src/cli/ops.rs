//! The operator commands: they work on the data directory directly (no service needed), and each
//! is recorded in the audit trail with the actor `operator`.

use std::net::SocketAddr;

use super::error::CliError;
use super::render;
use crate::pki;
use crate::server::{self, logging::LogFormat, ServeOptions};
use crate::store::{self, AuditEvent, DataDir, Store};

/// `serve`: logging in `log_format`, then the service on a multi-threaded runtime until SIGTERM
/// or SIGINT; the audit queue is drained before it returns.
pub fn serve(
    dir: DataDir,
    listen: SocketAddr,
    opts: ServeOptions,
    log_format: LogFormat,
) -> Result<(), CliError> {
    server::logging::init(log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Store calls are bounded by the server; this bounds every other blocking task.
        .max_blocking_threads(32)
        .build()
        .map_err(|e| CliError::Io(format!("tokio runtime: {e}")))?;
    let writer = runtime.block_on(server::serve(dir, listen, opts))?;
    // Dropping the open connections drops the last audit sinks; then the queue drains.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    writer.finish();
    Ok(())
}

/// `org:create`: prints the new organization's UUID.
pub fn org_create(dir: &DataDir, org: &str, uuid: Option<&str>) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let created = store.create_org_with(org, uuid)?;
    operator_audit(&store, "org.create", Some(format!("org:{org}")), None, Some(created.uuid.clone()));
    eprintln!("[success] Organization '{org}' created (UUID {}).", created.uuid);
    println!("{}", created.uuid);
    Ok(())
}

/// `org:list`: every organization with its UUID.
pub fn org_list(dir: &DataDir, format: &str) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let orgs = store.orgs()?;
    operator_audit(&store, "org.list", None, None, Some(format!("{} organizations", orgs.len())));
    if format == "json" {
        let rows: Vec<serde_json::Value> =
            orgs.iter().map(|o| serde_json::json!({"name": o.name, "uuid": o.uuid})).collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        render::check_table_format(format)?;
        let rows: Vec<Vec<String>> = orgs.into_iter().map(|o| vec![o.name, o.uuid]).collect();
        print!("{}", render::table(&["Name", "ID"], &rows));
    }
    Ok(())
}

/// `site:create`: prints the new site's UUID.
pub fn site_create(
    dir: &DataDir,
    site: &str,
    org: Option<&str>,
    supporting_orgs: &[String],
    uuid: Option<&str>,
) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let created = store.create_site_with(site, org, supporting_orgs, uuid)?;
    operator_audit(
        &store,
        "site.create",
        Some(format!("site:{site}")),
        None,
        Some(format!(
            "{}{}",
            created.uuid,
            created.org.as_ref().map_or(String::new(), |o| format!(", org {o}"))
        )),
    );
    eprintln!("[success] Site '{site}' created (UUID {}).", created.uuid);
    println!("{}", created.uuid);
    Ok(())
}

/// `site:list`: every site with its UUID and organizations.
pub fn site_list(dir: &DataDir, format: &str) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let sites = store.sites()?;
    operator_audit(&store, "site.list", None, None, Some(format!("{} sites", sites.len())));
    if format == "json" {
        let rows: Vec<serde_json::Value> = sites
            .iter()
            .map(|s| {
                serde_json::json!({"name": s.name, "uuid": s.uuid, "org": s.org,
                                   "supporting_orgs": s.supporting})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        render::check_table_format(format)?;
        let rows: Vec<Vec<String>> = sites
            .into_iter()
            .map(|s| vec![s.name, s.uuid, s.org.unwrap_or_default(), s.supporting.join(", ")])
            .collect();
        print!("{}", render::table(&["Name", "ID", "Owner organization", "Supporting"], &rows));
    }
    Ok(())
}

/// What `token:create` grants.
pub struct Grants<'a> {
    /// Organizations the user belongs to.
    pub orgs: &'a [String],
    /// Sites the user may manage.
    pub sites: &'a [String],
    /// Every organization and site.
    pub admin: bool,
    /// When the token stops working (RFC 3339), if ever.
    pub expires: Option<&'a str>,
}

/// `token:create`: prints the token once.
pub fn token_create(dir: &DataDir, user: &str, grants: Grants<'_>) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let token = zeroize::Zeroizing::new(store.create_token_expiring(
        user,
        grants.admin,
        grants.orgs,
        grants.sites,
        grants.expires,
    )?);
    operator_audit(
        &store,
        "token.create",
        Some(format!("user:{user}")),
        None,
        grants.expires.map(|e| format!("expires {e}")),
    );
    eprintln!("[notice] Token for '{user}' (shown once; keep it secret):");
    println!("{}", *token);
    Ok(())
}

/// `binding:issue SITE.ENV --out FILE`: writes the PEM (0600), prints its serial.
pub fn binding_issue(
    dir: &DataDir,
    site_env: &str,
    out: &std::path::Path,
    build: bool,
    days: i64,
) -> Result<(), CliError> {
    let (site, env) = split_site_env(site_env)?;
    store::check_env(&env)?;
    if build && !store::build_env_allowed(&env) {
        return Err(CliError::Usage("build bindings exist only for dev and multidev environments".into()));
    }
    let store = Store::open(dir)?;
    // By name or UUID; the binding records the name.
    let site = store.site(&site)?.ok_or_else(|| store::site_not_found(&site))?.name;
    warn_expiring_bindings(&store, &site, &env, build)?;
    let issued = pki::issue_binding(dir, &store, &site, &env, build, days)?;
    pki::write_binding(out, &issued.pem)?;
    operator_audit(
        &store,
        "binding.issue",
        Some(format!("site:{site}")),
        Some(env),
        Some(format!("serial {}", issued.serial)),
    );
    eprintln!(
        "[success] Binding for {site_env}{} written to {} (serial {}, expires {}).",
        if build { " (build)" } else { "" },
        out.display(),
        issued.serial,
        issued.not_after
    );
    println!("{}", issued.serial);
    Ok(())
}

/// `binding:revoke SITE.ENV [--serial HEX]`.
pub fn binding_revoke(dir: &DataDir, site_env: &str, serial: Option<&str>) -> Result<(), CliError> {
    let (site, env) = split_site_env(site_env)?;
    let store = Store::open(dir)?;
    let site = store.site(&site)?.map_or(site, |s| s.name);
    let revoked = store.revoke_bindings(&site, &env, serial)?;
    if revoked.is_empty() {
        return Err(CliError::Usage(format!("no unrevoked binding of {site_env} matches")));
    }
    for s in &revoked {
        operator_audit(
            &store,
            "binding.revoke",
            Some(format!("site:{site}")),
            Some(env.clone()),
            Some(format!("serial {s}")),
        );
    }
    eprintln!("[success] Revoked {} binding(s) of {site_env}.", revoked.len());
    Ok(())
}

/// `key:rotate`: every value re-encrypted under a new master key.
pub fn key_rotate(dir: &DataDir) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let (id, moved) = store.rotate_key()?;
    operator_audit(&store, "key.rotate", None, None, Some(format!("key {id}, {moved} values re-encrypted")));
    eprintln!("[success] Master key {id} is current; {moved} values re-encrypted.");
    Ok(())
}

/// `audit:list`: the latest `limit` events that pass `filter`.
pub fn audit_list(
    dir: &DataDir,
    filter: &store::AuditFilter,
    limit: u32,
    format: &str,
) -> Result<(), CliError> {
    render::check_table_format(format)?;
    let store = Store::open(dir)?;
    let events = store.audit_query(filter, limit)?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&events).unwrap_or_default());
    } else {
        let rows: Vec<Vec<String>> = events
            .into_iter()
            .map(|e| {
                vec![
                    e.at,
                    e.actor,
                    e.action,
                    e.target.unwrap_or_default(),
                    e.name.unwrap_or_default(),
                    e.env.unwrap_or_default(),
                    e.detail.unwrap_or_default(),
                ]
            })
            .collect();
        print!("{}", render::table(&["When", "Who", "Action", "Target", "Secret", "Env", "Detail"], &rows));
    }
    Ok(())
}

/// A store error with what to type about it: the store states what is wrong, the command line
/// names its own flags and commands.
pub(super) fn with_hint(e: store::StoreError) -> CliError {
    let hint = match &e {
        store::StoreError::Conflict { code: "site_in_use", .. } => {
            "Delete or revoke them first, or pass --force to delete them with the site."
        }
        store::StoreError::Conflict { code: "org_in_use", .. } => {
            "Delete them first, or pass --force (its secrets are deleted, its sites keep theirs and \
             lose their owner)."
        }
        store::StoreError::NotFound { code: "backup_not_found", .. } => "`backup:list` shows them.",
        _ => return e.into(),
    };
    CliError::Usage(format!("{e} {hint}"))
}

/// Splits `site.env` (the environment is required).
pub fn split_site_env(text: &str) -> Result<(String, String), CliError> {
    match text.split_once('.') {
        Some((site, env)) if !site.is_empty() && !env.is_empty() => Ok((site.to_string(), env.to_string())),
        _ => Err(CliError::Usage(format!("expected SITE.ENV (for example my-site.dev), got '{text}'"))),
    }
}

/// `init`: a new data directory (database, master key, CA, server certificate); prints the
/// admin token once.
pub fn init(dir: &DataDir, hostnames: &[String]) -> Result<(), CliError> {
    std::fs::create_dir_all(&dir.0).map_err(|e| CliError::Io(format!("{}: {e}", dir.0.display())))?;
    if dir.db().exists() || dir.master_key().exists() {
        return Err(CliError::Usage(format!("{} is already initialized", dir.0.display())));
    }
    let store = Store::create(dir)?;
    pki::init(dir, hostnames)?;
    store.set_server_hostnames(hostnames)?;
    let token = zeroize::Zeroizing::new(store.create_token("admin", true, &[], &[])?);
    operator_audit(&store, "init", None, None, None);
    eprintln!(
        "[success] Initialized {}: database, master key, CA ({}) and server certificate.",
        dir.0.display(),
        dir.ca_cert().display()
    );
    eprintln!("[notice] Admin token (shown once; keep it secret):");
    println!("{}", *token);
    Ok(())
}

/// Records what an operator command did; a failure to record is a warning, not an error.
pub(super) fn operator_audit(
    store: &Store,
    action: &str,
    target: Option<String>,
    env: Option<String>,
    detail: Option<String>,
) {
    let event = AuditEvent {
        actor: "operator".into(),
        action: action.into(),
        target,
        env,
        detail,
        ..AuditEvent::default()
    };
    if let Err(e) = store.audit(&[event]) {
        eprintln!("[warning] audit trail: {e}");
    }
}

/// Whole days from now until an RFC 3339 time (negative when past), if it parses.
fn days_until(rfc3339: &str) -> Option<i64> {
    let at = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()?;
    Some((at - time::OffsetDateTime::now_utc()).whole_days())
}

/// `token:list`: each token's id, user, rights, creation and expiry; never the token.
pub fn token_list(dir: &DataDir, format: &str) -> Result<(), CliError> {
    render::check_table_format(format)?;
    let store = Store::open(dir)?;
    let tokens = store.tokens()?;
    operator_audit(&store, "token.list", None, None, Some(format!("{} tokens", tokens.len())));
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&tokens).unwrap_or_default());
        return Ok(());
    }
    let rows: Vec<Vec<String>> = tokens
        .into_iter()
        .map(|t| {
            let rights = if t.admin {
                "admin".to_string()
            } else {
                let mut rights: Vec<String> = t.orgs.iter().map(|o| format!("org:{o}")).collect();
                rights.extend(t.sites.iter().map(|s| format!("site:{s}")));
                rights.join(", ")
            };
            vec![t.id, t.user, rights, t.created_at, t.expires_at.unwrap_or_else(|| "never".into())]
        })
        .collect();
    print!("{}", render::table(&["ID", "User", "Rights", "Created", "Expires"], &rows));
    Ok(())
}

/// `token:revoke`: by the id `token:list` shows, or every token of a user.
pub fn token_revoke(dir: &DataDir, id: Option<&str>, user: Option<&str>) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let revoked = store.revoke_tokens(id, user)?;
    if revoked.is_empty() {
        return Err(CliError::Usage(match (id, user) {
            (Some(id), Some(user)) => format!("no token of '{user}' has id '{id}'"),
            (Some(id), None) => format!("no token has id '{id}' (see token:list)"),
            (None, Some(user)) => format!("user '{user}' has no token"),
            (None, None) => "give a token id or --user".into(),
        }));
    }
    for t in &revoked {
        operator_audit(
            &store,
            "token.revoke",
            Some(format!("user:{}", t.user)),
            None,
            Some(format!("token {}", t.id)),
        );
    }
    eprintln!("[success] Revoked {} token(s).", revoked.len());
    Ok(())
}

/// Before a new binding of `site.env` is issued: warns about each unrevoked one of the same kind
/// that expires within 30 days (its workers need the new one before then; revoke the old one
/// once they have it).
fn warn_expiring_bindings(store: &Store, site: &str, env: &str, build: bool) -> Result<(), CliError> {
    let days = server::metrics::NEAR_EXPIRY_DAYS;
    for b in store.bindings_expiring_for(site, env, build, days)? {
        eprintln!(
            "[warning] Binding {} of {site}.{env} expires {} (in {} days): deploy the new one, then \
             `binding:revoke {site}.{env} --serial {}`.",
            b.serial,
            b.not_after,
            days_until(&b.not_after).unwrap_or(0),
            b.serial
        );
    }
    Ok(())
}

/// The state of a binding as `binding:list` shows it.
fn binding_state(b: &store::BindingInfo) -> String {
    if b.revoked_at.is_some() {
        return "revoked".into();
    }
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let Ok(at) = time::OffsetDateTime::parse(&b.not_after, rfc3339) else {
        return "unknown expiry".into();
    };
    let left = at - time::OffsetDateTime::now_utc();
    if left <= time::Duration::ZERO {
        "expired".into()
    } else if left.whole_days() < i64::from(server::metrics::NEAR_EXPIRY_DAYS) {
        format!("expires in {} days", left.whole_days())
    } else {
        "active".into()
    }
}

/// `binding:list [SITE[.ENV]]`: serial, kind, issue, expiry and state of each binding.
pub fn binding_list(dir: &DataDir, site_env: Option<&str>, format: &str) -> Result<(), CliError> {
    render::check_table_format(format)?;
    let store = Store::open(dir)?;
    let (site, env) = match site_env {
        Some(text) => match text.split_once('.') {
            Some((site, env)) => (Some(site.to_string()), Some(env.to_string())),
            None => (Some(text.to_string()), None),
        },
        None => (None, None),
    };
    // By name or UUID; bindings record the name.
    let site = match site {
        Some(s) => Some(store.site(&s)?.ok_or_else(|| store::site_not_found(&s))?.name),
        None => None,
    };
    let bindings = store.bindings(site.as_deref(), env.as_deref())?;
    operator_audit(
        &store,
        "binding.list",
        site.as_ref().map(|s| format!("site:{s}")),
        env.clone(),
        Some(format!("{} bindings", bindings.len())),
    );
    if format == "json" {
        let rows: Vec<serde_json::Value> = bindings
            .iter()
            .map(|b| {
                let mut row = serde_json::to_value(b).unwrap_or_default();
                row["state"] = binding_state(b).into();
                row
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(());
    }
    let rows: Vec<Vec<String>> = bindings
        .iter()
        .map(|b| {
            vec![
                b.serial.clone(),
                format!("{}.{}", b.site, b.env),
                if b.build { "build" } else { "runtime" }.into(),
                b.issued_at.clone(),
                b.not_after.clone(),
                binding_state(b),
            ]
        })
        .collect();
    print!("{}", render::table(&["Serial", "Site.env", "Kind", "Issued", "Expires", "State"], &rows));
    Ok(())
}

/// `site:delete`: refused while the site has secrets or unrevoked bindings, unless `force`.
pub fn site_remove(dir: &DataDir, site: &str, force: bool) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let deleted = store.delete_site(site, force).map_err(with_hint)?;
    operator_audit(
        &store,
        "site.delete",
        Some(format!("site:{}", deleted.name)),
        None,
        Some(format!(
            "{} secrets, {} bindings, {} grants{}",
            deleted.secrets,
            deleted.bindings,
            deleted.grants,
            if force { ", forced" } else { "" }
        )),
    );
    eprintln!(
        "[success] Site '{}' deleted ({} secrets, {} bindings with it).",
        deleted.name, deleted.secrets, deleted.bindings
    );
    Ok(())
}

/// `org:delete`: refused while the organization owns sites or has secrets, unless `force`.
pub fn org_remove(dir: &DataDir, org: &str, force: bool) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let deleted = store.delete_org(org, force).map_err(with_hint)?;
    operator_audit(
        &store,
        "org.delete",
        Some(format!("org:{}", deleted.name)),
        None,
        Some(format!(
            "{} secrets, {} sites detached, {} grants{}",
            deleted.secrets,
            deleted.sites,
            deleted.grants,
            if force { ", forced" } else { "" }
        )),
    );
    eprintln!(
        "[success] Organization '{}' deleted ({} secrets with it; {} sites no longer have an owner).",
        deleted.name, deleted.secrets, deleted.sites
    );
    Ok(())
}

/// `cert:renew`: a new server certificate under the same CA, for the names given (default: the
/// names recorded at the last issue).
pub fn cert_renew(dir: &DataDir, hostnames: Vec<String>, days: i64) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let names = if hostnames.is_empty() {
        match store.server_hostnames()? {
            Some(names) => names,
            None => {
                eprintln!(
                    "[warning] This data directory did not record the certificate's names: the new one \
                     holds only localhost, 127.0.0.1 and ::1 (pass --hostname for each other name)."
                );
                Vec::new()
            }
        }
    } else {
        hostnames
    };
    let not_after = pki::renew_server(dir, &names, days)?;
    store.set_server_hostnames(&names)?;
    let mut all: Vec<String> = pki::DEFAULT_NAMES.iter().map(|n| n.to_string()).collect();
    all.extend(names.iter().filter(|n| !pki::DEFAULT_NAMES.contains(&n.as_str())).cloned());
    operator_audit(
        &store,
        "cert.renew",
        None,
        None,
        Some(format!("names {}; expires {not_after}", all.join(", "))),
    );
    eprintln!(
        "[success] Server certificate renewed for {} (expires {not_after}); the CA is unchanged. \
         Send SIGHUP to a running service to load it.",
        all.join(", ")
    );
    Ok(())
}
