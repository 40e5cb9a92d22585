//! The values of a snapshot as PHP strings that `pantheon_get_secret()` hands back without a copy.
//!
//! Each string is made once per refresh and marked interned, as PHP marks the strings of ini
//! values and literals: PHP never counts references to it, never frees it and copies it before
//! any change. That makes a hit as cheap as `ini_get()`. The price is that a string must outlive
//! every PHP value that may point to it: a set that stops being current is retired, and retired
//! sets are freed only after the request, when no PHP value remains (see [`crate::hot`]).
//!
//! The strings of a set live in one arena of their own, left out of core dumps like the snapshot's
//! values (`secrets_runtime::snapshot::arena`), and zeroed and unmapped with the set.

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::Arc;

use ext_php_rs::ffi::zend_string;
use secrets_runtime::snapshot::arena::Arena;
use secrets_runtime::Snapshot;

use crate::ffi::{INTERNED_TYPE_INFO, IS_STR_INTERNED};

/// Offset of `val` in a zend_string: refcount, type info, hash, length.
const HEADER: usize = std::mem::offset_of!(zend_string, val);

/// The values of one snapshot, in the order of its entries.
pub struct PhpValues {
    /// Keeps the snapshot, so that its address identifies it for as long as these strings live.
    snapshot: Arc<Snapshot>,
    /// Holds the strings; freed with the set.
    _arena: Arena,
    strings: Vec<NonNull<zend_string>>,
    /// Per entry, the last interned PHP string that named it in this request. An interned string
    /// lives until the end of the request at least, so within a request the same pointer means
    /// the same name: the next lookup compares pointers, as PHP's own hash tables do.
    known_names: Vec<Cell<*const zend_string>>,
}

impl PhpValues {
    /// Makes a string for every entry of `snapshot`.
    pub fn new(snapshot: &Arc<Snapshot>) -> PhpValues {
        let align = std::mem::align_of::<zend_string>();
        let size = |len: usize| HEADER + len + 1;
        let mut arena =
            Arena::new(snapshot.entries().map(|e| size(e.value.len()).next_multiple_of(align)).sum());
        let offsets: Vec<usize> = snapshot
            .entries()
            .map(|entry| {
                let bytes = entry.value.as_bytes();
                let at =
                    arena.reserve(size(bytes.len()), align).unwrap_or_else(|| unreachable!("sized for all"));
                interned(arena.bytes_mut(at, size(bytes.len())), bytes);
                at
            })
            .collect();
        let strings: Vec<_> = offsets
            .into_iter()
            .map(|at| {
                // SAFETY: an address inside the arena's mapping, which is never null.
                unsafe { NonNull::new_unchecked(arena.address(at).cast::<zend_string>()) }
            })
            .collect();
        let known_names = vec![Cell::new(std::ptr::null()); strings.len()];
        PhpValues { snapshot: snapshot.clone(), _arena: arena, strings, known_names }
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

/// Writes into `place` (the header, `bytes` and the terminating NUL, aligned for a zend_string) a
/// persistent, interned zend_string, as `zend_string_init_interned` makes one. The arena that holds
/// it is zeroed and unmapped when the set is dropped, once no PHP value can point to it (after the
/// request, or never handed out).
fn interned(place: &mut [u8], bytes: &[u8]) {
    assert_eq!(place.len(), HEADER + bytes.len() + 1);
    assert_eq!(place.as_ptr().align_offset(std::mem::align_of::<zend_string>()), 0);
    let raw = place.as_mut_ptr().cast::<zend_string>();
    // SAFETY: `place` is exactly a header, the bytes and a NUL, suitably aligned (checked above),
    // and nothing else refers to it yet.
    unsafe {
        (*raw).gc.refcount = 1;
        (*raw).gc.u.type_info = INTERNED_TYPE_INFO;
        (*raw).h = 0;
        (*raw).len = bytes.len();
    }
    place[HEADER..HEADER + bytes.len()].copy_from_slice(bytes);
    place[HEADER + bytes.len()] = 0;
}
