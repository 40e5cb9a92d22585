//! Limits on names and values (ARCHITECTURE §3).

use std::fmt;

/// The largest value a secret may hold, in bytes.
pub const MAX_VALUE_BYTES: usize = 16_384;
/// The longest name a secret may have, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// Why a secret name is refused. The display never repeats the name itself: callers add it
/// where it is safe (a name is not a value, but it may be a mistyped one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The name is the empty string.
    Empty,
    /// The name is longer than [`MAX_NAME_BYTES`].
    TooLong(usize),
    /// The name holds a byte outside printable ASCII, or whitespace, at this offset.
    BadByte(usize),
    /// An `env`-type secret whose name is not an environment variable name.
    NotEnvName,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "a secret name must not be empty"),
            NameError::TooLong(len) => {
                write!(f, "a secret name is at most {MAX_NAME_BYTES} bytes, this one is {len}")
            }
            NameError::BadByte(at) => {
                write!(f, "a secret name is printable ASCII without whitespace (bad byte at offset {at})")
            }
            NameError::NotEnvName => write!(f, "an env-type secret name must match ^[A-Za-z_][A-Za-z0-9_]*$"),
        }
    }
}

/// Checks a secret name: non-empty, at most [`MAX_NAME_BYTES`], printable ASCII without whitespace.
pub fn check_name(name: &[u8]) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong(name.len()));
    }
    match name.iter().position(|b| !b.is_ascii_graphic()) {
        Some(at) => Err(NameError::BadByte(at)),
        None => Ok(()),
    }
}

/// Checks the name of an `env`-type secret: [`check_name`] and `^[A-Za-z_][A-Za-z0-9_]*$`.
pub fn check_env_name(name: &[u8]) -> Result<(), NameError> {
    check_name(name)?;
    let first_ok = name[0].is_ascii_alphabetic() || name[0] == b'_';
    let rest_ok = name[1..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(NameError::NotEnvName)
    }
}

/// Checks a value's length against [`MAX_VALUE_BYTES`]; the error names only the length.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.len() > MAX_VALUE_BYTES {
        Err(format!("a value is at most {MAX_VALUE_BYTES} bytes, this one is {}", value.len()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_name_printable_ascii_accepted() {
        assert_eq!(check_name(b"STRIPE_KEY"), Ok(()));
        assert_eq!(check_name(b"github-oauth.github.com"), Ok(()));
        assert_eq!(check_name(&[b'a'; MAX_NAME_BYTES]), Ok(()));
    }

    #[test]
    fn check_name_bad_names_refused() {
        assert_eq!(check_name(b""), Err(NameError::Empty));
        assert_eq!(check_name(&[b'a'; 256]), Err(NameError::TooLong(256)));
        assert_eq!(check_name(b"two words"), Err(NameError::BadByte(3)));
        assert_eq!(check_name(b"tab\t"), Err(NameError::BadByte(3)));
        assert_eq!(check_name("clé".as_bytes()), Err(NameError::BadByte(2)));
        assert_eq!(check_name(b"nul\0"), Err(NameError::BadByte(3)));
    }

    #[test]
    fn check_env_name_shell_names_only() {
        assert_eq!(check_env_name(b"NPM_TOKEN"), Ok(()));
        assert_eq!(check_env_name(b"_x9"), Ok(()));
        assert_eq!(check_env_name(b"9LIVES"), Err(NameError::NotEnvName));
        assert_eq!(check_env_name(b"A-B"), Err(NameError::NotEnvName));
        assert_eq!(check_env_name(b""), Err(NameError::Empty));
    }

    #[test]
    fn check_value_limit_is_inclusive() {
        assert!(check_value(&"x".repeat(MAX_VALUE_BYTES)).is_ok());
        let err = check_value(&"x".repeat(MAX_VALUE_BYTES + 1)).unwrap_err();
        assert!(err.contains("16385"), "{err}");
        assert!(!err.contains("xxx"), "the message must not carry the value");
    }
}
