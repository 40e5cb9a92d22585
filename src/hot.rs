//! The hit path's per-thread state, in PHP module globals (one per thread under ZTS, a plain
//! static otherwise): the thread's [`Reader`] of the cache and the PHP strings of its values.

use ext_php_rs::ffi::zend_string;
use ext_php_rs::zend::{ModuleGlobal, ModuleGlobals};
use secrets_core::reader::Reader;
use secrets_core::Cache;

use crate::values::PhpValues;

/// How many sets of values one request may retire before hits hand out copies instead: a CLI
/// script that runs for days with a short TTL must not keep every old set until it ends.
const MAX_RETIRED: usize = 16;

/// The module globals of the extension.
#[derive(Default)]
pub struct Hot {
    reader: Reader,
    values: Option<PhpValues>,
    /// Sets that stopped being current during this request; PHP values may still point to them.
    retired: Vec<PhpValues>,
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
        let warning = self.reader.catch_up(cache, now);
        let current = self.reader.snapshot();
        if !matches!((&self.values, current), (Some(values), Some(snapshot)) if values.belongs_to(snapshot)) {
            self.retired.extend(self.values.take());
            if self.retired.len() < MAX_RETIRED {
                self.values = current.map(PhpValues::new);
            }
        }
        warning
    }

    /// Looks the PHP string `name` (hashed `hash`, its bytes `bytes`) up in this thread's copy.
    #[inline]
    pub fn find(&self, name: *const zend_string, hash: u64, bytes: &[u8]) -> Found {
        match &self.values {
            Some(values) => match values.position(name, hash, bytes) {
                Some(at) => Found::Interned(values.get(at)),
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
        if let Some(values) = &self.values {
            values.forget_names();
        }
    }
}

/// The `post_deactivate` hook: runs after the request's values are destroyed.
pub unsafe extern "C" fn post_deactivate() -> i32 {
    crate::runtime::guard((), || {
        // SAFETY: no PHP code runs after deactivation; nothing else borrows the globals.
        unsafe { Hot::get() }.after_request();
    });
    0
}
