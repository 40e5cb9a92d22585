//! A region of memory of its own for secret values, left out of core dumps.
//!
//! A core dump of a PHP worker would otherwise carry every value the process holds. The kernel
//! leaves out mappings marked `MADV_DONTDUMP`, and only a whole mapping can be marked: so values do
//! not share the heap with everything else, they are copied into a private anonymous mapping made
//! for them, filled once and then only read. It is zeroed and unmapped when dropped.
//!
//! It is not marked `MADV_DONTFORK`: a child forked after a fetch (PHP-FPM does not, but CLI
//! scripts with `pcntl_fork()` do) may still hold PHP strings that point into it.

use std::ptr::NonNull;

use zeroize::Zeroize;

/// Bytes copied in once, read many times, never dumped.
pub struct Arena {
    /// Start of the mapping; dangling when `capacity` is 0 (nothing mapped).
    base: NonNull<u8>,
    capacity: usize,
    used: usize,
}

// SAFETY: the arena owns its mapping outright; after filling (which needs `&mut`) it is only read.
unsafe impl Send for Arena {}
// SAFETY: as above: shared references only read bytes no one writes any more.
unsafe impl Sync for Arena {}

impl Arena {
    /// An arena with room for `capacity` bytes (a page at least, unless `capacity` is 0).
    pub fn new(capacity: usize) -> Arena {
        if capacity == 0 {
            return Arena { base: NonNull::dangling(), capacity: 0, used: 0 };
        }
        let page = page_size();
        let capacity = capacity.div_ceil(page) * page;
        // SAFETY: a fresh private anonymous mapping; no address is imposed, no file is involved.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                capacity,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            std::alloc::handle_alloc_error(
                std::alloc::Layout::from_size_align(capacity, page)
                    .unwrap_or(std::alloc::Layout::new::<u8>()),
            );
        }
        // SAFETY: `base..base + capacity` is the mapping just made. A kernel without MADV_DONTDUMP
        // refuses the advice; the values then stay usable, only dumpable.
        unsafe { libc::madvise(base, capacity, libc::MADV_DONTDUMP) };
        // SAFETY: mmap succeeded, so `base` is not null.
        let base = unsafe { NonNull::new_unchecked(base.cast::<u8>()) };
        Arena { base, capacity, used: 0 }
    }

    /// Room for `len` bytes aligned to `align` (a power of two), zeroed: its offset in the arena.
    /// `None` when the arena is full.
    pub fn reserve(&mut self, len: usize, align: usize) -> Option<usize> {
        let start = self.used.checked_next_multiple_of(align)?;
        let end = start.checked_add(len)?;
        if end > self.capacity {
            return None;
        }
        self.used = end;
        Some(start)
    }

    /// Copies `bytes` in; their offset. `None` when the arena is full.
    pub fn push(&mut self, bytes: &[u8]) -> Option<usize> {
        let at = self.reserve(bytes.len(), 1)?;
        self.bytes_mut(at, bytes.len()).copy_from_slice(bytes);
        Some(at)
    }

    /// The `len` bytes at `offset`, as placed by [`Arena::reserve`] or [`Arena::push`].
    ///
    /// # Panics
    /// When the range is not inside what was reserved.
    pub fn bytes(&self, offset: usize, len: usize) -> &[u8] {
        assert!(offset.checked_add(len).is_some_and(|end| end <= self.used), "outside the arena");
        // SAFETY: the range lies inside the mapping (checked above), which lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(offset), len) }
    }

    /// The `len` bytes at `offset`, for writing.
    ///
    /// # Panics
    /// When the range is not inside what was reserved.
    pub fn bytes_mut(&mut self, offset: usize, len: usize) -> &mut [u8] {
        assert!(offset.checked_add(len).is_some_and(|end| end <= self.used), "outside the arena");
        // SAFETY: as in `bytes`, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(offset), len) }
    }

    /// The address of the byte at `offset`: for the PHP layer, whose strings live in an arena.
    pub fn address(&self, offset: usize) -> *mut u8 {
        assert!(offset <= self.used, "outside the arena");
        // SAFETY: within (or one past) the used part of the mapping.
        unsafe { self.base.as_ptr().add(offset) }
    }

    /// The bytes in use.
    pub fn len(&self) -> usize {
        self.used
    }

    /// Whether nothing is in the arena.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        if self.capacity == 0 {
            return;
        }
        let used = self.used;
        self.bytes_mut(0, used).zeroize();
        // SAFETY: the mapping made in `new`, unmapped once; nothing borrows it past `self`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.capacity) };
    }
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Arena([REDACTED {} bytes])", self.used)
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).ok().filter(|s| s.is_power_of_two()).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping that holds `address`, from /proc/self/smaps.
    fn vm_flags(address: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((from, to)) = range.split_once('-') {
                    if let (Ok(from), Ok(to)) =
                        (usize::from_str_radix(from, 16), usize::from_str_radix(to, 16))
                    {
                        inside = (from..to).contains(&address);
                        continue;
                    }
                }
            }
            if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return flags.trim().to_string();
                }
            }
        }
        panic!("no mapping holds {address:#x}");
    }

    #[test]
    fn arena_mapping_is_left_out_of_core_dumps() {
        let mut arena = Arena::new(10);
        let at = arena.push(b"canary").unwrap();
        assert_eq!(arena.bytes(at, 6), b"canary");
        let flags = vm_flags(arena.address(at) as usize);
        assert!(flags.split(' ').any(|f| f == "dd"), "VmFlags: {flags}");
    }

    #[test]
    fn arena_reserve_aligns_and_refuses_past_capacity() {
        let mut arena = Arena::new(1);
        let page = arena.capacity;
        assert_eq!(arena.push(b"abc"), Some(0));
        assert_eq!(arena.reserve(8, 8), Some(8));
        assert_eq!(arena.len(), 16);
        assert_eq!(arena.reserve(page, 1), None);
        assert!(Arena::new(0).is_empty() && Arena::new(0).push(b"x").is_none());
        assert_eq!(Arena::new(0).push(b""), Some(0));
    }

    #[test]
    fn arena_debug_redacts() {
        let mut arena = Arena::new(16);
        arena.push(b"sk_live_secret").unwrap();
        assert_eq!(format!("{arena:?}"), "Arena([REDACTED 14 bytes])");
    }
}
