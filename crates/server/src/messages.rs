//! What users read: the Terminus messages they know, in one place, so tests assert on these.

/// After a successful set.
pub const SECRET_SET: &str = "Secret successfully set.";
/// After a successful delete.
pub const SECRET_DELETED: &str = "Secret successfully deleted.";
/// After deleting an environment's override, which succeeds whether or not there was one.
pub const OVERRIDE_DELETED: &str = "Secret environment override deleted if it existed.";
/// A list command's warning when there is nothing to list.
pub const NO_SECRETS: &str = "You have no Secrets.";
/// How a value without the `user` scope is shown.
pub const REDACTED: &str = "[REDACTED]";

/// Setting type or scopes on an existing secret.
pub fn secret_exists(name: &str) -> String {
    format!("Secret '{name}' already exists. To update the value, omit type and scopes options.")
}

/// The service's answer to a create (`POST …/secrets`) that names an existing secret: a 400
/// whose message contains "PATCH", which is what Terminus' secrets plugin looks for before it
/// re-sends the value as a `PATCH` (or, when type or scopes were given, shows [`secret_exists`]).
pub fn secret_exists_use_patch(name: &str) -> String {
    format!(
        "Secret '{name}' already exists: change its value with PATCH …/secrets/{name} \
         (type and scopes are fixed at creation)."
    )
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
    format!("Secrets file written to: {path}. Please review this file and adjust accordingly for your local usage.")
}
