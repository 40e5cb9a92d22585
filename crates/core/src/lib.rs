//! The rules of pantheon-secrets, without PHP and without I/O: the wire model and what is decided
//! about it, shared by the service and the extension's runtime (`secrets-runtime`).
//!
//! [`document`] (parse, validate, serialize) → [`resolve`] (per environment and scope) →
//! [`composer`] (a build's secrets as Composer's authentication); [`validate`] holds the limits.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod composer;
pub mod document;
pub mod model;
pub mod resolve;
pub mod validate;

pub use document::{Document, DocumentError, Secret};
pub use model::{Scope, SecretType};
pub use resolve::Entry;
