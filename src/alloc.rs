//! The allocator of the extension's Rust code: the system's, with every block zeroed before it is
//! freed (and before a reallocation frees the old one).
//!
//! A fetch passes the values through buffers that are not ours to zero: the TLS library's records,
//! the HTTP client's, the JSON parser's. Freed without zeroing, their bytes would stay in the heap,
//! and in a core dump, until reused. Values that stay are in arenas left out of core dumps
//! (`secrets_runtime::snapshot::arena`); this catches the copies on their way. PHP's own memory is
//! PHP's: its allocator is not this one. The hit path allocates nothing from Rust, so the cost
//! falls on fetches.

use std::alloc::{GlobalAlloc, Layout, System};

use zeroize::Zeroize;

/// The system allocator, zeroing on free.
pub struct ZeroOnFree;

// SAFETY: every call is passed on to the system allocator with the same arguments; `dealloc` only
// writes to the block it is about to free, which the caller owns and no longer uses.
unsafe impl GlobalAlloc for ZeroOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller of `GlobalAlloc::alloc` promises.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller of `GlobalAlloc::alloc_zeroed` promises.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes that this allocator handed out.
        unsafe {
            std::slice::from_raw_parts_mut(ptr, layout.size()).zeroize();
            System.dealloc(ptr, layout);
        }
    }

    // `realloc` is the trait's own: allocate, copy, `dealloc` (which zeroes the old block). The
    // system's in-place growth would leave the old bytes behind when it moves the block.
}

#[global_allocator]
static ALLOCATOR: ZeroOnFree = ZeroOnFree;
