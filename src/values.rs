//! The values of a snapshot as PHP strings that `pantheon_get_secret()` hands back without a copy.
//!
//! Each string is made the first time its secret is asked for after a refresh, and marked
//! interned, as PHP marks the strings of ini values and literals: PHP never counts references to
//! it, never frees it and copies it before any change. That makes a hit as cheap as `ini_get()`.
//! The price is that a string must outlive every PHP value that may point to it: a set that stops
//! being current is retired, and retired sets are freed only after the request, when no PHP value
//! remains (see [`crate::hot`]).
//!
//! The strings of a set live in one arena of their own, left out of core dumps like the snapshot's
//! values (`secrets_runtime::snapshot::arena`), and zeroed and unmapped with the set. The arena is
//! sized for every string but filled only as they are made: the pages of secrets never asked
//! for are never touched, so a worker holds a second copy only of the values its pages read.

use std::sync::Arc;

use ext_php_rs::ffi::zend_string;
use secrets_runtime::snapshot::arena::Arena;
use secrets_runtime::Snapshot;

use crate::ffi::{INTERNED_TYPE_INFO, IS_STR_INTERNED};

/// Offset of `val` in a zend_string: refcount, type info, hash, length.
const HEADER: usize = std::mem::offset_of!(zend_string, val);
/// The alignment of a zend_string.
const ALIGN: usize = std::mem::align_of::<zend_string>();

/// The values of one snapshot, in the order of its entries.
pub struct PhpValues {
    /// Keeps the snapshot, so that its address identifies it for as long as these strings live.
    snapshot: Arc<Snapshot>,
    /// Holds the strings, in the order they were made; sized for all of them, freed with the set.
    arena: Arena,
    /// Per entry, its string once made (null until its secret is first asked for).
    strings: Vec<*mut zend_string>,
    /// Per entry, the last interned PHP string that named it in this request. An interned string
    /// lives until the end of the request at least, so within a request the same pointer means
    /// the same name: the next lookup compares pointers, as PHP's own hash tables do.
    known_names: Vec<*const zend_string>,
    /// The entries whose name was learnt in this request, for [`PhpValues::forget_names`].
    named: Vec<usize>,
}

impl PhpValues {
    /// Room for a string for every entry of `snapshot`; each is made when first asked for.
    pub fn new(snapshot: &Arc<Snapshot>) -> PhpValues {
        let arena = Arena::new(snapshot.entries().map(|e| size(e.value.len()).next_multiple_of(ALIGN)).sum());
        let strings = vec![std::ptr::null_mut(); snapshot.len()];
        let known_names = vec![std::ptr::null(); snapshot.len()];
        PhpValues { snapshot: snapshot.clone(), arena, strings, known_names, named: Vec::new() }
    }

    /// Whether these are the values of `snapshot`.
    #[inline]
    pub fn belongs_to(&self, snapshot: &Arc<Snapshot>) -> bool {
        Arc::ptr_eq(&self.snapshot, snapshot)
    }

    /// The string of the secret named by the PHP string `name` (hashed `hash`, its bytes `bytes`),
    /// made now if this is the first time it is asked for.
    #[inline]
    pub fn find(&mut self, name: *const zend_string, hash: u64, bytes: &[u8]) -> Option<*mut zend_string> {
        let PhpValues { snapshot, known_names, named, .. } = self;
        let at = snapshot.position_by(hash, |at, entry| {
            // SAFETY: `position_by` passes positions of the snapshot's entries, below its length,
            // which is the length of `known_names` (made for this snapshot in `new`).
            let known = unsafe { known_names.get_unchecked_mut(at) };
            if *known == name {
                return true;
            }
            let same = entry.as_bytes() == bytes;
            // SAFETY: `name` is the live argument string of the current call.
            if same && unsafe { (*name).gc.u.type_info } & IS_STR_INTERNED != 0 {
                if known.is_null() {
                    named.push(at);
                }
                *known = name;
            }
            same
        })?;
        // SAFETY: as above: `at` is a position of the snapshot, and `strings` has one slot per entry.
        match unsafe { *self.strings.get_unchecked(at) } {
            s if s.is_null() => Some(self.make(at)),
            s => Some(s),
        }
    }

    /// Forgets the names seen during the request: the next request's interned strings may reuse
    /// the addresses of this one's. Costs as many stores as names were learnt, not entries held.
    pub fn forget_names(&mut self) {
        for at in self.named.drain(..) {
            self.known_names[at] = std::ptr::null();
        }
    }

    #[cold]
    fn make(&mut self, position: usize) -> *mut zend_string {
        let bytes = self.snapshot.entry(position).value.as_bytes();
        // Each entry's string is made once, and the arena has room for every entry's.
        let at =
            self.arena.reserve(size(bytes.len()), ALIGN).unwrap_or_else(|| unreachable!("sized for all"));
        interned(self.arena.bytes_mut(at, size(bytes.len())), bytes);
        let string = self.arena.address(at).cast::<zend_string>();
        self.strings[position] = string;
        string
    }
}

/// The bytes a zend_string of `len` bytes takes: the header, the bytes and a NUL.
fn size(len: usize) -> usize {
    HEADER + len + 1
}

/// Writes into `place` (the header, `bytes` and the terminating NUL, aligned for a zend_string) a
/// persistent, interned zend_string, as `zend_string_init_interned` makes one. The arena that holds
/// it is zeroed and unmapped when the set is dropped, once no PHP value can point to it (after the
/// request, or never handed out).
fn interned(place: &mut [u8], bytes: &[u8]) {
    assert_eq!(place.len(), HEADER + bytes.len() + 1);
    assert_eq!(place.as_ptr().align_offset(ALIGN), 0);
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
