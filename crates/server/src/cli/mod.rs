//! The command line: the clap definitions of every command, and [`run`], which hands each to
//! the module that does it — [`ops`] (operator commands on the data directory), [`backup`]
//! (backup, restore and key pruning), [`terminus`] (Terminus commands over the management API),
//! [`crate::composer_auth`] (`ic:composer-auth`). [`render`] is what they print.

pub mod backup;
mod error;
pub mod ops;
pub mod render;
pub mod terminus;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use error::CliError;

use crate::api_client::ApiClient;
use crate::pki;
use crate::sensitive::Sensitive;
use crate::server::{self, ServeOptions};
use crate::store::{self, DataDir};

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
    ComposerAuth(crate::composer_auth::ComposerAuthArgs),
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

/// How to reach the management API.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The service, e.g. `https://127.0.0.1:8443`.
    #[arg(long, env = "PANTHEON_SECRETS_URL")]
    pub url: String,
    /// A bearer token (`token:create`).
    #[arg(long, env = "PANTHEON_SECRETS_TOKEN", hide_env_values = true)]
    pub token: Sensitive,
    /// A CA certificate to trust (the service's `ca.pem`) besides the system roots.
    #[arg(long, env = "PANTHEON_SECRETS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

impl ApiArgs {
    fn client(&self) -> Result<ApiClient, CliError> {
        Ok(ApiClient::new(&self.url, self.token.clone(), self.ca_file.as_deref())?)
    }
}

/// The secret a `set` command names, and what to set it to.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// The secret's name.
    pub name: String,
    /// The value; when omitted, standard input is read as it is (a final newline included).
    pub value: Option<Sensitive>,
    /// `runtime`, `env`, `composer`, `file` or `vcs` (new secrets only; default runtime).
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Comma-separated `web`, `ic`, `user` (new secrets only; default user).
    #[arg(long = "scope")]
    pub scope: Option<String>,
}

impl From<SecretArgs> for terminus::NewValue {
    fn from(a: SecretArgs) -> Self {
        terminus::NewValue { name: a.name, value: a.value, kind: a.kind, scope: a.scope }
    }
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

impl ListArgs {
    fn options(&self) -> render::ListOptions<'_> {
        render::ListOptions {
            fields: self.fields.as_deref(),
            field: self.field.as_deref(),
            format: &self.format,
        }
    }
}

/// Parses `--database`.
fn parse_database(text: &str) -> Result<store::Database, String> {
    store::Database::parse(text).map_err(|e| e.to_string())
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

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let dir = |arg: DataDirArg| DataDir(arg.data_dir);
    match cli.command {
        Command::Init { dir: d, hostnames, database } => {
            ops::init(&dir(d), &hostnames, &database.unwrap_or(store::Database::Sqlite))
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
            let log_format = log_format.or(file.log_format).unwrap_or_default();
            ops::serve(DataDir(data_dir), listen, opts, log_format)
        }
        Command::OrgCreate { dir: d, org, uuid } => ops::org_create(&dir(d), &org, uuid.as_deref()),
        Command::OrgListAll { dir: d, format } => ops::org_list(&dir(d), &format),
        Command::SiteCreate { dir: d, site, org, supporting_orgs, uuid } => {
            ops::site_create(&dir(d), &site, org.as_deref(), &supporting_orgs, uuid.as_deref())
        }
        Command::SiteListAll { dir: d, format } => ops::site_list(&dir(d), &format),
        Command::TokenCreate { dir: d, user, orgs, sites, admin, expires } => {
            let grants = ops::Grants { orgs: &orgs, sites: &sites, admin, expires: expires.as_deref() };
            ops::token_create(&dir(d), &user, grants)
        }
        Command::BindingIssue { dir: d, site_env, out, build, days } => {
            ops::binding_issue(&dir(d), &site_env, &out, build, days)
        }
        Command::BindingRevoke { dir: d, site_env, serial } => {
            ops::binding_revoke(&dir(d), &site_env, serial.as_deref())
        }
        Command::KeyRotate { dir: d } => ops::key_rotate(&dir(d)),
        Command::Backup { dir: d, out } => backup::backup(&dir(d), &out),
        Command::Restore { dir: d, from, key_file } => backup::restore(&from, &dir(d), key_file.as_deref()),
        Command::BackupList { dir: d, format } => {
            render::check_table_format(&format)?;
            backup::list(&dir(d), &format)
        }
        Command::BackupForget { dir: d, id } => backup::forget(&dir(d), id),
        Command::KeyPrune { dir: d, before } => backup::prune(&dir(d), before),
        Command::AuditList { dir: d, limit, format, actor, action, target, since, until } => {
            let filter = store::AuditFilter { actor, action, target, since, until };
            ops::audit_list(&dir(d), &filter, limit, &format)
        }
        Command::TokenList { dir: d, format } => ops::token_list(&dir(d), &format),
        Command::TokenRevoke { dir: d, id, user } => {
            ops::token_revoke(&dir(d), id.as_deref(), user.as_deref())
        }
        Command::BindingList { dir: d, site_env, format } => {
            ops::binding_list(&dir(d), site_env.as_deref(), &format)
        }
        Command::SiteRemove { dir: d, site, force } => ops::site_remove(&dir(d), &site, force),
        Command::OrgRemove { dir: d, org, force } => ops::org_remove(&dir(d), &org, force),
        Command::CertRenew { dir: d, hostnames, days } => ops::cert_renew(&dir(d), hostnames, days),
        Command::SiteSet { api, site_env, secret } => {
            terminus::site_set(&api.client()?, &site_env, secret.into())
        }
        Command::SiteList { api, site_env, list } => {
            terminus::site_list(&api.client()?, &site_env, &list.options())
        }
        Command::SiteDelete { api, site_env, name } => {
            terminus::site_delete(&api.client()?, &site_env, &name)
        }
        Command::LocalGenerate { api, site, filepath } => {
            terminus::local_generate(&api.client()?, &site, &filepath)
        }
        Command::ComposerAuth(args) => Ok(crate::composer_auth::composer_auth(&args)?),
        Command::OrgSet { api, org, secret, env } => {
            terminus::org_set(&api.client()?, &org, secret.into(), env)
        }
        Command::OrgList { api, org, list } => terminus::org_list(&api.client()?, &org, &list.options()),
        Command::OrgDelete { api, org, name, env } => terminus::org_delete(&api.client()?, &org, &name, env),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command line that carries a value or a token, formatted with `{:?}`, shows neither.
    #[test]
    fn debug_command_lines_never_show_a_value_or_token() {
        const CANARY: &str = "canary-0b94f7";
        let (value, token) = (format!("{CANARY}-value"), format!("{CANARY}-token"));
        let api = ["--url", "https://127.0.0.1:8443", "--token", token.as_str()];
        let lines: Vec<Vec<&str>> = vec![
            vec!["secret:site:set", "s1.live", "K", &value],
            vec!["secret:org:set", "acme", "K", &value, "--env", "live"],
            vec!["secret:site:list", "s1"],
            vec!["secret:site:delete", "s1", "K"],
            vec!["secret:site:local-generate", "s1"],
            vec!["secret:org:list", "acme"],
            vec!["secret:org:delete", "acme", "K"],
        ];
        for line in lines {
            let args = std::iter::once("pantheon-secrets").chain(line.iter().copied()).chain(api);
            let cli = Cli::try_parse_from(args).unwrap();
            for shown in [format!("{cli:?}"), format!("{cli:#?}")] {
                assert!(!shown.contains(CANARY), "a secret in {shown}");
                assert!(shown.contains("[REDACTED]"), "{shown}");
            }
            // Not vacuous: the value and the token are there, behind `expose`.
            match cli.command {
                Command::SiteSet { api, secret, .. } | Command::OrgSet { api, secret, .. } => {
                    assert_eq!(secret.value.as_ref().map(Sensitive::expose), Some(value.as_str()));
                    assert_eq!(api.token.expose(), token);
                }
                Command::SiteList { api, .. }
                | Command::SiteDelete { api, .. }
                | Command::LocalGenerate { api, .. }
                | Command::OrgList { api, .. }
                | Command::OrgDelete { api, .. } => assert_eq!(api.token.expose(), token),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
