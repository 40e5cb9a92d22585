//! Why a command failed, as `main` shows it: `[error] <message>`.

use crate::api_client::ClientError;
use crate::composer_auth::ComposerAuthError;
use crate::{pki, server, store};

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
    Client(#[from] ClientError),
    /// `ic:composer-auth`.
    #[error(transparent)]
    ComposerAuth(#[from] ComposerAuthError),
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
