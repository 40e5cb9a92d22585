//! One cache per process, made lazily, made anew after a fork.
//!
//! PHP-FPM and Apache prefork fork their workers after module start-up. Whatever a parent made
//! (a cache, a backend, a connection, a runtime) is left alone in the child: the fork hook forgets
//! the parent's cache without dropping it, so no inherited lock, thread or socket is ever touched,
//! and the child's first call makes its own.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

use crate::backend::{self, PathCheck};
use crate::cache::Cache;
use crate::snapshot::NameHash;

static CACHE: AtomicPtr<Cache> = AtomicPtr::new(ptr::null_mut());
static FORK_HOOK: Once = Once::new();

/// This process's cache, made on first use with `hash` as its name hash and `check` as the rule
/// for the paths of file backends.
#[inline]
pub fn cache(hash: NameHash, check: Option<PathCheck>) -> &'static Cache {
    let current = CACHE.load(Ordering::Acquire);
    if current.is_null() {
        return make(hash, check);
    }
    // SAFETY: a non-null pointer in CACHE comes from Box::into_raw in `make` and is never freed:
    // the fork hook forgets it instead, so the reference lives as long as the process.
    unsafe { &*current }
}

#[cold]
fn make(hash: NameHash, check: Option<PathCheck>) -> &'static Cache {
    FORK_HOOK.call_once(|| {
        // SAFETY: `forget_after_fork` is a plain extern "C" fn that only stores to an atomic,
        // which is async-signal-safe and valid in the single-threaded child.
        unsafe {
            libc::pthread_atfork(None, None, Some(forget_after_fork));
        }
    });
    let opener = Box::new(move |config: &_| backend::open_checked(config, check));
    let fresh = Box::into_raw(Box::new(Cache::with_opener(hash, opener)));
    match CACHE.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: `fresh` was just published and is never freed (see `cache`).
        Ok(_) => unsafe { &*fresh },
        Err(winner) => {
            // SAFETY: `fresh` lost the race and was never shared, so this is its only owner;
            // `winner` is a published, never-freed cache.
            unsafe {
                drop(Box::from_raw(fresh));
                &*winner
            }
        }
    }
}

/// Runs in the child right after fork(): forget the parent's cache without dropping it.
extern "C" fn forget_after_fork() {
    CACHE.store(ptr::null_mut(), Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::zend_hash;

    #[test]
    fn cache_same_instance_within_a_process() {
        assert!(ptr::eq(cache(zend_hash, None), cache(zend_hash, None)));
    }

    #[test]
    fn cache_fork_child_gets_a_fresh_one() {
        let parent = cache(zend_hash, None) as *const Cache as usize;
        // SAFETY: the child only touches atomics and the allocator, then exits without unwinding.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let child = cache(zend_hash, None) as *const Cache as usize;
            let fresh = child != parent && cache(zend_hash, None).status(0).fetch_count == 0;
            unsafe { libc::_exit(if fresh { 0 } else { 1 }) };
        }
        let mut code = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut code, 0) };
        assert_eq!(code, 0, "the child must get its own cache");
        assert_eq!(cache(zend_hash, None) as *const Cache as usize, parent, "the parent keeps its cache");
    }
}
