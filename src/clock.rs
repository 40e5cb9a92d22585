//! The cache's clock: a monotonic tick in milliseconds, cheap enough to read on every call.
//!
//! `CLOCK_MONOTONIC_COARSE` needs no system call and has a resolution of a few milliseconds,
//! plenty for TTLs counted in seconds. It is read through the kernel's vDSO function directly:
//! going through libc's `clock_gettime` wrapper costs almost twice as much.
//!
//! The hit path reads it once per request (at the request's first call, see `Hot::request_time`)
//! under the SAPIs that serve requests, and on every call where one "request" is a script that
//! may run for days (the CLI, phpdbg, embed): ARCHITECTURE §6.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int;

/// The vDSO's `__vdso_clock_gettime`; 0 until looked up, 1 when there is none (libc is used).
static VDSO_CLOCK: AtomicUsize = AtomicUsize::new(0);

/// Milliseconds of `CLOCK_MONOTONIC_COARSE`.
#[inline]
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    match VDSO_CLOCK.load(Ordering::Relaxed) {
        0 | 1 => libc_clock(&mut ts),
        // SAFETY: a value above 1 is the address of `__vdso_clock_gettime`, found by `lookup`;
        // `ts` is a valid, writable timespec.
        f => unsafe { std::mem::transmute::<usize, ClockGettime>(f)(libc::CLOCK_MONOTONIC_COARSE, &mut ts) },
    };
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

#[cold]
fn libc_clock(ts: &mut libc::timespec) -> libc::c_int {
    if VDSO_CLOCK.load(Ordering::Relaxed) == 0 {
        VDSO_CLOCK.store(lookup(), Ordering::Relaxed);
    }
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, ts) }
}

/// The address of the vDSO's `__vdso_clock_gettime`, or 1 when it cannot be found.
fn lookup() -> usize {
    // SAFETY: RTLD_NOLOAD only returns the vDSO already mapped into every Linux process (or null);
    // dlsym on a valid handle returns the symbol's address or null.
    unsafe {
        let vdso = libc::dlopen(c"linux-vdso.so.1".as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD);
        if vdso.is_null() {
            return 1;
        }
        let f = libc::dlsym(vdso, c"__vdso_clock_gettime".as_ptr());
        if f.is_null() {
            1
        } else {
            f as usize
        }
    }
}

/// Whether the hit path reads the clock on every call: set once, at module start-up.
static PER_CALL: AtomicBool = AtomicBool::new(true);

/// Module start-up: a SAPI named `sapi` runs scripts that may outlive any TTL (`cli`, `phpdbg`,
/// `embed`), so the TTL is checked at every call; others serve requests, checked at their first call.
pub fn startup(sapi: &str) {
    PER_CALL.store(matches!(sapi, "cli" | "phpdbg" | "embed"), Ordering::Relaxed);
}

/// Whether the TTL is checked against the clock at every call rather than once per request.
#[inline]
pub fn per_call() -> bool {
    PER_CALL.load(Ordering::Relaxed)
}
