//! The per-process cache (ARCHITECTURE §6): one fetch per TTL, stale values while fetches fail
//! transiently, values dropped when access is revoked, jittered exponential back-off.
//!
//! This module is the locking and the publication; each other job has a module of its own: the
//! failure policy ([`policy`], a pure state transition), where documents come from ([`source`]:
//! the backend, or a test's mock) and what is reported ([`status`]).
//!
//! Time is a monotonic tick in milliseconds passed in by the caller, so that the PHP layer can use
//! a cheap coarse clock and tests can move time without sleeping. The hit path takes no lock at
//! all: each thread answers from its own [`crate::reader::Reader`] copy, which it compares with
//! the cache's publication counter. A fetch holds the fetch mutex for its I/O and the state lock
//! only to swap in its result, so other threads keep serving the previous values meanwhile.

pub mod policy;
pub mod source;
pub mod status;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock, RwLockWriteGuard};
use secrets_core::document::Document;
use secrets_core::resolve::runtime_entries;
use secrets_core::Scope;

use crate::backend;
use crate::config::{Config, DEFAULT_ENVIRONMENT};
use crate::snapshot::{NameHash, Snapshot};
use policy::{millis, Due, Held, Timing};
pub use source::Opener;
use source::{Delivery, Fetch, Opened, Source};
pub use status::{Status, Warning};

/// Secrets of one process, shared by its threads.
pub struct Cache {
    hash: NameHash,
    opener: Opener,
    config_generation: AtomicU64,
    /// Bumped, under the state lock, by every change of what readers copy.
    publication: AtomicU64,
    state: RwLock<State>,
    fetcher: Mutex<Fetcher>,
}

#[derive(Default)]
struct State {
    config: Option<Arc<Config>>,
    source: Source,
    snapshot: Option<Arc<Snapshot>>,
    timing: Timing,
    fetched_at_unix: Option<f64>,
    fetch_count: u64,
    last_error: Option<Warning>,
    last_status: Option<u16>,
    /// The backend's values and timing while a mock replaces them, given back by `unmock`.
    parked: Option<(Option<Arc<Snapshot>>, Timing)>,
}

struct Fetcher {
    opened: Opened,
    rng: u64,
}

impl Cache {
    /// An empty cache that fetches through [`backend::open`].
    pub fn new(hash: NameHash) -> Cache {
        Cache::with_opener(hash, Box::new(backend::open))
    }

    /// An empty cache that makes its backends with `opener`.
    pub fn with_opener(hash: NameHash, opener: Opener) -> Cache {
        let seed = u64::from(std::process::id()) ^ now_unix().to_bits() ^ 0x9e37_79b9_7f4a_7c15;
        Cache {
            hash,
            opener,
            config_generation: AtomicU64::new(u64::MAX),
            publication: AtomicU64::new(0),
            state: RwLock::new(State::default()),
            fetcher: Mutex::new(Fetcher { opened: Opened::default(), rng: seed | 1 }),
        }
    }

    /// Whether configuration generation `generation` has been applied already.
    #[inline]
    pub fn configured(&self, generation: u64) -> bool {
        self.config_generation.load(Ordering::Acquire) == generation
    }

    /// Applies a configuration read at `generation`. A configuration that differs from the one held
    /// drops the values, so the next call fetches from the new backend (or takes the mock again,
    /// resolved for the new environment).
    pub fn configure(&self, generation: u64, config: Config) {
        let mut state = self.write();
        if state.config.as_deref() != Some(&config) {
            *state = State {
                config: Some(Arc::new(config)),
                source: state.source.clone(),
                fetch_count: state.fetch_count,
                ..State::default()
            };
        }
        self.config_generation.store(generation, Ordering::Release);
    }

    /// The publication counter: it changes whenever what readers copy ([`Cache::view`]) does.
    #[inline]
    pub fn publication(&self) -> u64 {
        self.publication.load(Ordering::Acquire)
    }

    /// What the cache serves now: the values, the tick before which they need no check, and the
    /// publication they belong to, read together.
    pub fn view(&self) -> (Option<Arc<Snapshot>>, u64, u64) {
        let state = self.state.read();
        (state.snapshot.clone(), state.timing.next_check, self.publication.load(Ordering::Acquire))
    }

    /// Serves the secrets of `doc`, resolved for the configured environment, instead of the
    /// backend's, from the next call until [`Cache::unmock`]: PHPUnit suites say "this secret is
    /// missing" or "this one has this value" without files or a server. The document is validated
    /// as a fetched one is. The backend's values are put aside, not dropped. Waits for a fetch
    /// under way (the fetch mutex keeps it from landing after the switch).
    pub fn mock(&self, doc: Document) {
        let _fetching = self.fetcher.lock();
        let mut state = self.write();
        if matches!(state.source, Source::Backend) {
            state.parked = Some((state.snapshot.take(), state.timing));
        }
        state.source = Source::Mock(Arc::new(doc));
        state.timing = Timing::default();
    }

    /// Serves the backend's secrets again: those put aside by [`Cache::mock`], due as they were
    /// (or, after a change of configuration, fetched at the next call).
    pub fn unmock(&self) {
        let _fetching = self.fetcher.lock();
        let mut state = self.write();
        if matches!(state.source, Source::Mock(_)) {
            let (snapshot, timing) = state.parked.take().unwrap_or_default();
            (state.snapshot, state.timing) = (snapshot, timing);
            state.source = Source::Backend;
        }
    }

    /// The state, for writing; the publication counter moves, when what readers copy changed, as
    /// the guard is released.
    fn write(&self) -> Publishing<'_> {
        let guard = self.state.write();
        let before = guard.published();
        Publishing { guard, before, publication: &self.publication }
    }

    /// Answers from what is held, due or not.
    pub fn held<R>(&self, f: impl FnOnce(Option<&Snapshot>) -> R) -> R {
        f(self.state.read().snapshot.as_deref())
    }

    /// Fetches when one is due at `now` and no other thread is fetching (while one is, the values
    /// held are served; with none held yet, this waits for that fetch). Returns the warning of the
    /// attempt, if any: one per attempt, never one per call.
    pub fn update(&self, now: u64) -> Option<Warning> {
        let mut fetcher = match self.fetcher.try_lock() {
            Some(fetcher) => fetcher,
            // Another thread is fetching: serve the previous values, or wait for the first ones.
            None if self.state.read().snapshot.is_some() => return None,
            None => self.fetcher.lock(),
        };
        {
            // Most calls end here, under the read lock alone: nothing is due.
            let state = self.state.read();
            let policy = state.policy();
            if policy.due(state.timing, now, state.snapshot.is_some()) == Due::Serve {
                return None;
            }
        }
        let mut state = self.write();
        match state.policy().due(state.timing, now, state.snapshot.is_some()) {
            Due::Serve => None,
            Due::Wait(timing, held) => {
                state.timing = timing;
                if held == Held::Drop {
                    state.snapshot = None;
                }
                None
            }
            Due::Fetch => {
                drop(state);
                match self.fetch_locked(&mut fetcher, now) {
                    Ok(skipped) => skipped,
                    Err(warning) => Some(warning),
                }
            }
        }
    }

    /// Fetches now, whatever the TTL and back-off say; waits for a fetch under way in another thread.
    pub fn refresh(&self, now: u64) -> Result<(), Warning> {
        let mut fetcher = self.fetcher.lock();
        self.fetch_locked(&mut fetcher, now).map(drop)
    }

    /// One turn of the source. `Ok` carries the warning about secrets left out for breaking a
    /// naming rule, if any (the others are served); `Err` the warning of a failed attempt.
    fn fetch_locked(&self, fetcher: &mut Fetcher, now: u64) -> Result<Option<Warning>, Warning> {
        let (source, config) = {
            let state = self.state.read();
            (state.source.clone(), state.config.clone())
        };
        let started = Instant::now();
        let fetched = source.fetch(&mut fetcher.opened, &self.opener, config.as_ref());
        let ended = now.saturating_add(millis(started.elapsed()));
        let config = config.as_deref();
        let backend = source.describe(config);
        let policy = source.policy(config);
        let attempted = source.counts() && !matches!(fetched, Fetch::Nothing);
        // The snapshot is built (resolved, values copied into their arena) before the state lock is
        // taken: the lock is held only to swap it in.
        let environment = config.map_or(DEFAULT_ENVIRONMENT, |c| c.environment.as_str());
        let snapshot = match &fetched {
            Fetch::Delivered(delivery) => Some(Arc::new(self.snapshot_of(&delivery.doc, environment))),
            Fetch::Nothing | Fetch::Failed(_) => None,
        };
        let mut state = self.write();
        if attempted {
            state.fetch_count += 1;
        }
        match fetched {
            Fetch::Nothing => {
                state.snapshot = None;
                state.timing = Timing { next_check: u64::MAX, ..Timing::default() };
                Ok(None)
            }
            Fetch::Delivered(Delivery { skipped, status, .. }) => {
                state.snapshot = snapshot;
                state.timing = policy.succeeded(now);
                if attempted {
                    state.last_status = status;
                    state.fetched_at_unix = Some(now_unix());
                }
                Ok((!skipped.is_empty()).then_some(Warning::Skipped { backend, skipped }))
            }
            Fetch::Failed(error) => {
                let holding = state.snapshot.is_some();
                let (timing, held) =
                    policy.failed(state.timing, error.kind, ended, holding, &mut fetcher.rng);
                state.timing = timing;
                if held == Held::Drop {
                    state.snapshot = None;
                }
                state.last_status = error.status;
                let warning = Warning::FetchFailed { backend, error };
                state.last_error = Some(warning.clone());
                Err(warning)
            }
        }
    }

    /// The snapshot of `doc` for a runtime configured for `environment`: resolved for it, unless
    /// the document was resolved already (the runtime API's answer names its environment).
    fn snapshot_of(&self, doc: &Document, environment: &str) -> Snapshot {
        let (entries, environment) = runtime_entries(doc, environment, &Scope::Web);
        Snapshot::new(entries, self.hash).from_document(&doc.site_id, &doc.version, environment)
    }

    /// What the cache holds, at `now`.
    pub fn status(&self, now: u64) -> Status {
        let state = self.state.read();
        let config = state.config.as_deref();
        let timing = &state.timing;
        Status {
            backend: state.source.describe(config),
            environment: match (&state.snapshot, config) {
                (Some(snapshot), _) => snapshot.environment().to_string(),
                (None, config) => config.map_or_else(String::new, |c| c.environment.clone()),
            },
            pid: std::process::id(),
            fetch_count: state.fetch_count,
            fetched_at: state.fetched_at_unix,
            age: timing.good_at.map(|good| now.saturating_sub(good) as f64 / 1000.0),
            count: state.snapshot.as_ref().map_or(0, |s| s.len()),
            last_error: state.last_error.as_ref().map(ToString::to_string),
            last_status: state.last_status,
            failures: timing.failures,
            stale: timing.stale,
            retry_in: (timing.retry_at > now).then(|| (timing.retry_at - now) as f64 / 1000.0),
            ttl: config.map_or(0, |c| c.ttl.as_secs()),
        }
    }
}

impl State {
    /// The policy of the source in use.
    fn policy(&self) -> policy::Policy {
        self.source.policy(self.config.as_deref())
    }

    /// What readers copy: the snapshot (by address) and the tick of the next check.
    fn published(&self) -> (usize, u64) {
        (self.snapshot.as_ref().map_or(0, |s| Arc::as_ptr(s) as usize), self.timing.next_check)
    }
}

/// A write guard that bumps the publication counter, while the lock is still held, when what
/// readers copy changed: a call that only looked must not knock every thread's copy off its
/// fast path.
struct Publishing<'a> {
    guard: RwLockWriteGuard<'a, State>,
    before: (usize, u64),
    publication: &'a AtomicU64,
}

impl Drop for Publishing<'_> {
    fn drop(&mut self) {
        if self.guard.published() != self.before {
            self.publication.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl std::ops::Deref for Publishing<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.guard
    }
}

impl std::ops::DerefMut for Publishing<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

fn now_unix() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use secrets_core::document::DocumentError;
    use zeroize::Zeroizing;

    use super::*;
    use crate::backend::{Backend, FailureKind, FetchError, Fetched};
    use crate::config::ini;
    use crate::reader::Reader;
    use crate::snapshot::zend_hash;

    type Script = Arc<Mutex<VecDeque<Result<&'static str, FetchError>>>>;

    /// A backend that plays back a script of answers, counting fetches: the transport is the only
    /// thing replaced, every rule under test is the real one.
    struct Played(Script, Arc<AtomicU64>);

    impl Backend for Played {
        fn fetch(&mut self) -> Result<Fetched, FetchError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            let next = self.0.lock().pop_front().unwrap_or(Err(FetchError::transient("script ended")));
            next.map(|s| Fetched::bytes(Zeroizing::new(s.as_bytes().to_vec())))
        }
    }

    const ONE: &str = r#"{"Secrets": {"A": {"Value": "one", "Scopes": ["web"]}}}"#;
    const TWO: &str = r#"{"Secrets": {"A": {"Value": "two", "Scopes": ["web"]}}}"#;

    fn cache_with(
        script: Vec<Result<&'static str, FetchError>>,
        settings: &[(&str, &str)],
    ) -> (Cache, Arc<AtomicU64>) {
        let script: Script = Arc::new(Mutex::new(script.into()));
        let count = Arc::new(AtomicU64::new(0));
        let (s, c) = (script.clone(), count.clone());
        let cache = Cache::with_opener(
            zend_hash,
            Box::new(move |_| Ok(Some(Box::new(Played(s.clone(), c.clone())) as Box<dyn Backend>))),
        );
        let mut all = vec![
            (ini::BACKEND, "file:///played.json"),
            (ini::TTL, "10"),
            (ini::STALE_LIMIT, "100"),
            (ini::BACKOFF_MAX, "8"),
        ];
        all.extend_from_slice(settings);
        let config =
            Config::read(|n| all.iter().rev().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()), |_| None);
        cache.configure(1, config);
        (cache, count)
    }

    /// One call as the PHP layer makes it, through a thread's reader.
    fn get(cache: &Cache, now: u64) -> (Option<String>, Option<String>) {
        thread_local!(static READER: std::cell::RefCell<Reader> = std::cell::RefCell::new(Reader::default()));
        READER.with_borrow_mut(|reader| {
            let warning = if reader.is_current(cache, now) { None } else { reader.catch_up(cache, now) };
            let warning = warning.map(|w| w.to_string());
            (reader.snapshot().and_then(|s| s.get("A")).map(|e| e.value.to_string()), warning)
        })
    }

    #[test]
    fn cache_read_fetches_once_per_ttl() {
        let (cache, fetches) = cache_with(vec![Ok(ONE), Ok(TWO)], &[]);
        for now in 0..9_999 {
            assert_eq!(get(&cache, now).0.as_deref(), Some("one"));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(get(&cache, 10_000).0.as_deref(), Some("two"));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cache_ttl_zero_fetches_every_call() {
        let (cache, fetches) = cache_with(vec![Ok(ONE), Ok(TWO)], &[(ini::TTL, "0")]);
        assert_eq!(get(&cache, 5).0.as_deref(), Some("one"));
        assert_eq!(get(&cache, 5).0.as_deref(), Some("two"));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cache_refresh_fetches_now() {
        let (cache, fetches) = cache_with(vec![Ok(ONE), Ok(TWO)], &[]);
        assert_eq!(get(&cache, 0).0.as_deref(), Some("one"));
        cache.refresh(1).unwrap();
        assert_eq!(get(&cache, 2).0.as_deref(), Some("two"));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cache_transient_failure_serves_stale_and_warns_once() {
        let (cache, fetches) =
            cache_with(vec![Ok(ONE), Err(FetchError::transient("connection refused"))], &[]);
        get(&cache, 0);
        let (value, warning) = get(&cache, 10_000);
        assert_eq!(value.as_deref(), Some("one"));
        assert!(warning.unwrap().contains("connection refused"));
        for now in 10_001..10_400 {
            assert_eq!(get(&cache, now), (Some("one".into()), None), "no new attempt inside the back-off");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        assert!(cache.status(10_400).stale);
    }

    #[test]
    fn cache_stale_values_dropped_after_stale_limit() {
        let script = (0..200).map(|_| Err(FetchError::transient("down"))).collect::<Vec<_>>();
        let (cache, _) = cache_with([vec![Ok(ONE)], script].concat(), &[]);
        get(&cache, 0);
        let mut now = 10_000;
        while now < 99_000 {
            assert_eq!(get(&cache, now).0.as_deref(), Some("one"), "at {now}");
            now += 500;
        }
        assert_eq!(get(&cache, 100_000).0, None, "past the stale limit of 100 s");
        assert!(!cache.status(100_000).stale);
    }

    #[test]
    fn cache_revoked_drops_values() {
        let (cache, _) = cache_with(
            vec![Ok(ONE), Err(FetchError { status: Some(403), ..FetchError::revoked("HTTP 403") })],
            &[],
        );
        get(&cache, 0);
        let (value, warning) = get(&cache, 10_000);
        assert_eq!(value, None);
        assert!(warning.unwrap().contains("HTTP 403"));
        assert_eq!(cache.status(10_000).last_status, Some(403));
    }

    #[test]
    fn cache_retry_after_waits() {
        let wait = FetchError {
            kind: FailureKind::RetryAfter(Duration::from_secs(2)),
            message: "HTTP 429".into(),
            status: Some(429),
        };
        let (cache, fetches) = cache_with(vec![Err(wait), Ok(ONE)], &[]);
        assert_eq!(get(&cache, 0).0, None);
        assert_eq!(get(&cache, 1_999).0, None);
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(get(&cache, 2_000).0.as_deref(), Some("one"));
    }

    #[test]
    fn cache_backoff_bounds_attempts_while_down() {
        let script = (0..100).map(|_| Err(FetchError::transient("down"))).collect::<Vec<_>>();
        let (cache, fetches) = cache_with(script, &[]);
        for now in (0..60_000).step_by(10) {
            get(&cache, now);
        }
        // 1, 2, 4, 8, 8, ... seconds (halved at worst by jitter): at most ~14 attempts in 60 s.
        let attempts = fetches.load(Ordering::SeqCst);
        assert!((5..=16).contains(&attempts), "{attempts} attempts");
        assert_eq!(cache.status(60_000).failures as u64, attempts);
    }

    #[test]
    fn cache_malformed_document_is_transient() {
        let (cache, _) = cache_with(vec![Ok(ONE), Ok("{\"Secrets\": {\"A\": {\"Value\": 5}}}")], &[]);
        get(&cache, 0);
        let (value, warning) = get(&cache, 10_000);
        assert_eq!(value.as_deref(), Some("one"));
        assert!(warning.unwrap().contains("Secrets.A.Value"));
    }

    #[test]
    fn cache_misnamed_secret_skipped_with_one_warning_others_served() {
        let doc = r#"{"Secrets": {"A": {"Value": "served", "Scopes": ["web"]},
                      "My.Secret-Name": {"Type": "env", "Value": "sk_hidden", "Scopes": ["web"]}}}"#;
        let (cache, _) = cache_with(vec![Ok(doc)], &[]);
        let (value, warning) = get(&cache, 0);
        assert_eq!(value.as_deref(), Some("served"));
        let warning = warning.expect("a warning naming the secret left out");
        assert!(warning.contains("\"My.Secret-Name\"") && warning.contains("env-type"), "{warning}");
        assert!(!warning.contains("sk_hidden"), "{warning}");
        assert_eq!(get(&cache, 1), (Some("served".into()), None), "one warning per fetch, not per call");
        assert_eq!(cache.status(1).failures, 0, "a fetch that served the others is not a failure");
    }

    #[test]
    fn cache_answer_resolved_by_the_service_is_served_and_reported_for_its_environment() {
        // Configured for dev (the default), fed the live binding's answer.
        let live = r#"{"Environment": "live", "Scopes": ["web"],
                       "Secrets": {"A": {"Value": "live-value", "Scopes": ["web"]}}}"#;
        let (cache, _) = cache_with(vec![Ok(live), Ok(ONE)], &[]);
        assert_eq!(cache.status(0).environment, "dev", "nothing held yet: the setting");
        assert_eq!(get(&cache, 0).0.as_deref(), Some("live-value"));
        assert_eq!(cache.status(0).environment, "live");
        assert_eq!(cache.held(|s| s.unwrap().environment().to_string()), "live");
        // An answer without Environment (an older service, a file) is resolved for the setting.
        cache.refresh(1).unwrap();
        assert_eq!(cache.status(1).environment, "dev");
        assert_eq!(get(&cache, 2).0.as_deref(), Some("one"));
    }

    #[test]
    fn cache_reconfigure_drops_values_and_unset_backend_is_silent() {
        let (cache, _) = cache_with(vec![Ok(ONE)], &[]);
        get(&cache, 0);
        assert!(cache.configured(1) && !cache.configured(2));
        cache.configure(2, Config::read(|_| None, |_| None));
        assert_eq!(get(&cache, 1), (None, None));
        assert_eq!(cache.status(1).backend, "none");
    }

    #[test]
    fn cache_mock_replaces_until_unmock_and_follows_the_environment() {
        let (cache, fetches) = cache_with(vec![Ok(ONE), Ok(TWO)], &[]);
        assert_eq!(get(&cache, 0).0.as_deref(), Some("one"));
        let doc = Document::parse(br#"{"SiteID": "m", "Secrets": {"A": {"Value": "mocked", "EnvValues": {"live": "mocked-live"}, "Scopes": ["web"]}}}"#).unwrap();
        cache.mock(doc);
        assert_eq!(get(&cache, 1).0.as_deref(), Some("mocked"));
        assert_eq!(get(&cache, 50_000).0.as_deref(), Some("mocked"), "no fetch while mocked, TTL or not");
        cache.refresh(50_001).unwrap();
        assert_eq!(cache.status(50_001).backend, "mock");
        assert_eq!(cache.held(|s| s.unwrap().site_id().to_string()), "m");
        let live = Config::read(
            |n| match n {
                ini::BACKEND => Some("file:///played.json".into()),
                ini::ENVIRONMENT => Some("live".into()),
                _ => None,
            },
            |_| None,
        );
        cache.configure(2, live);
        assert_eq!(get(&cache, 50_002).0.as_deref(), Some("mocked-live"));
        cache.unmock();
        assert_eq!(get(&cache, 50_003).0.as_deref(), Some("two"));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cache_recovers_on_the_first_call_after_the_back_off() {
        let (cache, fetches) = cache_with(
            vec![Ok(ONE), Err(FetchError::transient("down")), Ok(TWO)],
            &[(ini::TTL, "3"), (ini::BACKOFF_MAX, "1")],
        );
        assert_eq!(get(&cache, 1_000).0.as_deref(), Some("one"));
        let (value, warning) = get(&cache, 5_000);
        assert_eq!((value.as_deref(), warning.is_some()), (Some("one"), true));
        assert_eq!(get(&cache, 5_010).0.as_deref(), Some("one"));
        assert_eq!(get(&cache, 7_500).0.as_deref(), Some("two"), "the first call after the back-off fetches");
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
    }

    /// A backend that takes `.0` to fail, as a service that hangs until the timeout does.
    struct Hanging(Duration, Arc<AtomicU64>);

    impl Backend for Hanging {
        fn fetch(&mut self) -> Result<Fetched, FetchError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.0);
            Err(FetchError::transient("timed out"))
        }
    }

    /// A backend that takes `.0` to answer ONE, as a slow service does.
    struct Slow(Duration, Arc<AtomicU64>);

    impl Backend for Slow {
        fn fetch(&mut self) -> Result<Fetched, FetchError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.0);
            Ok(Fetched::bytes(Zeroizing::new(ONE.as_bytes().to_vec())))
        }
    }

    #[test]
    fn cache_ttl_zero_after_a_slow_good_fetch_fetches_again() {
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        let cache = Cache::with_opener(
            zend_hash,
            Box::new(move |_| {
                Ok(Some(Box::new(Slow(Duration::from_millis(50), c.clone())) as Box<dyn Backend>))
            }),
        );
        cache.configure(
            1,
            Config::read(
                |n| match n {
                    ini::BACKEND => Some("file:///slow.json".into()),
                    ini::TTL => Some("0".into()),
                    _ => None,
                },
                |_| None,
            ),
        );
        get(&cache, 0);
        // The caller's clock moved 1 ms while the fetch took 50: a TTL of 0 still means every call.
        get(&cache, 1);
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cache_backoff_counts_from_the_end_of_a_slow_attempt() {
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        let cache = Cache::with_opener(
            zend_hash,
            Box::new(move |_| {
                Ok(Some(Box::new(Hanging(Duration::from_millis(1_100), c.clone())) as Box<dyn Backend>))
            }),
        );
        cache.configure(
            1,
            Config::read(|n| (n == ini::BACKEND).then(|| "file:///hangs.json".into()), |_| None),
        );
        assert!(get(&cache, 0).1.is_some(), "the first attempt fails after 1.1 s");
        // The first pause is 0.5–1 s; counted from the start of the attempt it would be over already.
        let retry_in = cache.status(1_150).retry_in;
        assert!(retry_in.is_some_and(|r| r > 0.0), "retry_in right after the first failure: {retry_in:?}");
        assert_eq!(get(&cache, 1_150), (None, None), "no second attempt inside the back-off");
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert!(get(&cache, 2_200).1.is_some(), "the next attempt comes once the back-off is over");
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cache_unmock_gives_back_the_backend_values_without_fetching() {
        let (cache, fetches) = cache_with(vec![Ok(ONE), Ok(TWO)], &[]);
        assert_eq!(get(&cache, 0).0.as_deref(), Some("one"));
        let doc = Document::parse(br#"{"Secrets": {"A": {"Value": "mocked", "Scopes": ["web"]}}}"#).unwrap();
        cache.mock(doc.clone());
        assert_eq!(get(&cache, 1).0.as_deref(), Some("mocked"));
        cache.mock(doc);
        assert_eq!(get(&cache, 2).0.as_deref(), Some("mocked"), "a second mock replaces the first");
        cache.unmock();
        assert_eq!(get(&cache, 3), (Some("one".into()), None));
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "unmock fetches nothing: the TTL runs on");
        assert_eq!(get(&cache, 10_000).0.as_deref(), Some("two"));
    }

    #[test]
    fn cache_update_with_nothing_due_publishes_nothing() {
        let (cache, fetches) = cache_with(vec![Ok(ONE), Ok(TWO)], &[]);
        assert_eq!(get(&cache, 0).0.as_deref(), Some("one"));
        let published = cache.publication();
        // What `all()` and the SDK's `get()` do on every call: update, then read what is held.
        for now in [1, 2, 9_999] {
            assert_eq!(cache.update(now), None);
            assert_eq!(cache.held(|s| s.unwrap().get("A").unwrap().value.to_string()), "one");
        }
        assert_eq!(cache.publication(), published, "a call that only looked must not knock readers off");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        cache.refresh(10).unwrap();
        assert_ne!(cache.publication(), published, "new values are published");
    }

    #[test]
    fn cache_warnings_are_typed() {
        let refused = FetchError::transient("connection refused");
        let (cache, _) = cache_with(vec![Err(refused.clone())], &[]);
        assert_eq!(
            cache.update(0),
            Some(Warning::FetchFailed { backend: "file:///played.json".into(), error: refused })
        );
        let doc = r#"{"Secrets": {"A B": {"Value": "x"}, "A": {"Value": "a", "Scopes": ["web"]}}}"#;
        let (cache, _) = cache_with(vec![Ok(doc)], &[]);
        match cache.update(0) {
            Some(Warning::Skipped { backend, skipped }) => {
                assert_eq!(backend, "file:///played.json");
                assert!(matches!(&skipped[..], [DocumentError::BadName { name, .. }] if name == "A B"));
            }
            other => panic!("{other:?}"),
        }
    }
}
