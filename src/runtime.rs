//! Glue between PHP and the core cache: the cache this thread's settings select, warnings, and
//! the guard that keeps panics out of PHP.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use ext_php_rs::error::php_error;
use ext_php_rs::flags::ErrorType;
use secrets_runtime::config::BackendSpec;
use secrets_runtime::snapshot::zend_hash;
use secrets_runtime::{process, Cache};

use crate::hot::Hot;
use crate::{clock, ffi, ini};

/// Said once per process, by the first call of a CLI process that has no backend.
pub const CLI_UNCONFIGURED: &str = "no secrets backend is configured for the CLI: pantheon_secrets.backend \
is empty and CUSTOMER_SECRETS_FAKE_FILE is not set, so every secret reads as null. Give the CLI its \
settings in the php.ini of the CLI SAPI, with php -d, or with a file in PHP_INI_SCAN_DIR";
static CLI_WARNED: AtomicBool = AtomicBool::new(false);

/// The cache this thread's current settings select. Settings are checked once per request and
/// again after any change of a setting (at the start of a request, only the environment when no
/// setting changed since); the cache is one of the process's set (`process::cache_for`).
#[inline(always)]
pub fn cache() -> &'static Cache {
    // SAFETY: the borrow of the thread's state ends within this call, which runs no PHP code.
    let hot = unsafe { Hot::get() };
    let (generation, forks) = (ini::generation(), process::forks());
    match hot.chosen(generation, forks) {
        Some(cache) => cache,
        None => choose(hot, generation, forks),
    }
}

/// [`cache`], with the settings and the environment read again first (as at the start of a request).
pub fn cache_rechecked() -> &'static Cache {
    // SAFETY: as in `cache`.
    let hot = unsafe { Hot::get() };
    choose(hot, ini::generation(), process::forks())
}

#[cold]
#[inline(never)]
fn choose(hot: &mut Hot, generation: u64, forks: u64) -> &'static Cache {
    hot.set_request_time(clock::now_ms());
    if hot.still_chosen(generation, forks) {
        if let Some(cache) = hot.chosen(generation, forks) {
            return cache;
        }
    }
    let (mut settings, mut environment) = (Vec::new(), Vec::new());
    let read = ini::fingerprint(&mut settings, &mut environment);
    if !hot.settings_changed(generation, forks, &mut settings, &mut environment, read) {
        if let Some(cache) = hot.chosen(generation, forks) {
            return cache;
        }
    }
    let config = ini::config();
    if config.backend == BackendSpec::None
        && ffi::sapi_name() == "cli"
        && !process::mocked()
        && !CLI_WARNED.swap(true, Ordering::AcqRel)
    {
        hot.defer_warning(CLI_UNCONFIGURED.to_string());
    }
    hot.switch_to(process::cache_for(&config, zend_hash, Some(ffi::open_basedir_allows)), forks)
}

/// Makes sure what the cache holds is current (fetching if due) and warns once for a failed
/// attempt. Call with no lock held: a user error handler may call back into the extension.
pub fn ensure_fresh(cache: &Cache) {
    if let Some(warning) = cache.update(clock::now_ms()) {
        warn(&warning.to_string());
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
