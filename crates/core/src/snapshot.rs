//! The resolved secrets of one fetch, as an immutable lookup table.
//!
//! Lookups take a precomputed hash of the name, so that the PHP layer can pass the hash PHP
//! already keeps in every string (`ZSTR_H`) and the hit path hashes nothing.

use crate::document::Value;

/// A resolved secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The secret's name.
    pub name: String,
    /// Its value in this environment.
    pub value: Value,
    /// Its type (`runtime`, `env`, `composer`, …).
    pub kind: String,
    /// Its scopes.
    pub scopes: Vec<String>,
}

/// A hash function over names; the same one must serve building and lookup.
pub type NameHash = fn(&[u8]) -> u64;

/// The resolved secrets of one fetch, in name order, with an open-addressing index.
#[derive(Debug)]
pub struct Snapshot {
    entries: Vec<Entry>,
    hashes: Vec<u64>,
    /// Index + 1 into `entries`; 0 marks an empty slot. Its length is a power of two.
    slots: Vec<u32>,
    hash: NameHash,
    site_id: String,
    version: String,
}

impl Snapshot {
    /// Builds the table; `hash` is the function lookups will use.
    pub fn new(entries: Vec<Entry>, hash: NameHash) -> Snapshot {
        let size = (entries.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![0u32; size];
        let hashes: Vec<u64> = entries.iter().map(|e| hash(e.name.as_bytes())).collect();
        for (i, h) in hashes.iter().enumerate() {
            let mut at = (*h as usize) & (size - 1);
            while slots[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            slots[at] = i as u32 + 1;
        }
        Snapshot { entries, hashes, slots, hash, site_id: String::new(), version: String::new() }
    }

    /// The position in [`Snapshot::entries`] of `name`, whose hash under this table's function is `h`.
    #[inline]
    pub fn position_hashed(&self, h: u64, name: &[u8]) -> Option<usize> {
        self.position_by(h, |_, entry| entry.as_bytes() == name)
    }

    /// The position of the entry with hash `h` for which `is_name(position, name)` holds; the
    /// caller may know a cheaper test than comparing bytes (PHP compares interned pointers).
    #[inline]
    pub fn position_by(&self, h: u64, mut is_name: impl FnMut(usize, &str) -> bool) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut at = (h as usize) & mask;
        loop {
            let slot = self.slots[at] as usize;
            if slot == 0 {
                return None;
            }
            if self.hashes[slot - 1] == h && is_name(slot - 1, &self.entries[slot - 1].name) {
                return Some(slot - 1);
            }
            at = (at + 1) & mask;
        }
    }

    /// Finds `name`, whose hash under this table's function is `h`.
    #[inline]
    pub fn get_hashed(&self, h: u64, name: &[u8]) -> Option<&Entry> {
        self.position_hashed(h, name).map(|at| &self.entries[at])
    }

    /// Finds `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.get_hashed((self.hash)(name.as_bytes()), name.as_bytes())
    }

    /// The same snapshot, labelled with the site and version of the document it came from.
    pub fn from_document(mut self, site_id: &str, version: &str) -> Snapshot {
        self.site_id = site_id.to_string();
        self.version = version.to_string();
        self
    }

    /// The site the values belong to (the document's `SiteID`).
    pub fn site_id(&self) -> &str {
        &self.site_id
    }

    /// The document's `Version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every entry, in name order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// How many secrets the snapshot holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the snapshot holds no secret.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// PHP's string hash (DJBX33A with the top bit set, as `zend_inline_hash_func` on 64-bit) for
/// ASCII. PHP treats bytes above 0x7f as signed on x86-64 and unsigned on aarch64; names are
/// printable ASCII, so a name with such a byte is never in a snapshot whatever its hash.
pub fn zend_hash(bytes: &[u8]) -> u64 {
    let h = bytes.iter().fold(5381u64, |h, b| h.wrapping_mul(33).wrapping_add(u64::from(*b)));
    h | 0x8000_0000_0000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, value: &str) -> Entry {
        Entry {
            name: name.into(),
            value: Value::new(value.into()),
            kind: "runtime".into(),
            scopes: vec!["web".into()],
        }
    }

    #[test]
    fn snapshot_get_finds_every_entry_and_nothing_else() {
        let entries: Vec<Entry> = (0..1000).map(|i| entry(&format!("K{i}"), &format!("v{i}"))).collect();
        let snap = Snapshot::new(entries, zend_hash);
        for i in 0..1000 {
            assert_eq!(snap.get(&format!("K{i}")).map(|e| e.value.as_str()), Some(format!("v{i}").as_str()));
        }
        assert!(snap.get("K1000").is_none());
        assert!(snap.get("").is_none());
        assert_eq!(snap.len(), 1000);
    }

    #[test]
    fn snapshot_get_survives_colliding_hashes() {
        fn constant(_: &[u8]) -> u64 {
            7
        }
        let snap = Snapshot::new(vec![entry("A", "a"), entry("B", "b"), entry("C", "c")], constant);
        assert_eq!(snap.get("B").map(|e| e.value.as_str()), Some("b"));
        assert_eq!(snap.get("C").map(|e| e.value.as_str()), Some("c"));
        assert!(snap.get("D").is_none());
    }

    #[test]
    fn snapshot_empty_answers_none() {
        let snap = Snapshot::new(Vec::new(), zend_hash);
        assert!(snap.is_empty() && snap.get("A").is_none());
    }

    #[test]
    fn zend_hash_matches_php() {
        // Values computed by PHP's zend_string_hash_val on 64-bit Linux.
        assert_eq!(zend_hash(b""), 5381 | 0x8000_0000_0000_0000);
        assert_eq!(zend_hash(b"a"), (5381 * 33 + 97) | 0x8000_0000_0000_0000);
    }
}
