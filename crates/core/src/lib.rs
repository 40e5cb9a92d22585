//! The rules of pantheon-secrets, without PHP.
//!
//! Data flows one way through these modules:
//! [`config`] → [`backend`] (fetch) → [`document`] (parse, validate) → [`resolve`] (per environment)
//! → [`snapshot`] (lookup table) → [`cache`] (per process, TTL, failures) → the PHP layer.
#![warn(missing_docs)]

pub mod backend;
pub mod cache;
pub mod composer;
pub mod config;
pub mod document;
pub mod model;
pub mod process;
pub mod reader;
pub mod resolve;
pub mod snapshot;
pub mod validate;

pub use cache::{Cache, Status};
pub use config::{BackendSpec, Config};
pub use document::{Document, DocumentError, Secret};
pub use model::{Scope, SecretType};
pub use snapshot::{Entry, Snapshot};
