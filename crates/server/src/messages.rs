//! What users read: the Terminus messages they know, in one place, so tests assert on these.

/// After a successful set.
pub const SECRET_SET: &str = "Secret successfully set.";
/// After a successful delete.
pub const SECRET_DELETED: &str = "Secret successfully deleted.";
/// How a value without the `user` scope is shown.
pub const REDACTED: &str = "[REDACTED]";

/// Setting type or scopes on an existing secret.
pub fn secret_exists(name: &str) -> String {
    format!("Secret '{name}' already exists. To update the value, omit type and scopes options.")
}

/// An environment override for a secret that has no default value yet.
pub fn secret_missing_default(name: &str) -> String {
    format!("Secret '{name}' does not exist. You should create the default secret value first.")
}

/// Deleting a secret that does not exist.
pub fn secret_missing(name: &str) -> String {
    format!("Secret '{name}' does not exist.")
}

/// After `local-generate`.
pub fn file_written(path: &str) -> String {
    format!("Secrets file written to: {path}")
}
