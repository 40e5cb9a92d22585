//! The per-process cache (ARCHITECTURE §6): one fetch per TTL, stale values while fetches fail
//! transiently, values dropped when access is revoked, jittered exponential back-off.
//!
//! Time is a monotonic tick in milliseconds passed in by the caller, so that the PHP layer can use
//! a cheap coarse clock and tests can move time without sleeping. The hit path takes no lock at
//! all: each thread answers from its own [`crate::reader::Reader`] copy, which it compares with
//! the cache's publication counter. A fetch holds the fetch mutex for its I/O and the state lock
//! only to swap in its result, so other threads keep serving the previous values meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock, RwLockWriteGuard};

use crate::backend::{self, Backend, FailureKind, FetchError};
use crate::config::{BackendSpec, Config};
use crate::snapshot::{NameHash, Snapshot};
use secrets_core::document::Document;
use secrets_core::resolve::resolve;
use secrets_core::Scope;

/// The first pause after a failure; it doubles with each failure up to `backoff_max`.
pub const BACKOFF_INITIAL: Duration = Duration::from_secs(1);

/// Makes the backend for a configuration (see [`backend::open`]).
pub type Opener = Box<dyn Fn(&Config) -> Result<Option<Box<dyn Backend>>, FetchError> + Send + Sync>;

/// Secrets of one process, shared by its threads.
pub struct Cache {
    hash: NameHash,
    opener: Opener,
    config_generation: AtomicU64,
    /// Bumped, under the state lock, by every change of the state.
    publication: AtomicU64,
    state: RwLock<State>,
    fetcher: Mutex<Fetcher>,
}

#[derive(Default)]
struct State {
    config: Option<Arc<Config>>,
    snapshot: Option<Arc<Snapshot>>,
    /// Secrets set in-process by a test ([`Cache::mock`]); while set, they are served instead.
    mock: Option<(Arc<Document>, Arc<Snapshot>)>,
    /// Calls before this tick are answered from what is held.
    next_check: u64,
    /// No fetch is attempted before this tick (back-off, Retry-After).
    retry_at: u64,
    /// Tick of the last good fetch.
    good_at: Option<u64>,
    fetched_at_unix: Option<f64>,
    fetch_count: u64,
    failures: u32,
    last_error: Option<String>,
    last_status: Option<u16>,
    stale: bool,
}

struct Fetcher {
    backend: Option<Box<dyn Backend>>,
    opened_for: Option<Arc<Config>>,
    rng: u64,
}

/// What the cache holds and how it got there. Never a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The backend, as named in messages.
    pub backend: String,
    /// The environment values are resolved for.
    pub environment: String,
    /// This process.
    pub pid: u32,
    /// Fetch attempts made by this process.
    pub fetch_count: u64,
    /// Wall-clock time of the last good fetch, in Unix seconds.
    pub fetched_at: Option<f64>,
    /// Seconds since the last good fetch.
    pub age: Option<f64>,
    /// Secrets held.
    pub count: usize,
    /// The latest failure, if any.
    pub last_error: Option<String>,
    /// The HTTP status of the latest response, when the backend speaks HTTP.
    pub last_status: Option<u16>,
    /// Failures since the last good fetch.
    pub failures: u32,
    /// Whether the values held are kept past their TTL because fetches fail.
    pub stale: bool,
    /// Seconds until the next fetch may be attempted, while backing off.
    pub retry_in: Option<f64>,
    /// Seconds a good fetch is served.
    pub ttl: u64,
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
            fetcher: Mutex::new(Fetcher { backend: None, opened_for: None, rng: seed | 1 }),
        }
    }

    /// Whether configuration generation `generation` has been applied already.
    #[inline]
    pub fn configured(&self, generation: u64) -> bool {
        self.config_generation.load(Ordering::Acquire) == generation
    }

    /// Applies a configuration read at `generation`. A configuration that differs from the one held
    /// drops the values, so the next call fetches from the new backend.
    pub fn configure(&self, generation: u64, config: Config) {
        let mut state = self.write();
        if state.config.as_deref() != Some(&config) {
            let mock = state.mock.take().map(|(doc, _)| {
                let snapshot = self.snapshot_of(&doc, &config.environment);
                (doc, Arc::new(snapshot))
            });
            *state = State {
                config: Some(Arc::new(config)),
                fetch_count: state.fetch_count,
                mock,
                ..State::default()
            };
        }
        self.config_generation.store(generation, Ordering::Release);
    }

    /// The publication counter: it changes whenever what the cache serves does.
    #[inline]
    pub fn publication(&self) -> u64 {
        self.publication.load(Ordering::Acquire)
    }

    /// What the cache serves now: the values, the tick before which they need no check, and the
    /// publication they belong to, read together.
    pub fn view(&self) -> (Option<Arc<Snapshot>>, u64, u64) {
        let state = self.state.read();
        let next_check = if state.mock.is_some() { u64::MAX } else { state.next_check };
        (state.served().cloned(), next_check, self.publication.load(Ordering::Acquire))
    }

    /// Serves the secrets of `doc`, resolved for the configured environment, instead of the
    /// backend's, until [`Cache::unmock`]: PHPUnit suites say "this secret is missing" or "this
    /// one has this value" without files or a server. The document is validated as a fetched one is.
    pub fn mock(&self, doc: Document) {
        let mut state = self.write();
        let environment = state
            .config
            .as_ref()
            .map_or(crate::config::DEFAULT_ENVIRONMENT.to_string(), |c| c.environment.clone());
        let snapshot = self.snapshot_of(&doc, &environment);
        state.mock = Some((Arc::new(doc), Arc::new(snapshot)));
    }

    /// Serves the backend's secrets again.
    pub fn unmock(&self) {
        self.write().mock = None;
    }

    fn snapshot_of(&self, doc: &Document, environment: &str) -> Snapshot {
        Snapshot::new(resolve(doc, environment, &Scope::Web), self.hash)
            .from_document(&doc.site_id, &doc.version)
    }

    /// The state, for writing; the publication counter moves when the guard is released.
    fn write(&self) -> Publishing<'_> {
        Publishing { guard: self.state.write(), publication: &self.publication }
    }

    /// Answers from what is held, due or not.
    pub fn held<R>(&self, f: impl FnOnce(Option<&Snapshot>) -> R) -> R {
        f(self.state.read().served().map(|s| &**s))
    }

    /// Fetches when one is due at `now` and no other thread is fetching (while one is, the values
    /// held are served; with none held yet, this waits for that fetch). Returns the warning of a
    /// failed attempt: one per attempt, never one per call.
    pub fn update(&self, now: u64) -> Option<String> {
        let mut fetcher = match self.fetcher.try_lock() {
            Some(fetcher) => fetcher,
            // Another thread is fetching: serve the previous values, or wait for the first ones.
            None if self.state.read().snapshot.is_some() => return None,
            None => self.fetcher.lock(),
        };
        let config = {
            let mut state = self.write();
            if now < state.next_check || state.mock.is_some() {
                return None;
            }
            if now < state.retry_at {
                // Only the stale limit brought us here: drop what is too old, keep backing off.
                state.expire_stale(now);
                state.next_check = state.retry_at;
                return None;
            }
            state.config.clone()
        };
        match self.fetch_locked(&mut fetcher, now, config) {
            Ok(skipped) => skipped,
            Err(warning) => Some(warning),
        }
    }

    /// Fetches now, whatever the TTL and back-off say; waits for a fetch under way in another thread.
    pub fn refresh(&self, now: u64) -> Result<(), String> {
        let mut fetcher = self.fetcher.lock();
        let config = {
            let state = self.state.read();
            if state.mock.is_some() {
                return Ok(()); // the mock stays until unmock()
            }
            state.config.clone()
        };
        self.fetch_locked(&mut fetcher, now, config).map(drop)
    }

    /// One fetch. `Ok` carries the warning about secrets left out for breaking a naming rule,
    /// if any (the others are served); `Err` the warning of a failed attempt.
    fn fetch_locked(
        &self,
        fetcher: &mut Fetcher,
        now: u64,
        config: Option<Arc<Config>>,
    ) -> Result<Option<String>, String> {
        let Some(config) = config.filter(|c| c.backend != BackendSpec::None) else {
            let mut state = self.write();
            state.snapshot = None;
            state.next_check = u64::MAX;
            return Ok(None);
        };
        if fetcher.opened_for.as_ref() != Some(&config) {
            fetcher.backend = None;
            fetcher.opened_for = Some(config.clone());
        }
        let started = Instant::now();
        let fetched = match fetcher.backend.as_mut() {
            Some(backend) => backend.fetch(),
            None => (self.opener)(&config).and_then(|opened| {
                let backend =
                    fetcher.backend.insert(opened.ok_or_else(|| FetchError::revoked("no backend"))?);
                backend.fetch()
            }),
        };
        let http_status = fetcher.backend.as_ref().and_then(|b| b.last_status());
        let parsed = fetched.and_then(|bytes| {
            let (doc, skipped) = Document::parse_skipping_bad_names(&bytes)
                .map_err(|e| FetchError::transient(e.to_string()))?;
            Ok((self.snapshot_of(&doc, &config.environment), skipped))
        });
        // Every pause counts from the end of the attempt: an attempt that hung until its timeout
        // must not use up the back-off that follows it. A good fetch's TTL counts on the caller's
        // clock, as every call checks it (with a TTL of 0, the next call fetches again).
        let ended = now.saturating_add(millis(started.elapsed()));
        let mut state = self.write();
        state.fetch_count += 1;
        match parsed {
            Ok((snapshot, skipped)) => {
                state.snapshot = Some(Arc::new(snapshot));
                state.last_status = http_status;
                state.good_at = Some(now);
                state.fetched_at_unix = Some(now_unix());
                state.failures = 0;
                state.stale = false;
                state.retry_at = 0;
                state.next_check = now.saturating_add(millis(config.ttl));
                Ok((!skipped.is_empty()).then(|| {
                    let skipped: Vec<String> = skipped.iter().map(ToString::to_string).collect();
                    format!("secrets from {}: skipped {}", config.backend.describe(), skipped.join("; "))
                }))
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                state.last_status = error.status.or(http_status);
                let delay = match error.kind {
                    FailureKind::Revoked => {
                        state.snapshot = None;
                        backoff(state.failures, config.backoff_max, &mut fetcher.rng)
                    }
                    FailureKind::Transient => backoff(state.failures, config.backoff_max, &mut fetcher.rng),
                    FailureKind::RetryAfter(wait) => wait.min(config.backoff_max.max(BACKOFF_INITIAL)),
                };
                state.retry_at = ended.saturating_add(millis(delay));
                state.expire_stale(ended);
                state.next_check = match (state.stale, state.good_at) {
                    (true, Some(good)) => state.retry_at.min(good.saturating_add(millis(config.stale_limit))),
                    _ => state.retry_at,
                };
                let message =
                    format!("cannot fetch secrets from {}: {}", config.backend.describe(), error.message);
                state.last_error = Some(message.clone());
                Err(message)
            }
        }
    }

    /// What the cache holds, at `now`.
    pub fn status(&self, now: u64) -> Status {
        let state = self.state.read();
        let config = state.config.as_deref();
        Status {
            backend: match (&state.mock, config) {
                (Some(_), _) => "mock".into(),
                (None, config) => config.map_or("none".into(), |c| c.backend.describe()),
            },
            environment: config.map_or_else(String::new, |c| c.environment.clone()),
            pid: std::process::id(),
            fetch_count: state.fetch_count,
            fetched_at: state.fetched_at_unix,
            age: state.good_at.map(|good| now.saturating_sub(good) as f64 / 1000.0),
            count: state.served().map_or(0, |s| s.len()),
            last_error: state.last_error.clone(),
            last_status: state.last_status,
            failures: state.failures,
            stale: state.stale,
            retry_in: (state.retry_at > now).then(|| (state.retry_at - now) as f64 / 1000.0),
            ttl: config.map_or(0, |c| c.ttl.as_secs()),
        }
    }
}

/// A write guard that bumps the publication counter while the lock is still held.
struct Publishing<'a> {
    guard: RwLockWriteGuard<'a, State>,
    publication: &'a AtomicU64,
}

impl Drop for Publishing<'_> {
    fn drop(&mut self) {
        self.publication.fetch_add(1, Ordering::AcqRel);
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

impl State {
    /// What calls are answered from: the mock when one is set, else the fetched values.
    fn served(&self) -> Option<&Arc<Snapshot>> {
        self.mock.as_ref().map(|(_, s)| s).or(self.snapshot.as_ref())
    }

    /// Marks held values stale, or drops them once they are older than the stale limit.
    fn expire_stale(&mut self, now: u64) {
        let limit = self.config.as_ref().map_or(0, |c| millis(c.stale_limit));
        match self.good_at {
            Some(good) if self.snapshot.is_some() && now < good.saturating_add(limit) => self.stale = true,
            _ => {
                self.snapshot = None;
                self.stale = false;
            }
        }
    }
}

/// The pause after `failures` consecutive failures: doubling from [`BACKOFF_INITIAL`], capped at
/// `max`, then jittered into its upper half so that workers started together spread out.
fn backoff(failures: u32, max: Duration, rng: &mut u64) -> Duration {
    let doubled = BACKOFF_INITIAL.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let base = doubled.min(max);
    // xorshift64: enough to decorrelate processes; nothing secret depends on it.
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let fraction = 0.5 + (*rng % 1000) as f64 / 2000.0;
    base.mul_f64(fraction)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn now_unix() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use zeroize::Zeroizing;

    use super::*;
    use crate::config::ini;
    use crate::reader::Reader;
    use crate::snapshot::zend_hash;

    type Script = Arc<Mutex<VecDeque<Result<&'static str, FetchError>>>>;

    /// A backend that plays back a script of answers, counting fetches: the transport is the only
    /// thing replaced, every rule under test is the real one.
    struct Played(Script, Arc<AtomicU64>);

    impl Backend for Played {
        fn fetch(&mut self) -> Result<Zeroizing<Vec<u8>>, FetchError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            let next = self.0.lock().pop_front().unwrap_or(Err(FetchError::transient("script ended")));
            next.map(|s| Zeroizing::new(s.as_bytes().to_vec()))
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
        fn fetch(&mut self) -> Result<Zeroizing<Vec<u8>>, FetchError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.0);
            Err(FetchError::transient("timed out"))
        }
    }

    /// A backend that takes `.0` to answer ONE, as a slow service does.
    struct Slow(Duration, Arc<AtomicU64>);

    impl Backend for Slow {
        fn fetch(&mut self) -> Result<Zeroizing<Vec<u8>>, FetchError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.0);
            Ok(Zeroizing::new(ONE.as_bytes().to_vec()))
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
    fn backoff_doubles_up_to_the_cap() {
        let mut rng = 12345;
        for (failures, cap) in [(1, 1_000), (2, 2_000), (3, 4_000), (9, 8_000)] {
            let d = backoff(failures, Duration::from_secs(8), &mut rng).as_millis() as u64;
            assert!(d >= cap / 2 && d <= cap, "{failures}: {d}");
        }
        assert_eq!(backoff(3, Duration::ZERO, &mut rng), Duration::ZERO);
    }
}
