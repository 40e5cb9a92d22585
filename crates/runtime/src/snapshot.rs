//! The resolved secrets of one fetch, as an immutable lookup table.
//!
//! Lookups take a precomputed hash of the name, so that the PHP layer can pass the hash PHP
//! already keeps in every string (`ZSTR_H`) and the hit path hashes nothing. The values are copied
//! into an [`arena::Arena`] of their own, left out of core dumps, and the resolved copies they came
//! from are zeroed as they are dropped.

pub mod arena;

use arena::Arena;
use secrets_core::resolve::Entry;
use secrets_core::{Scope, SecretType};

/// A hash function over names; the same one must serve building and lookup.
pub type NameHash = fn(&[u8]) -> u64;

/// A secret as a snapshot holds it: everything but the value, which is in the snapshot's arena.
#[derive(Debug)]
struct Held {
    name: String,
    kind: SecretType,
    scopes: Vec<Scope>,
    /// Offset and length of the value in the arena.
    value: (usize, usize),
}

/// A secret of a snapshot, borrowed from it.
#[derive(Clone, Copy)]
pub struct HeldEntry<'a> {
    /// The secret's name.
    pub name: &'a str,
    /// Its value in this environment (in the snapshot's arena).
    pub value: &'a str,
    /// Its type (`runtime`, `env`, `composer`, …).
    pub kind: &'a SecretType,
    /// Its scopes.
    pub scopes: &'a [Scope],
}

impl std::fmt::Debug for HeldEntry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldEntry")
            .field("name", &self.name)
            .field("value", &"[REDACTED]")
            .field("kind", &self.kind)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The resolved secrets of one fetch, in name order, with an open-addressing index.
#[derive(Debug)]
pub struct Snapshot {
    entries: Vec<Held>,
    values: Arena,
    hashes: Vec<u64>,
    /// Index + 1 into `entries`; 0 marks an empty slot. Its length is a power of two.
    slots: Vec<u32>,
    hash: NameHash,
    site_id: String,
    version: String,
    environment: String,
}

impl Snapshot {
    /// Builds the table; `hash` is the function lookups will use. The values move into the
    /// snapshot's arena; the `Entry` values they came from are zeroed as they are dropped.
    pub fn new(entries: Vec<Entry>, hash: NameHash) -> Snapshot {
        let mut values = Arena::new(entries.iter().map(|e| e.value.len()).sum());
        let entries: Vec<Held> = entries
            .into_iter()
            .map(|entry| {
                let Entry { name, value, kind, scopes } = entry;
                let at =
                    values.push(value.as_bytes()).unwrap_or_else(|| unreachable!("sized for every value"));
                Held { name, kind, scopes, value: (at, value.len()) }
            })
            .collect();
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
        Snapshot {
            entries,
            values,
            hashes,
            slots,
            hash,
            site_id: String::new(),
            version: String::new(),
            environment: String::new(),
        }
    }

    fn view<'a>(&'a self, held: &'a Held) -> HeldEntry<'a> {
        let (at, len) = held.value;
        let bytes = self.values.bytes(at, len);
        // SAFETY: the bytes were copied from a `String` in `new` and never changed since.
        let value = unsafe { std::str::from_utf8_unchecked(bytes) };
        HeldEntry { name: &held.name, value, kind: &held.kind, scopes: &held.scopes }
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
    pub fn get_hashed(&self, h: u64, name: &[u8]) -> Option<HeldEntry<'_>> {
        self.position_hashed(h, name).map(|at| self.entry(at))
    }

    /// Finds `name`.
    pub fn get(&self, name: &str) -> Option<HeldEntry<'_>> {
        self.get_hashed((self.hash)(name.as_bytes()), name.as_bytes())
    }

    /// The entry at `position` (as [`Snapshot::position_hashed`] gives it).
    ///
    /// # Panics
    /// When `position` is not below [`Snapshot::len`].
    #[inline]
    pub fn entry(&self, position: usize) -> HeldEntry<'_> {
        self.view(&self.entries[position])
    }

    /// The same snapshot, labelled with the site and version of the document it came from and the
    /// environment its values were resolved for.
    pub fn from_document(mut self, site_id: &str, version: &str, environment: &str) -> Snapshot {
        self.site_id = site_id.to_string();
        self.version = version.to_string();
        self.environment = environment.to_string();
        self
    }

    /// The environment the values were resolved for.
    pub fn environment(&self) -> &str {
        &self.environment
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
    pub fn entries(&self) -> impl ExactSizeIterator<Item = HeldEntry<'_>> + '_ {
        self.entries.iter().map(|held| self.view(held))
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
    use secrets_core::document::{Document, Value};
    use secrets_core::resolve::resolve;
    use secrets_core::Scope;

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
            assert_eq!(snap.get(&format!("K{i}")).map(|e| e.value), Some(format!("v{i}").as_str()));
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
        assert_eq!(snap.get("B").map(|e| e.value), Some("b"));
        assert_eq!(snap.get("C").map(|e| e.value), Some("c"));
        assert!(snap.get("D").is_none());
    }

    #[test]
    fn snapshot_empty_answers_none() {
        let snap = Snapshot::new(Vec::new(), zend_hash);
        assert!(snap.is_empty() && snap.get("A").is_none());
    }

    #[test]
    fn snapshot_values_live_in_the_arena_and_debug_shows_none() {
        let snap = Snapshot::new(vec![entry("A", "sk_live_a"), entry("B", ""), entry("C", "ccc")], zend_hash);
        let a = snap.get("A").unwrap();
        assert_eq!(a.value, "sk_live_a");
        assert_eq!(*a.kind, "runtime");
        assert_eq!(a.scopes, &["web".to_string()][..]);
        let range = snap.values.address(0) as usize..snap.values.address(snap.values.len()) as usize;
        for entry in snap.entries() {
            assert!(
                range.contains(&(entry.value.as_ptr() as usize)) || entry.value.is_empty(),
                "{}",
                entry.name
            );
        }
        assert_eq!(snap.entry(2).value, "ccc");
        let debug = format!("{snap:?} {a:?}");
        assert!(!debug.contains("sk_live_a") && !debug.contains("ccc"), "{debug}");
    }

    #[test]
    fn zend_hash_matches_php() {
        // Values computed by PHP's zend_string_hash_val on 64-bit Linux.
        assert_eq!(zend_hash(b""), 5381 | 0x8000_0000_0000_0000);
        assert_eq!(zend_hash(b"a"), (5381 * 33 + 97) | 0x8000_0000_0000_0000);
    }

    /// A snapshot and its entries, formatted with `{:?}`, show no value (the document and its
    /// entries are checked in the core crate, `document.rs`).
    #[test]
    fn debug_snapshot_never_shows_a_value() {
        const CANARY: &str = "canary-4f1d9b";
        let json = format!(
            r#"{{"SiteID": "s", "Secrets": {{"A": {{"Value": "{CANARY}-site", "Scopes": ["web"],
              "EnvValues": {{"live": "{CANARY}-live"}}, "OrgValues": {{"default": "{CANARY}-org"}}}}}}}}"#
        );
        let doc = Document::parse(json.as_bytes()).unwrap();
        let snapshot = Snapshot::new(resolve(&doc, "live", &Scope::Web), zend_hash);
        assert_eq!(snapshot.get("A").map(|e| e.value), Some(format!("{CANARY}-live").as_str()));
        let shown = [format!("{snapshot:?}"), format!("{:?}", snapshot.entries().collect::<Vec<_>>())];
        for text in &shown {
            assert!(!text.contains(CANARY), "a value in {text}");
        }
    }
}
