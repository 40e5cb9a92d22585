//! The extension's runtime, without PHP: what a PHP process does with the rules of `secrets-core`.
//!
//! Data flows one way through these modules:
//! [`config`] → [`backend`] (fetch) → `secrets_core::document` (parse, validate) →
//! `secrets_core::resolve` (per environment) → [`snapshot`] (lookup table) → [`cache`] (per
//! process, TTL, failures) → [`reader`] (per thread) → the PHP layer. [`process`] holds the caches
//! of one process and forgets them after a fork.
//!
//! The service uses the HTTPS client ([`backend::https`]) and the URL rule of
//! [`config::BackendSpec`] alone (for `ic:composer-auth`); nothing else of this crate is referenced
//! from it, so none of the cache, reader, snapshot or fork machinery is linked into it.
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod backend;
pub mod cache;
pub mod config;
pub mod process;
pub mod reader;
pub mod snapshot;

pub use cache::{Cache, Status};
pub use config::{BackendSpec, Config};
pub use snapshot::Snapshot;
