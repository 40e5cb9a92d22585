//! The cache's clock: a monotonic tick in milliseconds, cheap enough to read on every call.

/// Milliseconds of `CLOCK_MONOTONIC_COARSE`: a few nanoseconds to read (no system call), with a
/// resolution of a few milliseconds, which is plenty for TTLs counted in seconds.
#[inline]
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}
