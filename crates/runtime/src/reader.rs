//! A thread's own copy of what the cache serves, so that the hit path takes no lock and makes
//! no atomic read-modify-write: it compares three integers and looks the name up.
//!
//! The copy holds an `Arc` of the snapshot, so a refresh in another thread never frees values a
//! reader is using; the copy notices the refresh through the cache's publication counter.

use std::sync::Arc;

use crate::cache::{Cache, Warning};
use crate::snapshot::Snapshot;

/// One thread's copy (PHP module globals hold one per thread).
#[derive(Default)]
pub struct Reader {
    /// Address of the cache copied from: after a fork the process gets a new cache.
    cache: usize,
    snapshot: Option<Arc<Snapshot>>,
    next_check: u64,
    publication: u64,
}

impl Reader {
    /// Whether the copy may answer at `now`: same cache, nothing published since, no fetch due.
    #[inline]
    pub fn is_current(&self, cache: &Cache, now: u64) -> bool {
        self.cache == address(cache) && now < self.next_check && self.publication == cache.publication()
    }

    /// Brings the copy up to date, fetching first when one is due. Returns the warning of a failed
    /// fetch, for the caller to raise once no borrow of the reader is held.
    pub fn catch_up(&mut self, cache: &Cache, now: u64) -> Option<Warning> {
        self.copy(cache);
        if now < self.next_check {
            return None;
        }
        let warning = cache.update(now);
        self.copy(cache);
        warning
    }

    /// The values of the copy.
    #[inline]
    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.snapshot.as_ref()
    }

    fn copy(&mut self, cache: &Cache) {
        let (snapshot, next_check, publication) = cache.view();
        *self = Reader { cache: address(cache), snapshot, next_check, publication };
    }
}

fn address(cache: &Cache) -> usize {
    cache as *const Cache as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ini, Config};
    use crate::snapshot::zend_hash;

    /// Writes a document holding secret A = `value` at a path of this test's own.
    fn document(tag: &str, value: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("secrets-core-{tag}-{}.json", std::process::id()));
        rewrite(&path, value);
        path
    }

    fn rewrite(path: &std::path::Path, value: &str) {
        let doc = format!(r#"{{"Secrets": {{"A": {{"Value": "{value}", "Scopes": ["web"]}}}}}}"#);
        std::fs::write(path, doc).unwrap();
    }

    fn file_cache(path: &std::path::Path) -> Cache {
        let cache = Cache::new(zend_hash);
        let backend = format!("file://{}", path.display());
        cache.configure(1, Config::read(|n| (n == ini::BACKEND).then(|| backend.clone()), |_| None));
        cache
    }

    #[test]
    fn reader_sees_another_readers_refresh() {
        let path = document("reader", "one");
        let cache = file_cache(&path);
        let (mut first, mut second) = (Reader::default(), Reader::default());
        assert!(!first.is_current(&cache, 1));
        assert_eq!(first.catch_up(&cache, 1), None);
        assert!(first.is_current(&cache, 2));
        assert_eq!(first.snapshot().unwrap().get("A").unwrap().value, "one");

        rewrite(&path, "two");
        second.catch_up(&cache, 3);
        cache.refresh(3).unwrap();
        assert!(!first.is_current(&cache, 4), "a refresh elsewhere must be noticed");
        first.catch_up(&cache, 4);
        assert_eq!(first.snapshot().unwrap().get("A").unwrap().value, "two");
        assert_eq!(cache.status(4).fetch_count, 2);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn reader_threads_share_one_fetch() {
        let path = document("threads", "one");
        let cache = Arc::new(file_cache(&path));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    let mut reader = Reader::default();
                    (0..10_000u64).all(|i| {
                        if !reader.is_current(&cache, 10 + i / 100) {
                            reader.catch_up(&cache, 10 + i / 100);
                        }
                        reader.snapshot().and_then(|s| s.get("A")).is_some_and(|e| e.value == "one")
                    })
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap(), "every thread answers every call");
        }
        assert_eq!(cache.status(200).fetch_count, 1, "threads share one cache and one fetch");
        std::fs::remove_file(&path).unwrap();
    }
}
