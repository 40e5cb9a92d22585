//! The caches of one process: one per configuration in use, a small bounded set, made lazily and
//! made anew after a fork (ARCHITECTURE §6).
//!
//! Settings are read per request from PHP's own (per-thread) ini values and environment, so two
//! virtual hosts or pools served by one process, or two threads of a ZTS server, may ask for
//! different configurations. Each distinct [`Config`] gets its own [`Cache`]: a document fetched
//! with one site's identity is never served under another's settings, and switching back and forth
//! does not refetch. At most [`MAX_CACHES`] are kept; the one used longest ago makes room (its
//! values are freed once no thread holds it).
//!
//! PHP-FPM and Apache prefork fork their workers after module start-up. Whatever a parent made
//! (a cache, a backend, a connection) is left alone in the child: the fork hook forgets the
//! parent's caches without dropping them, so no inherited lock, thread or socket is ever touched,
//! and the child's first call makes its own. [`forks`] tells a thread that holds a cache from
//! before a fork to forget it too.

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Once};

use parking_lot::Mutex;

use crate::backend::{self, PathCheck};
use crate::cache::Cache;
use crate::config::Config;
use crate::snapshot::NameHash;
use secrets_core::document::Document;

/// How many configurations one process keeps documents for.
pub const MAX_CACHES: usize = 16;

static REGISTRY: AtomicPtr<Registry> = AtomicPtr::new(ptr::null_mut());
static FORKS: AtomicU64 = AtomicU64::new(0);
static FORK_HOOK: Once = Once::new();

struct Registry {
    slots: Mutex<Vec<Slot>>,
    /// Secrets a test set with `mock`: every cache of the process serves them, each resolved for
    /// its own environment, until `unmock`.
    mock: Mutex<Option<Document>>,
}

struct Slot {
    config: Config,
    cache: Arc<Cache>,
    used: u64,
}

/// The cache of this process for `config` (made on first use, with `hash` as its name hash and
/// `check` as the rule for the paths of file backends).
pub fn cache_for(config: &Config, hash: NameHash, check: Option<PathCheck>) -> Arc<Cache> {
    let mut slots = registry().slots.lock();
    let tick = slots.iter().map(|s| s.used).max().unwrap_or(0) + 1;
    if let Some(slot) = slots.iter_mut().find(|s| s.config == *config) {
        slot.used = tick;
        return slot.cache.clone();
    }
    if slots.len() >= MAX_CACHES {
        if let Some(oldest) = (0..slots.len()).min_by_key(|&i| slots[i].used) {
            slots.swap_remove(oldest);
        }
    }
    let opener = Box::new(move |config: &_| backend::open_checked(config, check));
    let cache = Arc::new(Cache::with_opener(hash, opener));
    cache.configure(0, config.clone());
    if let Some(doc) = registry().mock.lock().clone() {
        cache.mock(doc);
    }
    slots.push(Slot { config: config.clone(), cache: cache.clone(), used: tick });
    cache
}

/// Serves `doc` instead of the backends' secrets, from every cache of the process (each resolves it
/// for its own environment), until [`unmock`]; see [`Cache::mock`].
pub fn mock(doc: Document) {
    let registry = registry();
    let slots = registry.slots.lock();
    for slot in slots.iter() {
        slot.cache.mock(doc.clone());
    }
    *registry.mock.lock() = Some(doc);
}

/// Serves the backends' secrets again.
pub fn unmock() {
    let registry = registry();
    let slots = registry.slots.lock();
    for slot in slots.iter() {
        slot.cache.unmock();
    }
    *registry.mock.lock() = None;
}

/// Whether [`mock`] is in force.
pub fn mocked() -> bool {
    registry().mock.lock().is_some()
}

/// How many caches this process holds now.
pub fn cache_count() -> usize {
    registry().slots.lock().len()
}

/// Counts the forks this process descends from: a thread whose cache was chosen under another
/// count holds its parent's cache and must forget it (never drop it) and choose again.
#[inline]
pub fn forks() -> u64 {
    FORKS.load(Ordering::Acquire)
}

fn registry() -> &'static Registry {
    let current = REGISTRY.load(Ordering::Acquire);
    if current.is_null() {
        return make();
    }
    // SAFETY: a non-null pointer in REGISTRY comes from Box::into_raw in `make` and is never
    // freed: the fork hook forgets it instead, so the reference lives as long as the process.
    unsafe { &*current }
}

#[cold]
fn make() -> &'static Registry {
    FORK_HOOK.call_once(|| {
        // SAFETY: `forget_after_fork` is a plain extern "C" fn that only stores to atomics,
        // which is async-signal-safe and valid in the single-threaded child.
        unsafe {
            libc::pthread_atfork(None, None, Some(forget_after_fork));
        }
    });
    let fresh = Box::into_raw(Box::new(Registry { slots: Mutex::new(Vec::new()), mock: Mutex::new(None) }));
    match REGISTRY.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: `fresh` was just published and is never freed (see `registry`).
        Ok(_) => unsafe { &*fresh },
        Err(winner) => {
            // SAFETY: `fresh` lost the race and was never shared, so this is its only owner;
            // `winner` is a published, never-freed registry.
            unsafe {
                drop(Box::from_raw(fresh));
                &*winner
            }
        }
    }
}

/// Runs in the child right after fork(): forget the parent's caches without dropping them (a
/// parent thread may have held the registry's lock, or a cache's, at the moment of the fork).
extern "C" fn forget_after_fork() {
    REGISTRY.store(ptr::null_mut(), Ordering::Release);
    FORKS.fetch_add(1, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ini;
    use crate::reader::Reader;
    use crate::snapshot::zend_hash;

    /// The registry is one per process: tests that count or evict take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn config(backend: &str, environment: &str) -> Config {
        Config::read(
            |n| match n {
                ini::BACKEND => Some(backend.to_string()),
                ini::ENVIRONMENT => Some(environment.to_string()),
                _ => None,
            },
            |_| None,
        )
    }

    fn document(tag: &str, value: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("secrets-core-process-{tag}-{}.json", std::process::id()));
        let doc = format!(
            r#"{{"Secrets": {{"A": {{"Value": "{value}", "Scopes": ["web"], "EnvValues": {{"live": "{value}-live"}}}}}}}}"#
        );
        std::fs::write(&path, doc).unwrap();
        path
    }

    #[test]
    fn cache_for_same_config_same_cache() {
        let _turn = SERIAL.lock();
        let a = config("file:///process-same.json", "dev");
        assert!(Arc::ptr_eq(&cache_for(&a, zend_hash, None), &cache_for(&a.clone(), zend_hash, None)));
        let live = config("file:///process-same.json", "live");
        assert!(!Arc::ptr_eq(&cache_for(&a, zend_hash, None), &cache_for(&live, zend_hash, None)));
    }

    #[test]
    fn cache_for_bounded_oldest_makes_room() {
        let _turn = SERIAL.lock();
        let first = config("file:///process-bounded-0.json", "dev");
        let kept = cache_for(&first, zend_hash, None);
        for i in 1..=MAX_CACHES {
            cache_for(&config(&format!("file:///process-bounded-{i}.json"), "dev"), zend_hash, None);
        }
        assert!(cache_count() <= MAX_CACHES);
        assert!(!Arc::ptr_eq(&kept, &cache_for(&first, zend_hash, None)), "the oldest was evicted");
    }

    /// Many threads, two configurations interleaved in each thread (as two vhosts served by one
    /// ZTS process), one thread refreshing all the while: every answer belongs to the
    /// configuration asked with, and each configuration is fetched once per refresh, not once per
    /// switch.
    #[test]
    fn cache_for_threads_interleaving_two_configs_never_mix() {
        let _turn = SERIAL.lock();
        let (a_path, b_path) = (document("a", "site-a"), document("b", "site-b"));
        let a = config(&format!("file://{}", a_path.display()), "dev");
        let b = config(&format!("file://{}", b_path.display()), "live");
        let refresher = {
            let a = a.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    cache_for(&a, zend_hash, None).refresh(1).unwrap();
                }
            })
        };
        let readers: Vec<_> = (0..8)
            .map(|t| {
                let (a, b) = (a.clone(), b.clone());
                std::thread::spawn(move || {
                    let (mut ra, mut rb) = (Reader::default(), Reader::default());
                    (0..5_000u64).all(|i| {
                        let (config, reader, want) = if (i + t) % 2 == 0 {
                            (&a, &mut ra, "site-a")
                        } else {
                            (&b, &mut rb, "site-b-live")
                        };
                        let cache = cache_for(config, zend_hash, None);
                        if !reader.is_current(&cache, 10) {
                            reader.catch_up(&cache, 10);
                        }
                        reader.snapshot().and_then(|s| s.get("A")).is_some_and(|e| e.value == want)
                    })
                })
            })
            .collect();
        for r in readers {
            assert!(r.join().unwrap(), "every answer belongs to the configuration it was asked with");
        }
        refresher.join().unwrap();
        assert_eq!(
            cache_for(&b, zend_hash, None).status(10).fetch_count,
            1,
            "b was fetched once for all switches"
        );
        std::fs::remove_file(&a_path).unwrap();
        std::fs::remove_file(&b_path).unwrap();
    }

    #[test]
    fn cache_for_fork_child_gets_fresh_ones() {
        let _turn = SERIAL.lock();
        let a = config("file:///process-fork.json", "dev");
        let parent = Arc::as_ptr(&cache_for(&a, zend_hash, None)) as usize;
        let forks_before = forks();
        // SAFETY: the child only touches atomics, a fresh mutex and the allocator, then exits
        // without unwinding.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let child = cache_for(&a, zend_hash, None);
            let fresh = Arc::as_ptr(&child) as usize != parent
                && child.status(0).fetch_count == 0
                && forks() == forks_before + 1;
            std::mem::forget(child);
            // SAFETY: leaving the forked test process at once, as it must.
            unsafe { libc::_exit(if fresh { 0 } else { 1 }) };
        }
        let mut code = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut code, 0) };
        assert_eq!(code, 0, "the child must get its own caches");
        assert_eq!(
            Arc::as_ptr(&cache_for(&a, zend_hash, None)) as usize,
            parent,
            "the parent keeps its cache"
        );
        assert_eq!(forks(), forks_before);
    }
}
