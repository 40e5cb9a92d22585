//! Encryption at rest and the small pieces of cryptography the service needs.
//!
//! Values are sealed with AES-256-GCM under a master key that lives in a file outside the
//! database. The owner, the secret's name, the environment, and the secret's type and scopes are
//! bound in as associated data, so a ciphertext copied onto another row fails to open, and so
//! does one whose secret's type or scopes were changed in the database.
//!
//! The key file is a keyring, one key per line (`<id> <hex>`): the current key (the database
//! names it) seals, and every older key stays for opening until `key:prune` removes it, so a
//! copy of the database taken before a rotation still opens with today's key file. Each stored
//! value records the id of the key that sealed it, which is what lets `key:rotate` re-encrypt
//! row by row while readers keep working.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A 256-bit key, zeroed when dropped.
pub type KeyBytes = Zeroizing<[u8; 32]>;

/// Why a key file or a ciphertext could not be used. Never carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file could not be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file is not in the expected format.
    #[error("master key file {path}: line {line} is not `<id> <64 hex digits>`")]
    Format {
        /// The key file.
        path: PathBuf,
        /// The 1-based line at fault.
        line: usize,
    },
    /// A value was sealed under a key the key file no longer holds.
    #[error("no master key with id {0} in the key file")]
    UnknownKey(u32),
    /// The ciphertext does not open under this key and associated data.
    #[error("the ciphertext does not belong to this row or the key is wrong")]
    Open,
}

/// What a sealed value is bound to: a ciphertext opens only with the same binding.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// `org` or `site`.
    pub owner_kind: &'a str,
    /// The organization or site id.
    pub owner: &'a str,
    /// The secret's name.
    pub name: &'a str,
    /// The environment, or `""` for the default value.
    pub env: &'a str,
    /// The secret's type.
    pub kind: &'a str,
    /// The secret's scopes as stored, comma-separated; their order does not matter.
    pub scopes: &'a str,
}

impl Binding<'_> {
    /// `pantheon-secrets/v2`, then owner kind, owner, name, environment, type and the sorted
    /// scopes, each after a NUL. Names, owners, environments, types and scopes never contain
    /// NUL, so the encoding is unambiguous.
    fn aad(&self) -> Vec<u8> {
        let mut scopes: Vec<&str> = self.scopes.split(',').collect();
        scopes.sort_unstable();
        scopes.dedup();
        let scopes = scopes.join(",");
        let mut aad = b"pantheon-secrets/v2".to_vec();
        for part in [self.owner_kind, self.owner, self.name, self.env, self.kind, &scopes] {
            aad.push(0);
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }

    /// The associated data of schema versions 1 and 2, which bound neither type nor scopes:
    /// read only by the migration that re-seals those values.
    fn aad_v1(&self) -> Vec<u8> {
        let mut aad = b"pantheon-secrets/v1".to_vec();
        for part in [self.owner_kind, self.owner, self.name, self.env] {
            aad.push(0);
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

/// A value as stored: which key sealed it, the nonce and the ciphertext (tag included).
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The id of the master key.
    pub key_id: u32,
    /// The 96-bit GCM nonce, random per value.
    pub nonce: Vec<u8>,
    /// The ciphertext with its authentication tag.
    pub ciphertext: Vec<u8>,
}

/// The master keys of one data directory, read from the key file and re-read when a value names
/// a key that is not loaded yet (another process rotated the key). Its `Debug` shows the file
/// and the key ids, never a key.
pub struct Keyring {
    path: PathBuf,
    keys: RwLock<BTreeMap<u32, KeyBytes>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Keyring")
            .field("path", &self.path)
            .field("key_ids", &keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Creates a key file with one fresh key (id 1), mode 0600. Fails if the file exists.
    pub fn create(path: &Path) -> Result<Keyring, CryptoError> {
        let mut keys = BTreeMap::new();
        keys.insert(1, random_key());
        write_key_file(path, &keys, true)?;
        Ok(Keyring { path: path.to_path_buf(), keys: RwLock::new(keys) })
    }

    /// Opens an existing key file.
    pub fn open(path: &Path) -> Result<Keyring, CryptoError> {
        let keys = read_key_file(path)?;
        Ok(Keyring { path: path.to_path_buf(), keys: RwLock::new(keys) })
    }

    /// The key with this id, re-reading the file once when it is not loaded.
    fn key(&self, id: u32) -> Result<KeyBytes, CryptoError> {
        if let Some(key) = self.read_keys().get(&id) {
            return Ok(key.clone());
        }
        let fresh = read_key_file(&self.path)?;
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        for (k, v) in fresh {
            keys.entry(k).or_insert(v);
        }
        keys.get(&id).cloned().ok_or(CryptoError::UnknownKey(id))
    }

    fn read_keys(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u32, KeyBytes>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Seals `plaintext` under key `key_id`, bound to `binding`.
    pub fn seal(&self, key_id: u32, binding: Binding<'_>, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let key = self.key(key_id)?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key[..]));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = binding.aad();
        let ciphertext =
            cipher.encrypt(&nonce, Payload { msg: plaintext, aad: &aad }).map_err(|_| CryptoError::Open)?;
        Ok(Sealed { key_id, nonce: nonce.to_vec(), ciphertext })
    }

    /// Opens a sealed value; fails unless key, nonce, ciphertext and binding all match.
    pub fn open_sealed(
        &self,
        sealed: &Sealed,
        binding: Binding<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.open_with(sealed, &binding.aad())
    }

    /// Opens a value sealed by a version that bound neither type nor scopes (schema 1 and 2):
    /// only for the migration that re-seals them.
    pub fn open_sealed_v1(
        &self,
        sealed: &Sealed,
        binding: Binding<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.open_with(sealed, &binding.aad_v1())
    }

    fn open_with(&self, sealed: &Sealed, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.nonce.len() != 12 {
            return Err(CryptoError::Open);
        }
        let key = self.key(sealed.key_id)?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key[..]));
        cipher
            .decrypt(Nonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// Adds a fresh key to the file (atomically) and returns its id: above every id in the file
    /// and at least `at_least` (the caller knows ids handed out before, which the file may have
    /// lost), so an id never names two keys.
    pub fn add_key(&self, at_least: u32) -> Result<u32, CryptoError> {
        let mut keys = read_key_file(&self.path)?;
        let id = keys.keys().next_back().map_or(1, |max| max + 1).max(at_least);
        keys.insert(id, random_key());
        write_key_file(&self.path, &keys, false)?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(id)
    }

    /// Removes the keys `ids` from the file (atomically) and from memory; the caller has checked
    /// that nothing needs them. Refused, changing nothing, when the file would be left empty.
    pub fn remove(&self, ids: &BTreeSet<u32>) -> Result<(), CryptoError> {
        let mut keys = read_key_file(&self.path)?;
        keys.retain(|id, _| !ids.contains(id));
        if keys.is_empty() {
            return Err(CryptoError::Format { path: self.path.clone(), line: 0 });
        }
        write_key_file(&self.path, &keys, false)?;
        self.keys.write().unwrap_or_else(|e| e.into_inner()).retain(|id, _| !ids.contains(id));
        Ok(())
    }

    /// Writes a new key file at `dest` (0600, atomically) with the keys `only` names as the key
    /// file holds them now (every one when `None`). Refused, writing nothing, when one of `only`
    /// is not in the key file.
    pub fn write_copy(&self, dest: &Path, only: Option<&BTreeSet<u32>>) -> Result<(), CryptoError> {
        let mut keys = read_key_file(&self.path)?;
        if let Some(only) = only {
            if let Some(missing) = only.iter().find(|id| !keys.contains_key(id)) {
                return Err(CryptoError::UnknownKey(*missing));
            }
            keys.retain(|id, _| only.contains(id));
        }
        if keys.is_empty() {
            return Err(CryptoError::Format { path: self.path.clone(), line: 0 });
        }
        write_key_file(dest, &keys, false)
    }

    /// The ids of the keys in the key file now (re-read).
    pub fn file_ids(&self) -> Result<BTreeSet<u32>, CryptoError> {
        Ok(read_key_file(&self.path)?.into_keys().collect())
    }

    /// The ids of the keys in memory.
    pub fn ids(&self) -> Vec<u32> {
        self.read_keys().keys().copied().collect()
    }
}

fn random_key() -> KeyBytes {
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut key[..]);
    key
}

fn read_key_file(path: &Path) -> Result<BTreeMap<u32, KeyBytes>, CryptoError> {
    let io = |source| CryptoError::Io { path: path.to_path_buf(), source };
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io)?);
    let mut keys = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || CryptoError::Format { path: path.to_path_buf(), line: n + 1 };
        let (id, hex) = line.split_once(' ').ok_or_else(bad)?;
        let id: u32 = id.parse().map_err(|_| bad())?;
        let bytes = Zeroizing::new(from_hex(hex.trim()).ok_or_else(bad)?);
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(bad());
        }
        key.copy_from_slice(&bytes);
        keys.insert(id, key);
    }
    if keys.is_empty() {
        return Err(CryptoError::Format { path: path.to_path_buf(), line: 0 });
    }
    Ok(keys)
}

/// Writes the key file with [`crate::private_file`]: a reader sees the old or the new file,
/// never half of one, and the file is 0600.
fn write_key_file(path: &Path, keys: &BTreeMap<u32, KeyBytes>, create_new: bool) -> Result<(), CryptoError> {
    let io = |source| CryptoError::Io { path: path.to_path_buf(), source };
    let mut text = Zeroizing::new(String::from(
        "# pantheon-secrets master keys: <id> <hex>. Keep this file secret and backed up.\n",
    ));
    for (id, key) in keys {
        text.push_str(&format!("{id} {}\n", to_hex(&key[..])));
    }
    if create_new {
        crate::private_file::create(path, text.as_bytes()).map_err(io)
    } else {
        crate::private_file::write(path, text.as_bytes()).map_err(io)
    }
}

/// Lower-case hexadecimal.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hexadecimal; `None` for odd lengths or other characters.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// SHA-256, as used for token hashes and certificate fingerprints.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn binding<'a>(name: &'a str, env: &'a str) -> Binding<'a> {
        Binding { owner_kind: "site", owner: "s1", name, env, kind: "runtime", scopes: "web,user" }
    }

    #[test]
    fn keyring_debug_shows_ids_never_a_key() {
        let (keys, dir) = keyring();
        let (hex, start) = {
            let loaded = keys.keys.read().unwrap();
            let key = &loaded[&1];
            (to_hex(&key[..]), format!("{:?}", &key[..4]).trim_end_matches(']').to_string())
        };
        let shown = format!("{keys:?}");
        assert!(!shown.contains(&hex) && !shown.contains(&start), "a key in {shown}");
        assert!(shown.contains("key_ids: [1]"), "{shown}");
        fs::remove_dir_all(dir).unwrap();
    }

    fn keyring() -> (Keyring, PathBuf) {
        let dir = std::env::temp_dir().join(format!("ps-crypto-{}", to_hex(&random_bytes(8))));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        (Keyring::create(&path).unwrap(), dir)
    }

    #[test]
    fn keyring_seal_open_round_trips() {
        let (ring, dir) = keyring();
        let sealed = ring.seal(1, binding("A", ""), b"v").unwrap();
        assert_eq!(&ring.open_sealed(&sealed, binding("A", "")).unwrap()[..], b"v");
        let mode = fs::metadata(dir.join("master.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keyring_open_other_binding_fails() {
        let (ring, dir) = keyring();
        fs::remove_dir_all(dir).unwrap();
        let sealed = ring.seal(1, binding("A", ""), b"v").unwrap();
        assert!(matches!(ring.open_sealed(&sealed, binding("B", "")), Err(CryptoError::Open)));
        assert!(matches!(ring.open_sealed(&sealed, binding("A", "live")), Err(CryptoError::Open)));
    }

    #[test]
    fn keyring_open_other_type_or_scopes_fails_scope_order_does_not_matter() {
        let (ring, dir) = keyring();
        fs::remove_dir_all(dir).unwrap();
        let sealed = ring.seal(1, binding("A", ""), b"v").unwrap();
        let with = |kind, scopes| Binding { kind, scopes, ..binding("A", "") };
        assert_eq!(&ring.open_sealed(&sealed, with("runtime", "user,web")).unwrap()[..], b"v");
        for (kind, scopes) in
            [("runtime", "user"), ("runtime", "web"), ("runtime", "web,user,ic"), ("env", "web,user")]
        {
            assert!(
                matches!(ring.open_sealed(&sealed, with(kind, scopes)), Err(CryptoError::Open)),
                "{kind} {scopes}"
            );
        }
        assert!(matches!(ring.open_sealed_v1(&sealed, binding("A", "")), Err(CryptoError::Open)));
    }

    #[test]
    fn keyring_rotation_keeps_old_keys_until_removed() {
        let (ring, dir) = keyring();
        let old = ring.seal(1, binding("A", ""), b"v").unwrap();
        let id = ring.add_key(0).unwrap();
        assert_eq!(id, 2);
        let other = Keyring::open(&dir.join("master.key")).unwrap();
        assert_eq!(&other.open_sealed(&old, binding("A", "")).unwrap()[..], b"v");
        let copy = dir.join("copy.key");
        assert!(matches!(
            ring.write_copy(&copy, Some(&BTreeSet::from([2, 7]))),
            Err(CryptoError::UnknownKey(7))
        ));
        assert!(fs::symlink_metadata(&copy).is_err(), "nothing written");
        ring.write_copy(&copy, Some(&BTreeSet::from([1]))).unwrap();
        assert_eq!(Keyring::open(&copy).unwrap().ids(), vec![1]);
        assert_eq!(fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(matches!(ring.remove(&BTreeSet::from([1, 2])), Err(CryptoError::Format { .. })));
        assert_eq!(ring.file_ids().unwrap(), BTreeSet::from([1, 2]), "unchanged");
        ring.remove(&BTreeSet::from([1])).unwrap();
        assert_eq!(ring.ids(), vec![2]);
        let reopened = Keyring::open(&dir.join("master.key")).unwrap();
        assert_eq!(reopened.ids(), vec![2]);
        assert!(matches!(reopened.open_sealed(&old, binding("A", "")), Err(CryptoError::UnknownKey(1))));
        assert_eq!(reopened.add_key(9).unwrap(), 9, "never below an id handed out before");
        assert_eq!(reopened.add_key(0).unwrap(), 10);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(from_hex(&to_hex(&[0, 255, 16])).unwrap(), vec![0, 255, 16]);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }
}
