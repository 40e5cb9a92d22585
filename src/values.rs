//! The values of a snapshot as PHP strings that `pantheon_get_secret()` hands back without a copy.
//!
//! Each string is made once per refresh and marked interned, as PHP marks the strings of ini
//! values and literals: PHP never counts references to it, never frees it and copies it before
//! any change. That makes a hit as cheap as `ini_get()`. The price is that a string must outlive
//! every PHP value that may point to it: a set that stops being current is retired, and retired
//! sets are freed only after the request, when no PHP value remains (see [`crate::hot`]).

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::Arc;

use ext_php_rs::ffi::zend_string;
use secrets_core::Snapshot;
use zeroize::Zeroize;

/// GC_STRING | IS_STR_INTERNED | IS_STR_PERSISTENT | IS_STR_VALID_UTF8 (Zend/zend_types.h).
const INTERNED_TYPE_INFO: u32 = 6 | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 9);
/// IS_STR_INTERNED (GC_IMMUTABLE).
const IS_STR_INTERNED: u32 = 1 << 6;
/// Offset of `val` in a zend_string: refcount, type info, hash, length.
const HEADER: usize = std::mem::offset_of!(zend_string, val);

/// The values of one snapshot, in the order of its entries.
pub struct PhpValues {
    /// Keeps the snapshot, so that its address identifies it for as long as these strings live.
    snapshot: Arc<Snapshot>,
    strings: Vec<NonNull<zend_string>>,
    /// Per entry, the last interned PHP string that named it in this request. An interned string
    /// lives until the end of the request at least, so within a request the same pointer means
    /// the same name: the next lookup compares pointers, as PHP's own hash tables do.
    known_names: Vec<Cell<*const zend_string>>,
}

impl PhpValues {
    /// Makes a string for every entry of `snapshot`.
    pub fn new(snapshot: &Arc<Snapshot>) -> PhpValues {
        let strings: Vec<_> =
            snapshot.entries().iter().map(|entry| interned(entry.value.as_bytes())).collect();
        let known_names = vec![Cell::new(std::ptr::null()); strings.len()];
        PhpValues { snapshot: snapshot.clone(), strings, known_names }
    }

    /// Whether these are the values of `snapshot`.
    #[inline]
    pub fn belongs_to(&self, snapshot: &Arc<Snapshot>) -> bool {
        Arc::ptr_eq(&self.snapshot, snapshot)
    }

    /// The position of the secret named by the PHP string `name` (hashed `hash`, its bytes `bytes`).
    #[inline]
    pub fn position(&self, name: *const zend_string, hash: u64, bytes: &[u8]) -> Option<usize> {
        self.snapshot.position_by(hash, |at, entry| {
            let known = &self.known_names[at];
            if known.get() == name {
                return true;
            }
            let same = entry.as_bytes() == bytes;
            // SAFETY: `name` is the live argument string of the current call.
            if same && unsafe { (*name).gc.u.type_info } & IS_STR_INTERNED != 0 {
                known.set(name);
            }
            same
        })
    }

    /// Forgets the names seen during the request: the next request's interned strings may reuse
    /// the addresses of this one's.
    pub fn forget_names(&self) {
        self.known_names.iter().for_each(|known| known.set(std::ptr::null()));
    }

    /// The string of the entry at `position`.
    #[inline]
    pub fn get(&self, position: usize) -> *mut zend_string {
        self.strings[position].as_ptr()
    }
}

impl Drop for PhpValues {
    fn drop(&mut self) {
        for s in self.strings.drain(..) {
            // SAFETY: made by `interned` below with libc::malloc; this set owns it, and it is only
            // dropped once no PHP value can point to it (after the request, or never handed out).
            unsafe {
                let len = (*s.as_ptr()).len;
                std::slice::from_raw_parts_mut(s.as_ptr().cast::<u8>(), HEADER + len + 1).zeroize();
                libc::free(s.as_ptr().cast());
            }
        }
    }
}

/// A persistent, interned zend_string holding `bytes`, as `zend_string_init_interned` makes one.
fn interned(bytes: &[u8]) -> NonNull<zend_string> {
    // SAFETY: the allocation holds the header, the bytes and the terminating NUL that PHP expects.
    unsafe {
        let raw = libc::malloc(HEADER + bytes.len() + 1).cast::<zend_string>();
        let Some(s) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<zend_string>())
        };
        (*raw).gc.refcount = 1;
        (*raw).gc.u.type_info = INTERNED_TYPE_INFO;
        (*raw).h = 0;
        (*raw).len = bytes.len();
        let val = (*raw).val.as_mut_ptr().cast::<u8>();
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), val, bytes.len());
        *val.add(bytes.len()) = 0;
        s
    }
}
