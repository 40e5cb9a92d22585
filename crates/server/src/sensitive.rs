//! A secret value or a token in memory: zeroed when dropped, and its `Debug` prints
//! `[REDACTED]` (the `secrecy` crate's pattern), so no `{:?}` — a log line, a panic message, the
//! derived `Debug` of a request body or of the command line — shows it. Reading it takes
//! [`Sensitive::expose`], which a reviewer can search for.

use zeroize::Zeroizing;

/// A secret value or a token. Parsed from the command line (`From<String>`) and from JSON
/// (a string), like the `String` it holds.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive(Zeroizing<String>);

impl Sensitive {
    /// Takes `text`, which is zeroed when the last copy is dropped.
    pub fn new(text: String) -> Sensitive {
        Sensitive(Zeroizing::new(text))
    }

    /// The text itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The text as a zeroing `String`, without a copy.
    pub fn into_inner(self) -> Zeroizing<String> {
        self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::messages::REDACTED)
    }
}

impl From<String> for Sensitive {
    fn from(text: String) -> Sensitive {
        Sensitive::new(text)
    }
}

impl From<Zeroizing<String>> for Sensitive {
    fn from(text: Zeroizing<String>) -> Sensitive {
        Sensitive(text)
    }
}

impl<'de> serde::Deserialize<'de> for Sensitive {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Sensitive, D::Error> {
        String::deserialize(de).map(Sensitive::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_debug_redacted_value_kept() {
        let value = Sensitive::from("canary-8e21".to_string());
        assert_eq!(format!("{value:?}"), "[REDACTED]");
        assert_eq!(format!("{:?}", Some(&value)), "Some([REDACTED])");
        assert_eq!(value.expose(), "canary-8e21");
        let parsed: Sensitive = serde_json::from_str("\"canary-8e21\"").unwrap();
        assert_eq!(parsed, value);
        assert_eq!(parsed.into_inner().as_str(), "canary-8e21");
    }
}
