//! Glue between PHP and the core cache: the configured cache of this process, warnings, and
//! the guard that keeps panics out of PHP.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ext_php_rs::error::php_error;
use ext_php_rs::flags::ErrorType;
use secrets_core::snapshot::zend_hash;
use secrets_core::{process, Cache};

use crate::{clock, ffi, ini};

/// This process's cache, configured from the current ini settings.
#[inline(always)]
pub fn cache() -> &'static Cache {
    let cache = process::cache(zend_hash, Some(ffi::open_basedir_allows));
    let generation = ini::generation();
    if !cache.configured(generation) {
        configure(cache, generation);
    }
    cache
}

#[cold]
#[inline(never)]
fn configure(cache: &Cache, generation: u64) {
    cache.configure(generation, ini::config());
}

/// Makes sure what the cache holds is current (fetching if due) and warns once for a failed
/// attempt. Call with no lock held: a user error handler may call back into the extension.
pub fn ensure_fresh(cache: &Cache) {
    if let Some(warning) = cache.update(clock::now_ms()) {
        warn(&warning);
    }
}

/// Raises an `E_WARNING`; PHP prefixes it with the name of the calling function.
pub fn warn(message: &str) {
    php_error(&ErrorType::Warning, message);
}

/// Runs `f`, turning a panic into a warning and `fallback`: a panic must never unwind into PHP.
pub fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(_) => {
            warn("pantheon_secrets: internal error; no secrets returned");
            fallback
        }
    }
}
