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
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Certificates.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    /// The service.
    #[error(transparent)]
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
