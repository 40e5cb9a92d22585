//! The hit path's per-thread state, in PHP module globals (one per thread under ZTS, a plain
//! static otherwise): the cache this thread's settings select, the thread's [`Reader`] of it and
//! the PHP strings of its values.

use std::sync::Arc;

use ext_php_rs::ffi::zend_string;
use ext_php_rs::zend::{ModuleGlobal, ModuleGlobals};
use secrets_runtime::reader::Reader;
use secrets_runtime::Cache;

use crate::ini::{self, EnvironmentRead};
use crate::values::PhpValues;

/// How many sets of values one request may retire before hits hand out copies instead: a CLI
/// script that runs for days with a short TTL must not keep every old set until it ends.
const MAX_RETIRED: usize = 16;

/// [`Hot`]'s `checked_generation` between requests: no generation reaches it.
const NOT_CHECKED: u64 = u64::MAX;

/// The module globals of the extension.
#[derive(Default)]
pub struct Hot {
    reader: Reader,
    values: Option<PhpValues>,
    /// Sets that stopped being current during this request; PHP values may still point to them.
    retired: Vec<PhpValues>,
    /// The cache this thread's settings select (see [`Hot::chosen`]).
    cache: Option<Arc<Cache>>,
    /// Caches left during this request: references handed out in it stay valid until it ends.
    left: Vec<Arc<Cache>>,
    /// What the choice was made under: the generation the settings were checked at in this
    /// request ([`NOT_CHECKED`] after it ends: one comparison on the hit path answers both "checked
    /// in this request" and "no setting changed since"), their generation at the last full check,
    /// the forks of the process, and the bytes of the settings and of the environment they leave in
    /// charge (see `ini::fingerprint`).
    checked_generation: u64,
    generation: u64,
    forks: u64,
    settings: Vec<u8>,
    environment: Vec<u8>,
    environment_read: EnvironmentRead,
    /// Room to read the environment into at the start of a request.
    scratch: Vec<u8>,
    /// The clock at this request's first call (see [`Hot::request_time`]).
    request_time: u64,
    /// A warning to raise at the next catch-up (the unconfigured CLI).
    pending: Option<String>,
}

impl ModuleGlobal for Hot {}

/// Registered with the module; PHP allocates and initialises it.
pub static HOT: ModuleGlobals<Hot> = ModuleGlobals::new();

/// What a lookup found.
pub enum Found {
    /// An interned string to hand back as it is.
    Interned(*mut zend_string),
    /// A value to copy (once this request retired too many sets).
    Copy(*const u8, usize),
    /// No such secret here.
    Missing,
}

impl Hot {
    /// This thread's state.
    ///
    /// # Safety
    /// Keep the reference only while calling nothing that may re-enter PHP code (a warning may run
    /// a user error handler that calls the extension again).
    #[inline]
    pub unsafe fn get<'a>() -> &'a mut Hot {
        // SAFETY: PHP runs one request per thread; the caller bounds the borrow as documented.
        unsafe { HOT.get_mut() }
    }

    /// The cache chosen for this thread's settings, when nothing may have changed since: same
    /// request, same settings generation, no fork.
    #[inline]
    pub fn chosen(&self, generation: u64, forks: u64) -> Option<&'static Cache> {
        if self.checked_generation != generation || self.forks != forks {
            return None;
        }
        // SAFETY: the Arc is kept by this thread's state until it is replaced, and a replaced one
        // is kept in `left` until the request ends (or forgotten, after a fork): no reference
        // handed out during a request outlives its cache.
        self.cache.as_ref().map(|c| unsafe { &*Arc::as_ptr(c) })
    }

    /// The time the hit path checks the TTL against under a SAPI that serves requests: the clock
    /// as it was when this thread's settings were last checked, at the first call of the request
    /// (and after a setting changed). The values current at a request's first call serve it to
    /// its end; the next request's first call reads the clock again (ARCHITECTURE §6).
    #[inline]
    pub fn request_time(&self) -> u64 {
        self.request_time
    }

    /// Records the clock at the start of a request (or after a setting changed).
    pub fn set_request_time(&mut self, now: u64) {
        self.request_time = now;
    }

    /// Whether the cache chosen for this thread still holds at the start of a request, checked
    /// cheaply: settings change only through `on_modify`, which moves the generation, so when it
    /// has not moved since the last check (and no fork happened) only the environment is read
    /// again. Records the check when it holds.
    pub fn still_chosen(&mut self, generation: u64, forks: u64) -> bool {
        if self.cache.is_none() || self.generation != generation || self.forks != forks {
            return false;
        }
        ini::environment_fingerprint(self.environment_read, &mut self.scratch);
        let same = self.scratch == self.environment;
        if same {
            self.checked_generation = generation;
        }
        same
    }

    /// Records that this thread's settings were checked at `generation` and `forks` and read as
    /// `settings` and `environment` (see `ini::fingerprint`); returns whether they differ from those
    /// the current cache was chosen for.
    pub fn settings_changed(
        &mut self,
        generation: u64,
        forks: u64,
        settings: &mut Vec<u8>,
        environment: &mut Vec<u8>,
        read: EnvironmentRead,
    ) -> bool {
        let changed = self.cache.is_none()
            || self.forks != forks
            || *settings != self.settings
            || *environment != self.environment;
        std::mem::swap(&mut self.settings, settings);
        std::mem::swap(&mut self.environment, environment);
        self.environment_read = read;
        (self.checked_generation, self.generation) = (generation, generation);
        changed
    }

    /// Serves from `cache` from now on (chosen under `forks`).
    pub fn switch_to(&mut self, cache: Arc<Cache>, forks: u64) -> &'static Cache {
        if self.forks != forks {
            // Made by the parent before a fork: forget, never drop (ARCHITECTURE §6).
            std::mem::forget(self.cache.take());
            std::mem::forget(std::mem::take(&mut self.left));
            self.forks = forks;
        }
        self.reader = Reader::default();
        if let Some(old) = self.cache.take() {
            self.left.push(old);
        }
        let current = self.cache.insert(cache);
        // SAFETY: as in `chosen`: the Arc stays in this thread's state at least until the request ends.
        unsafe { &*Arc::as_ptr(current) }
    }

    /// Keeps `warning` for the next catch-up of this thread.
    pub fn defer_warning(&mut self, warning: String) {
        self.pending = Some(warning);
    }

    /// Brings this thread's copy up to date when it is not; returns a warning to raise.
    #[inline]
    pub fn catch_up(&mut self, cache: &Cache, now: u64) -> Option<String> {
        if self.reader.is_current(cache, now) {
            return None;
        }
        self.slow_catch_up(cache, now)
    }

    #[cold]
    fn slow_catch_up(&mut self, cache: &Cache, now: u64) -> Option<String> {
        let warning = self.reader.catch_up(cache, now).map(|w| w.to_string()).or_else(|| self.pending.take());
        let current = self.reader.snapshot();
        if !matches!((&self.values, current), (Some(values), Some(snapshot)) if values.belongs_to(snapshot)) {
            self.retired.extend(self.values.take());
            if self.retired.len() < MAX_RETIRED {
                self.values = current.map(PhpValues::new);
            }
            release_free_memory();
        }
        warning
    }

    /// Looks the PHP string `name` (hashed `hash`, its bytes `bytes`) up in this thread's copy
    /// (making the PHP string of its value the first time it is asked for).
    #[inline]
    pub fn find(&mut self, name: *const zend_string, hash: u64, bytes: &[u8]) -> Found {
        match &mut self.values {
            Some(values) => match values.find(name, hash, bytes) {
                Some(string) => Found::Interned(string),
                None => Found::Missing,
            },
            None => {
                let Some(snapshot) = self.reader.snapshot() else {
                    return Found::Missing;
                };
                match snapshot.position_hashed(hash, bytes) {
                    Some(at) => {
                        let value = snapshot.entry(at).value;
                        Found::Copy(value.as_ptr(), value.len())
                    }
                    None => Found::Missing,
                }
            }
        }
    }

    /// After a request: no PHP value is left, so retired sets can go.
    pub fn after_request(&mut self) {
        self.retired.clear();
        self.left.clear();
        self.checked_generation = NOT_CHECKED;
        if let Some(values) = &mut self.values {
            values.forget_names();
        }
    }
}

/// Hands the heap pages a fetch left free back to the system. The document, the parser's tree and
/// the resolved copies are freed (and zeroed) once a set of values is built, but glibc keeps freed
/// heap pages resident: without this a worker holding 1 MiB of values kept about as much again of
/// free heap. Once per new set of values, so the cost falls on fetches.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of malloc's own arenas; it may run at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The `post_deactivate` hook: runs after the request's values are destroyed.
pub unsafe extern "C" fn post_deactivate() -> i32 {
    crate::runtime::guard((), || {
        // SAFETY: no PHP code runs after deactivation; nothing else borrows the globals.
        unsafe { Hot::get() }.after_request();
    });
    crate::ffi::SUCCESS
}
