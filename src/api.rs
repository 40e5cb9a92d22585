//! The `Pantheon\Secrets\` functions (ARCHITECTURE §4.2): everything but the hit path.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use crate::{clock, runtime};

/// Registers the functions of this file.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.function(wrap_function!(all)).function(wrap_function!(refresh)).function(wrap_function!(status))
}

/// All web secrets readable in this environment, name => value.
#[php_function]
#[php(name = "Pantheon\\Secrets\\all")]
pub fn all() -> ZBox<ZendHashTable> {
    runtime::guard(ZendHashTable::new(), || {
        let cache = runtime::cache();
        runtime::ensure_fresh(cache);
        cache.held(|snapshot| {
            let mut table = ZendHashTable::with_capacity(snapshot.map_or(0, |s| s.len()) as u32);
            for entry in snapshot.into_iter().flat_map(|s| s.entries()) {
                let _ = table.insert(entry.name, entry.value);
            }
            table
        })
    })
}

/// Reads the settings and the environment again and fetches now, whatever the TTL: true when the
/// fetch succeeded (else a warning and false).
#[php_function]
#[php(name = "Pantheon\\Secrets\\refresh")]
pub fn refresh() -> bool {
    runtime::guard(false, || {
        let cache = runtime::cache_rechecked();
        match cache.refresh(clock::now_ms()) {
            Ok(()) => true,
            Err(warning) => {
                runtime::warn(&warning.to_string());
                false
            }
        }
    })
}

/// The state of this process's cache; never a value.
#[php_function]
#[php(name = "Pantheon\\Secrets\\status")]
pub fn status() -> ZBox<ZendHashTable> {
    runtime::guard(ZendHashTable::new(), || {
        let s = runtime::cache().status(clock::now_ms());
        let mut t = ZendHashTable::new();
        let _ = t.insert("backend", s.backend);
        let _ = t.insert("environment", s.environment);
        let _ = t.insert("pid", i64::from(s.pid));
        let _ = t.insert("fetch_count", s.fetch_count as i64);
        let _ = t.insert("fetched_at", s.fetched_at);
        let _ = t.insert("age", s.age);
        let _ = t.insert("count", s.count as i64);
        let _ = t.insert("ttl", s.ttl as i64);
        let _ = t.insert("stale", s.stale);
        let _ = t.insert("failures", i64::from(s.failures));
        let _ = t.insert("retry_in", s.retry_in);
        let _ = t.insert("last_status", s.last_status.map(i64::from));
        let _ = t.insert("last_error", s.last_error);
        t
    })
}
