//! pantheon-secrets, the service: stores secrets encrypted at rest, owned by organizations and
//! sites with environment overrides, serves each PHP worker only its site's secrets for its
//! environment over mutual TLS, and is managed with Terminus-style commands (ARCHITECTURE §7).
//!
//! [`store`] (SQLite, [`crypto`]) ← [`server`] (HTTPS: management and runtime APIs, [`pki`]) ←
//! [`cli`] (operator commands on the data directory, Terminus commands over the API via
//! [`api_client`], [`composer_auth`]). [`api_paths`] is shared by [`server`] and [`api_client`];
//! no module imports one that imports it.
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod api_client;
pub mod api_paths;
pub mod cli;
pub mod composer_auth;
pub mod crypto;
pub mod messages;
pub mod pki;
pub mod private_file;
pub mod sensitive;
pub mod server;
pub mod store;
#[doc(hidden)]
pub mod test_postgres;
