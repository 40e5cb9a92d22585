//! The command line: operator commands that work on the data directory directly, and the
//! Terminus commands, which talk to the management API (see [`crate::client`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::client::{self, ApiArgs, ListArgs, SecretArgs};
use crate::pki;
use crate::server::{self, ServeOptions};
use crate::store::{self, AuditEvent, DataDir, Store};

/// `pantheon-secrets`: the secrets service and its CLI.
#[derive(Debug, Parser)]
#[command(name = "pantheon-secrets", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The data directory of the service: database, master key, CA and server certificate.
#[derive(Debug, Args)]
pub struct DataDirArg {
    /// The data directory.
    #[arg(long, env = "PANTHEON_SECRETS_DATA_DIR")]
    pub data_dir: PathBuf,
}

/// Every command. (Flattened argument groups carry their own docs.)
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Creates a data directory: database, master key file (0600), CA, server certificate;
    /// prints the admin token once.
    #[command(name = "init")]
    Init {
        #[command(flatten)]
        dir: DataDirArg,
        /// More names for the server certificate (localhost, 127.0.0.1 and ::1 are always in).
        #[arg(long = "hostname")]
        hostnames: Vec<String>,
        /// The database: a PostgreSQL connection string (postgres://USER@HOST/DB, an empty
        /// database), which the data directory then records for every command; default: the
        /// data directory's SQLite file.
        #[arg(long, env = "PANTHEON_SECRETS_DATABASE", value_parser = parse_database)]
        database: Option<store::Database>,
    },
    /// Serves the management and runtime APIs over HTTPS. Settings come from the flags (and
    /// their environment variables), then the configuration file, then the defaults.
    #[command(name = "serve")]
    Serve {
        /// The data directory (or `data_dir` in the configuration file).
        #[arg(long, env = "PANTHEON_SECRETS_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The configuration file (TOML); default /etc/pantheon-secrets/config.toml when it exists.
        #[arg(long, env = "PANTHEON_SECRETS_CONFIG")]
        config: Option<PathBuf>,
        /// The database (or `database` in the configuration file): a PostgreSQL connection
        /// string that replicas share; default: the one the data directory records, or its
        /// SQLite file.
        #[arg(long, env = "PANTHEON_SECRETS_DATABASE", value_parser = parse_database)]
        database: Option<store::Database>,
        /// Address to listen on; port 0 picks a free one (the address is printed). [default:
        /// 127.0.0.1:8443]
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Management API requests per second per user; 0 disables the limit. [default: 3]
        #[arg(long)]
        rate_limit: Option<f64>,
        /// Appends a line per runtime read to this file (time, site.env, kind, serial; never a
        /// value): how operators count fetches per worker. Reopened on SIGHUP.
        #[arg(long)]
        access_log: Option<std::path::PathBuf>,
        /// Seconds a new connection has to finish its TLS handshake and start its first request.
        /// [default: 10]
        #[arg(long, value_parser = parse_seconds)]
        handshake_timeout: Option<std::time::Duration>,
        /// Seconds a connection may stay idle between requests (HTTP/1 keep-alive and HTTP/2).
        /// [default: 60]
        #[arg(long, value_parser = parse_seconds)]
        idle_timeout: Option<std::time::Duration>,
        /// Seconds a request may take from its headers to its answer (then 408). [default: 30]
        #[arg(long, value_parser = parse_seconds)]
        request_timeout: Option<std::time::Duration>,
        /// Open connections at most (at the cap, an idle one makes room); default: from the
        /// descriptor limit, keeping headroom for the database.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_connections: Option<u64>,
        /// Failed authentications per second per client address once the burst is spent (then
        /// 429 with Retry-After); 0 disables the limit. [default: 1]
        #[arg(long, value_parser = parse_rate)]
        auth_failure_rate: Option<f64>,
        /// Failed authentications per client address allowed at once. [default: 20]
        #[arg(long)]
        auth_failure_burst: Option<u32>,
        /// Seconds requests in flight have to finish after SIGTERM or SIGINT. [default: 10]
        #[arg(long, value_parser = parse_seconds)]
        drain_timeout: Option<std::time::Duration>,
        /// The form of the service's log lines on stderr: `text` or `json`. [default: text]
        #[arg(long)]
        log_format: Option<server::logging::LogFormat>,
    },
    /// Creates an organization; prints its UUID. Its name or UUID then names it everywhere.
    #[command(name = "org:create")]
    OrgCreate {
        #[command(flatten)]
        dir: DataDirArg,
        /// The organization's name.
        org: String,
        /// Its UUID, when importing one that has it already (default: a new one).
        #[arg(long)]
        uuid: Option<String>,
    },
    /// Lists the organizations with their UUIDs.
    #[command(name = "org:list")]
    OrgListAll {
        #[command(flatten)]
        dir: DataDirArg,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Creates a site, with its owner organization and supporting organizations (by name or
    /// UUID); prints its UUID. Its name or UUID then names it everywhere.
    #[command(name = "site:create")]
    SiteCreate {
        #[command(flatten)]
        dir: DataDirArg,
        /// The site's name.
        site: String,
        /// The owner organization: the only one whose secrets the site inherits.
        #[arg(long)]
        org: Option<String>,
        /// A supporting organization: its members may reach the site; it contributes no secrets.
        #[arg(long = "supporting-org")]
        supporting_orgs: Vec<String>,
        /// Its UUID, when importing one that has it already (default: a new one).
        #[arg(long)]
        uuid: Option<String>,
    },
    /// Lists the sites with their UUIDs and organizations.
    #[command(name = "site:list")]
    SiteListAll {
        #[command(flatten)]
        dir: DataDirArg,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Creates a bearer token for a user and grants it organizations and sites; prints it once.
    #[command(name = "token:create")]
    TokenCreate {
        #[command(flatten)]
        dir: DataDirArg,
        /// The user's name.
        user: String,
        /// An organization the user belongs to (and so the sites it owns).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// A site the user may manage.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Reach every organization and site.
        #[arg(long)]
        admin: bool,
        /// When the token stops working: a duration from now (`90d`, `12h`, `30m`, `45s`) or an
        /// RFC 3339 time; default never.
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<String>,
    },
    /// Issues a binding (client certificate and key, one PEM) for SITE.ENV.
    #[command(name = "binding:issue")]
    BindingIssue {
        #[command(flatten)]
        dir: DataDirArg,
        /// `site.env`.
        site_env: String,
        /// Where to write the PEM (mode 0600).
        #[arg(long)]
        out: PathBuf,
        /// For an Integrated Composer build runner (reads `ic` secrets; dev and multidevs only).
        #[arg(long)]
        build: bool,
        /// Days of validity.
        #[arg(long, default_value_t = 365, allow_negative_numbers = true)]
        days: i64,
    },
    /// Revokes the bindings of SITE.ENV (or only the one with --serial).
    #[command(name = "binding:revoke")]
    BindingRevoke {
        #[command(flatten)]
        dir: DataDirArg,
        /// `site.env`.
        site_env: String,
        /// Only this serial number (hex, as `binding:issue` printed it).
        #[arg(long)]
        serial: Option<String>,
    },
    /// Re-encrypts every value under a new master key; the service keeps serving meanwhile.
    #[command(name = "key:rotate")]
    KeyRotate {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Writes a consistent copy of the database (SQLite's online backup API) with the master
    /// keys it needs, the CA and the server certificate into DIR, and records it; safe while
    /// `serve` runs. Prints the backup's id.
    #[command(name = "backup")]
    Backup {
        #[command(flatten)]
        dir: DataDirArg,
        /// A new or empty directory for the backup (made 0700; its files 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restores a backup into a new data directory (--data-dir, new or empty) and checks that
    /// every value opens.
    #[command(name = "restore")]
    Restore {
        #[command(flatten)]
        dir: DataDirArg,
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
        /// A key file to use instead of the backup's own (e.g. the current `master.key`, which
        /// keeps retired keys until `key:prune`).
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Lists the recorded backups with the master keys each needs.
    #[command(name = "backup:list")]
    BackupList {
        #[command(flatten)]
        dir: DataDirArg,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Removes a backup's record once the backup is destroyed, so `key:prune` may remove the
    /// keys it needed.
    #[command(name = "backup:forget")]
    BackupForget {
        #[command(flatten)]
        dir: DataDirArg,
        /// The backup's id (`backup:list`).
        id: i64,
    },
    /// Removes retired master keys from the key file: those with an id below KEY_ID, or retired
    /// before an RFC 3339 time. Refused while a value or a recorded backup needs one.
    #[command(name = "key:prune")]
    KeyPrune {
        #[command(flatten)]
        dir: DataDirArg,
        /// A key id or an RFC 3339 time (`2026-01-31T00:00:00Z`).
        #[arg(long, value_name = "KEY_ID|TIME", value_parser = store::backup::parse_prune_before)]
        before: store::backup::PruneBefore,
    },
    /// Shows the audit trail: who read or changed which secret when (never values).
    #[command(name = "audit:list")]
    AuditList {
        #[command(flatten)]
        dir: DataDirArg,
        /// How many of the latest events.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
        /// Only this actor (`user:NAME`, `binding:SERIAL`, `operator`); `*` at the end: a prefix.
        #[arg(long)]
        actor: Option<String>,
        /// Only this action (`secret.create`, `runtime.read`); `*` at the end: a prefix (`secret.*`).
        #[arg(long)]
        action: Option<String>,
        /// Only this target (`site:NAME`, `org:NAME`); `*` at the end: a prefix.
        #[arg(long)]
        target: Option<String>,
        /// From this time on: RFC 3339, or a duration ago (`24h`, `7d`, `30m`).
        #[arg(long, value_parser = parse_time_or_ago)]
        since: Option<String>,
        /// Before this time: RFC 3339, or a duration ago.
        #[arg(long, value_parser = parse_time_or_ago)]
        until: Option<String>,
    },
    /// Lists the bearer tokens: id (the start of the token's hash), user, rights, expiry.
    /// Never the token itself.
    #[command(name = "token:list")]
    TokenList {
        #[command(flatten)]
        dir: DataDirArg,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Revokes a token by the id `token:list` shows, or every token of `--user`; the service
    /// refuses it (401) from its next request on.
    #[command(name = "token:revoke")]
    TokenRevoke {
        #[command(flatten)]
        dir: DataDirArg,
        /// The token's id (8 or more hex digits of it).
        #[arg(required_unless_present = "user")]
        id: Option<String>,
        /// Every token of this user.
        #[arg(long)]
        user: Option<String>,
    },
    /// Lists the bindings issued (of SITE or SITE.ENV): serial, kind, issue and expiry, state.
    #[command(name = "binding:list")]
    BindingList {
        #[command(flatten)]
        dir: DataDirArg,
        /// `site` or `site.env`.
        site_env: Option<String>,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Deletes a site; refused while it has secrets or unrevoked bindings, unless --force
    /// (which deletes them with it).
    #[command(name = "site:delete")]
    SiteRemove {
        #[command(flatten)]
        dir: DataDirArg,
        /// The site (name or UUID).
        site: String,
        /// Delete its secrets and bindings too.
        #[arg(long)]
        force: bool,
    },
    /// Deletes an organization; refused while it owns sites or has secrets, unless --force
    /// (its secrets are deleted, its sites lose their owner and keep their own secrets).
    #[command(name = "org:delete")]
    OrgRemove {
        #[command(flatten)]
        dir: DataDirArg,
        /// The organization (name or UUID).
        org: String,
        /// Delete its secrets and detach its sites.
        #[arg(long)]
        force: bool,
    },
    /// Reissues the server certificate (server.pem, server.key) under the same CA, for
    /// localhost, 127.0.0.1, ::1 and the names given (default: the names recorded at the last
    /// issue). A running `serve` loads it on SIGHUP.
    #[command(name = "cert:renew")]
    CertRenew {
        #[command(flatten)]
        dir: DataDirArg,
        /// A name (DNS name or IP address) for the certificate; replaces the recorded names.
        #[arg(long = "hostname")]
        hostnames: Vec<String>,
        /// Days of validity.
        #[arg(long, default_value_t = pki::SERVER_CERT_DAYS, value_parser = clap::value_parser!(i64).range(1..=825))]
        days: i64,
    },
    /// Sets a site secret, or its value in one environment (`site.env`).
    #[command(name = "secret:site:set", visible_aliases = ["secret:set", "secret-set"])]
    SiteSet {
        #[command(flatten)]
        api: ApiArgs,
        /// `site` or `site.env`.
        site_env: String,
        #[command(flatten)]
        secret: SecretArgs,
    },
    /// Lists a site's secrets (values for one environment with `site.env`).
    #[command(name = "secret:site:list", visible_aliases = ["secrets", "secret:list"])]
    SiteList {
        #[command(flatten)]
        api: ApiArgs,
        /// `site` or `site.env`.
        site_env: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Deletes a site secret, or only its value in one environment (`site.env`).
    #[command(name = "secret:site:delete", visible_aliases = ["secret:delete", "secret-delete"])]
    SiteDelete {
        #[command(flatten)]
        api: ApiArgs,
        /// `site` or `site.env`.
        site_env: String,
        /// The secret's name.
        name: String,
    },
    /// Writes the site's secrets document for local development (values with the user scope).
    #[command(name = "secret:site:local-generate", visible_aliases = ["secret:local-generate"])]
    LocalGenerate {
        #[command(flatten)]
        api: ApiArgs,
        /// The site.
        site: String,
        /// Where to write the JSON document (mode 0600).
        #[arg(long, default_value = "./secrets.json")]
        filepath: PathBuf,
    },
    /// Integrated Composer: prints COMPOSER_AUTH (or writes auth.json, or export lines) from the
    /// ic secrets a build certificate reads.
    #[command(name = "ic:composer-auth")]
    ComposerAuth(crate::build::ComposerAuthArgs),
    /// Sets an organization secret, or its value in one environment (--env).
    #[command(name = "secret:org:set", visible_aliases = ["secret-org-set"])]
    OrgSet {
        #[command(flatten)]
        api: ApiArgs,
        /// The organization.
        org: String,
        #[command(flatten)]
        secret: SecretArgs,
        /// The environment whose value to set.
        #[arg(long)]
        env: Option<String>,
    },
    /// Lists an organization's secrets.
    #[command(name = "secret:org:list", visible_aliases = ["secret-org-list"])]
    OrgList {
        #[command(flatten)]
        api: ApiArgs,
        /// The organization.
        org: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Deletes an organization secret, or only its value in one environment (--env).
    #[command(name = "secret:org:delete", visible_aliases = ["secret-org-delete"])]
    OrgDelete {
        #[command(flatten)]
        api: ApiArgs,
        /// The organization.
        org: String,
        /// The secret's name.
        name: String,
        /// The environment whose value to delete.
        #[arg(long)]
        env: Option<String>,
    },
}

/// Why a command failed; shown as `[error] <message>`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Wrong usage.
    #[error("{0}")]
    Usage(String),
    /// The store.
    #[error("{}", store_message(.0))]
    Store(#[from] store::StoreError),
    /// Certificates.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    /// The service.
    #[error("{}", match .0 { server::ServeError::Store(e) => store_message(e), e => e.to_string() })]
    Serve(#[from] server::ServeError),
    /// The management API.
    #[error(transparent)]
    Client(#[from] client::ClientError),
    /// A file.
    #[error("{0}")]
    Io(String),
}

/// A store error as the operator reads it: the store says what is wrong, the CLI what to run
/// about it (the store knows no commands).
fn store_message(e: &store::StoreError) -> String {
    use store::StoreError::{Conflict, Invalid, NotFound};
    let next = match e {
        NotFound { code: "not_initialized", .. } => "run `pantheon-secrets init` first",
        NotFound { code: "backup_record_not_found", .. } => "`backup:list` shows the recorded backups",
        Invalid { code: "invalid_token_id", .. } => "`token:list` shows the ids",
        Conflict { code: "key_in_use", .. } => "run `key:rotate` first",
        Conflict { code: "key_needed_by_backup", .. } => {
            "keep the key, or run `backup:forget ID` once that backup is destroyed"
        }
        Conflict { code: "site_in_use", .. } => {
            "delete or revoke them first, or pass --force to delete them with the site"
        }
        Conflict { code: "org_in_use", .. } => {
            "delete them first, or pass --force (its secrets are deleted, its sites keep theirs and lose \
             their owner)"
        }
        e => return e.to_string(),
    };
    format!("{e}: {next}")
}

/// Where `serve` listens unless told otherwise.
const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8443));

/// Parses a positive number of seconds (fractions allowed: `0.5`).
fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(server::config::seconds)
        .ok_or_else(|| format!("expected a number of seconds above 0 and at most 86400, got '{text}'"))
}

/// Parses a rate per second: a finite number, 0 or more.
fn parse_rate(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .and_then(server::config::rate)
        .ok_or_else(|| format!("expected a number of 0 or more per second, got '{text}'"))
}

/// Splits `site.env` (the environment is required).
pub fn split_site_env(text: &str) -> Result<(String, String), CliError> {
    match text.split_once('.') {
        Some((site, env)) if !site.is_empty() && !env.is_empty() => Ok((site.to_string(), env.to_string())),
        _ => Err(CliError::Usage(format!("expected SITE.ENV (for example my-site.dev), got '{text}'"))),
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Init { dir, hostnames, database } => {
            init(&DataDir(dir.data_dir), &hostnames, &database.unwrap_or(store::Database::Sqlite))
        }
        Command::Serve {
            data_dir,
            config,
            database,
            listen,
            rate_limit,
            access_log,
            handshake_timeout,
            idle_timeout,
            request_timeout,
            max_connections,
            auth_failure_rate,
            auth_failure_burst,
            drain_timeout,
            log_format,
        } => {
            // Flags (and their environment variables) win over the file, the file over defaults.
            let file = server::config::Config::load(config.as_deref())
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let data_dir = data_dir.or(file.data_dir).ok_or_else(|| {
                CliError::Usage(
                    "no data directory: give --data-dir, PANTHEON_SECRETS_DATA_DIR or data_dir in the \
                     configuration file"
                        .into(),
                )
            })?;
            let defaults = ServeOptions::default();
            let opts = ServeOptions {
                rate_limit: rate_limit.or(file.rate_limit).unwrap_or(defaults.rate_limit),
                access_log: access_log.or(file.access_log),
                handshake_timeout: handshake_timeout
                    .or(file.handshake_timeout)
                    .unwrap_or(defaults.handshake_timeout),
                idle_timeout: idle_timeout.or(file.idle_timeout).unwrap_or(defaults.idle_timeout),
                request_timeout: request_timeout.or(file.request_timeout).unwrap_or(defaults.request_timeout),
                max_connections: max_connections.or(file.max_connections).map(|n| n as usize),
                auth_failure_rate: auth_failure_rate
                    .or(file.auth_failure_rate)
                    .unwrap_or(defaults.auth_failure_rate),
                auth_failure_burst: auth_failure_burst
                    .or(file.auth_failure_burst)
                    .unwrap_or(defaults.auth_failure_burst),
                drain_timeout: drain_timeout.or(file.drain_timeout).unwrap_or(defaults.drain_timeout),
                database: database.or(file.database),
            };
            let listen = listen.or(file.listen).unwrap_or(DEFAULT_LISTEN);
            server::logging::init(log_format.or(file.log_format).unwrap_or_default());
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                // Store calls are bounded by the server; this bounds every other blocking task.
                .max_blocking_threads(32)
                .build()
                .map_err(|e| CliError::Io(format!("tokio runtime: {e}")))?;
            let writer = runtime.block_on(server::serve(DataDir(data_dir), listen, opts))?;
            // Dropping the open connections drops the last audit sinks; then the queue drains.
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            writer.finish();
            Ok(())
        }
        Command::OrgCreate { dir, org, uuid } => {
            let store = Store::open(&DataDir(dir.data_dir))?;
            let created = store.create_org_with(&org, uuid.as_deref())?;
            operator_audit(
                &store,
                "org.create",
                Some(format!("org:{org}")),
                None,
                Some(created.uuid.clone()),
            );
            eprintln!("[success] Organization '{org}' created (UUID {}).", created.uuid);
            println!("{}", created.uuid);
            Ok(())
        }
        Command::OrgListAll { dir, format } => {
            let store = Store::open(&DataDir(dir.data_dir))?;
            let orgs = store.orgs()?;
            operator_audit(&store, "org.list", None, None, Some(format!("{} organizations", orgs.len())));
            if format == "json" {
                let rows: Vec<serde_json::Value> =
                    orgs.iter().map(|o| serde_json::json!({"name": o.name, "uuid": o.uuid})).collect();
                println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
            } else {
                check_table_format(&format)?;
                let rows: Vec<Vec<String>> = orgs.into_iter().map(|o| vec![o.name, o.uuid]).collect();
                print!("{}", client::table(&["Name", "ID"], &rows));
            }
            Ok(())
        }
        Command::SiteCreate { dir, site, org, supporting_orgs, uuid } => {
            let store = Store::open(&DataDir(dir.data_dir))?;
            let created = store.create_site_with(&site, org.as_deref(), &supporting_orgs, uuid.as_deref())?;
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
        Command::SiteListAll { dir, format } => {
            let store = Store::open(&DataDir(dir.data_dir))?;
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
                check_table_format(&format)?;
                let rows: Vec<Vec<String>> = sites
                    .into_iter()
                    .map(|s| vec![s.name, s.uuid, s.org.unwrap_or_default(), s.supporting.join(", ")])
                    .collect();
                print!("{}", client::table(&["Name", "ID", "Owner organization", "Supporting"], &rows));
            }
            Ok(())
        }
        Command::TokenCreate { dir, user, orgs, sites, admin, expires } => {
            let store = Store::open(&DataDir(dir.data_dir))?;
            let token = store.create_token_expiring(&user, admin, &orgs, &sites, expires.as_deref())?;
            operator_audit(
                &store,
                "token.create",
                Some(format!("user:{user}")),
                None,
                expires.as_ref().map(|e| format!("expires {e}")),
            );
            eprintln!("[notice] Token for '{user}' (shown once; keep it secret):");
            println!("{}", *zeroize::Zeroizing::new(token));
            Ok(())
        }
        Command::BindingIssue { dir, site_env, out, build, days } => {
            let (site, env) = split_site_env(&site_env)?;
            store::check_env(&env)?;
            if build && !store::build_env_allowed(&env) {
                return Err(CliError::Usage(
                    "build bindings exist only for dev and multidev environments".into(),
                ));
            }
            let dir = DataDir(dir.data_dir);
            let store = Store::open(&dir)?;
            // By name or UUID; the binding records the name.
            let site = store.site(&site)?.ok_or_else(|| store::site_not_found(&site))?.name;
            warn_expiring_bindings(&store, &site, &env, build)?;
            let issued = pki::issue_binding(&dir, &store, &site, &env, build, days)?;
            pki::write_binding(&out, &issued.pem)?;
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
        Command::BindingRevoke { dir, site_env, serial } => {
            let (site, env) = split_site_env(&site_env)?;
            let store = Store::open(&DataDir(dir.data_dir))?;
            let site = store.site(&site)?.map_or(site, |s| s.name);
            let revoked = store.revoke_bindings(&site, &env, serial.as_deref())?;
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
        Command::KeyRotate { dir } => {
            let store = Store::open(&DataDir(dir.data_dir))?;
            let (id, moved) = store.rotate_key()?;
            operator_audit(
                &store,
                "key.rotate",
                None,
                None,
                Some(format!("key {id}, {moved} values re-encrypted")),
            );
            eprintln!("[success] Master key {id} is current; {moved} values re-encrypted.");
            Ok(())
        }
        Command::Backup { dir, out } => crate::backup::backup(&DataDir(dir.data_dir), &out),
        Command::Restore { dir, from, key_file } => {
            crate::backup::restore(&from, &DataDir(dir.data_dir), key_file.as_deref())
        }
        Command::BackupList { dir, format } => {
            check_table_format(&format)?;
            crate::backup::list(&DataDir(dir.data_dir), &format)
        }
        Command::BackupForget { dir, id } => crate::backup::forget(&DataDir(dir.data_dir), id),
        Command::KeyPrune { dir, before } => crate::backup::prune(&DataDir(dir.data_dir), before),
        Command::AuditList { dir, limit, format, actor, action, target, since, until } => {
            check_table_format(&format)?;
            let store = Store::open(&DataDir(dir.data_dir))?;
            let filter = store::AuditFilter { actor, action, target, since, until };
            let events = store.audit_query(&filter, limit)?;
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
                print!(
                    "{}",
                    client::table(&["When", "Who", "Action", "Target", "Secret", "Env", "Detail"], &rows)
                );
            }
            Ok(())
        }
        Command::TokenList { dir, format } => token_list(&DataDir(dir.data_dir), &format),
        Command::TokenRevoke { dir, id, user } => {
            token_revoke(&DataDir(dir.data_dir), id.as_deref(), user.as_deref())
        }
        Command::BindingList { dir, site_env, format } => {
            binding_list(&DataDir(dir.data_dir), site_env.as_deref(), &format)
        }
        Command::SiteRemove { dir, site, force } => site_remove(&DataDir(dir.data_dir), &site, force),
        Command::OrgRemove { dir, org, force } => org_remove(&DataDir(dir.data_dir), &org, force),
        Command::CertRenew { dir, hostnames, days } => cert_renew(&DataDir(dir.data_dir), hostnames, days),
        Command::SiteSet { api, site_env, secret } => client::site_set(&api, &site_env, secret),
        Command::SiteList { api, site_env, list } => client::site_list(&api, &site_env, &list),
        Command::SiteDelete { api, site_env, name } => client::site_delete(&api, &site_env, &name),
        Command::LocalGenerate { api, site, filepath } => client::local_generate(&api, &site, &filepath),
        Command::ComposerAuth(args) => {
            crate::build::composer_auth(&args).map_err(|e| CliError::Io(e.to_string()))
        }
        Command::OrgSet { api, org, secret, env } => client::org_set(&api, &org, secret, env),
        Command::OrgList { api, org, list } => client::org_list(&api, &org, &list),
        Command::OrgDelete { api, org, name, env } => client::org_delete(&api, &org, &name, env),
    }
}

fn init(dir: &DataDir, hostnames: &[String], database: &store::Database) -> Result<(), CliError> {
    std::fs::create_dir_all(&dir.0).map_err(|e| CliError::Io(format!("{}: {e}", dir.0.display())))?;
    if dir.db().exists() || dir.master_key().exists() || dir.database_record().exists() {
        return Err(CliError::Usage(format!("{} is already initialized", dir.0.display())));
    }
    let store = Store::create_in(dir, database)?;
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

/// Parses `--database`.
fn parse_database(text: &str) -> Result<store::Database, String> {
    store::Database::parse(text).map_err(|e| e.to_string())
}

/// The operator lists know `table` and `json`; anything else is an error, not a table.
fn check_table_format(format: &str) -> Result<(), CliError> {
    match format {
        "table" | "json" => Ok(()),
        other => Err(CliError::Usage(format!("unknown format '{other}': formats are table and json"))),
    }
}

fn operator_audit(
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

// The operator commands of the data directory's accounts, bindings and certificate (#17 4).

/// Parses `--expires`: a duration from now (`90d`, `12h`, `30m`, `45s`) or an RFC 3339 time,
/// which must be in the future; gives the RFC 3339 time (UTC).
fn parse_expiry(text: &str) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::now_utc();
    let unit = |u: &str| match u {
        "d" => Some(86_400),
        "h" => Some(3_600),
        "m" => Some(60),
        "s" => Some(1),
        _ => None,
    };
    let at = match text.char_indices().last() {
        Some((i, _)) if unit(&text[i..]).is_some() && text[..i].parse::<u32>().is_ok_and(|n| n > 0) => {
            let n = i64::from(text[..i].parse::<u32>().unwrap_or(1));
            now + time::Duration::seconds(n.saturating_mul(unit(&text[i..]).unwrap_or(1)))
        }
        _ => time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            format!("expected a duration (90d, 12h, 30m, 45s) or an RFC 3339 time, got '{text}'")
        })?,
    };
    if at <= now {
        return Err(format!("'{text}' is not in the future"));
    }
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).map_err(|e| e.to_string())
}

/// Parses `--since`/`--until`: an RFC 3339 time, or a duration before now (`24h`, `7d`, `30m`,
/// `45s`); gives RFC 3339 (UTC).
fn parse_time_or_ago(text: &str) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    let seconds = |u: &str| match u {
        "d" => Some(86_400i64),
        "h" => Some(3_600),
        "m" => Some(60),
        "s" => Some(1),
        _ => None,
    };
    let at = match text.char_indices().last() {
        Some((i, _)) if i > 0 && seconds(&text[i..]).is_some() && text[..i].parse::<u32>().is_ok() => {
            let n = i64::from(text[..i].parse::<u32>().unwrap_or(0));
            time::OffsetDateTime::now_utc() - time::Duration::seconds(n * seconds(&text[i..]).unwrap_or(1))
        }
        _ => time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            format!("expected an RFC 3339 time or a duration ago (24h, 7d, 30m, 45s), got '{text}'")
        })?,
    };
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).map_err(|e| e.to_string())
}

/// Whole days from now until an RFC 3339 time (negative when past), if it parses.
fn days_until(rfc3339: &str) -> Option<i64> {
    let at = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()?;
    Some((at - time::OffsetDateTime::now_utc()).whole_days())
}

fn token_list(dir: &DataDir, format: &str) -> Result<(), CliError> {
    check_table_format(format)?;
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
    print!("{}", client::table(&["ID", "User", "Rights", "Created", "Expires"], &rows));
    Ok(())
}

fn token_revoke(dir: &DataDir, id: Option<&str>, user: Option<&str>) -> Result<(), CliError> {
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

fn binding_list(dir: &DataDir, site_env: Option<&str>, format: &str) -> Result<(), CliError> {
    check_table_format(format)?;
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
    print!("{}", client::table(&["Serial", "Site.env", "Kind", "Issued", "Expires", "State"], &rows));
    Ok(())
}

fn site_remove(dir: &DataDir, site: &str, force: bool) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let deleted = store.delete_site(site, force)?;
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

fn org_remove(dir: &DataDir, org: &str, force: bool) -> Result<(), CliError> {
    let store = Store::open(dir)?;
    let deleted = store.delete_org(org, force)?;
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

fn cert_renew(dir: &DataDir, hostnames: Vec<String>, days: i64) -> Result<(), CliError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_message_store_says_what_cli_says_what_to_run() {
        let in_use = store::StoreError::Conflict {
            code: "key_in_use",
            message: "master key 1 still seals 2 value(s)".into(),
        };
        assert_eq!(store_message(&in_use), "master key 1 still seals 2 value(s): run `key:rotate` first");
        let other =
            store::StoreError::Invalid { code: "invalid_env", message: "an environment is dev".into() };
        assert_eq!(store_message(&other), "an environment is dev");
    }
}
