//! Where a cache's documents come from: the backend its configuration names, or, while a test has
//! set one ([`crate::Cache::mock`]), an in-process document. The cache treats both alike: it asks
//! its source for a document and resolves it; only the source knows which it is.

use std::sync::Arc;

use secrets_core::document::{Document, DocumentError};

use super::policy::Policy;
use crate::backend::{Backend, FetchError};
use crate::config::{BackendSpec, Config};

/// Makes the backend for a configuration (see [`crate::backend::open`]).
pub type Opener = Box<dyn Fn(&Config) -> Result<Option<Box<dyn Backend>>, FetchError> + Send + Sync>;

/// Where documents come from.
#[derive(Clone, Default)]
pub enum Source {
    /// The backend the configuration names, under the configured failure policy.
    #[default]
    Backend,
    /// Secrets a test set in-process: served until unmocked, never expiring, never failing, no I/O.
    Mock(Arc<Document>),
}

/// A document a source gave.
pub struct Delivery {
    /// The document, parsed and validated.
    pub doc: Arc<Document>,
    /// The secrets left out for breaking a naming rule (the others are served).
    pub skipped: Vec<DocumentError>,
    /// The HTTP status of the answer, when the backend speaks HTTP.
    pub status: Option<u16>,
}

/// What one turn of a source gave.
pub enum Fetch {
    /// Nothing to fetch from: no backend is configured. No secrets, and nothing to warn about.
    Nothing,
    /// A document.
    Delivered(Delivery),
    /// A failed attempt.
    Failed(FetchError),
}

/// The backend of the configuration in use, made lazily (after any fork) and kept between fetches.
#[derive(Default)]
pub struct Opened {
    backend: Option<Box<dyn Backend>>,
    opened_for: Option<Arc<Config>>,
}

impl Source {
    /// The source's next document, for `config` (`None` before any configuration).
    pub fn fetch(&self, opened: &mut Opened, opener: &Opener, config: Option<&Arc<Config>>) -> Fetch {
        let config = match self {
            Source::Mock(doc) => {
                return Fetch::Delivered(Delivery { doc: doc.clone(), skipped: Vec::new(), status: None })
            }
            Source::Backend => match config.filter(|c| c.backend != BackendSpec::None) {
                Some(config) => config,
                None => return Fetch::Nothing,
            },
        };
        if opened.opened_for.as_ref() != Some(config) {
            opened.backend = None;
            opened.opened_for = Some(config.clone());
        }
        let fetched = match opened.backend.as_mut() {
            Some(backend) => backend.fetch(),
            None => opener(config).and_then(|backend| {
                opened.backend.insert(backend.ok_or_else(|| FetchError::revoked("no backend"))?).fetch()
            }),
        };
        let parsed = fetched.and_then(|fetched| {
            let (doc, skipped) = Document::parse_skipping_bad_names(&fetched.bytes)
                .map_err(|e| FetchError { status: fetched.status, ..FetchError::transient(e.to_string()) })?;
            Ok(Delivery { doc: Arc::new(doc), skipped, status: fetched.status })
        });
        match parsed {
            Ok(delivery) => Fetch::Delivered(delivery),
            Err(error) => Fetch::Failed(error),
        }
    }

    /// The policy documents of this source are served under (before any configuration, there is
    /// nothing to fetch again).
    pub fn policy(&self, config: Option<&Config>) -> Policy {
        match (self, config) {
            (Source::Backend, Some(c)) => {
                Policy { ttl: c.ttl, stale_limit: c.stale_limit, backoff_max: c.backoff_max }
            }
            (Source::Mock(_), _) | (Source::Backend, None) => Policy::FOREVER,
        }
    }

    /// Whether a turn is a fetch attempt, counted in the status.
    pub fn counts(&self) -> bool {
        matches!(self, Source::Backend)
    }

    /// How the source is named in messages and status: never a credential.
    pub fn describe(&self, config: Option<&Config>) -> String {
        match self {
            Source::Mock(_) => "mock".into(),
            Source::Backend => config.map_or("none".into(), |c| c.backend.describe()),
        }
    }
}
