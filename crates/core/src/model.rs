//! The domain values of a secret (ARCHITECTURE §3): where it may be read ([`Scope`]) and what it is
//! for ([`SecretType`]). Each is written as a string on the wire, the same strings as ever; a name
//! this code does not know is kept as it is ([`Scope::Other`], [`SecretType::Other`]), so a document
//! from a newer producer reads, resolves and serializes unchanged.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a secret may be read.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `web`: PHP at run time, the only scope `pantheon_get_secret()` reads.
    Web,
    /// `ic`: Integrated Composer builds.
    Ic,
    /// `user`: people (the management API, Terminus, `local-generate`) may read the values.
    User,
    /// A scope this code does not know, kept as it was written. The service never creates one
    /// ([`Scope::known`] refuses it); a document may still carry one.
    Other(String),
}

impl Scope {
    /// The scopes this code knows, in the order messages list them.
    pub const KNOWN: [Scope; 3] = [Scope::Web, Scope::Ic, Scope::User];

    /// The scope `name` stands for; an unknown name is [`Scope::Other`].
    pub fn parse(name: &str) -> Scope {
        Scope::known(name).unwrap_or_else(|| Scope::Other(name.to_string()))
    }

    /// The known scope `name` stands for, or `None` (the service accepts only these).
    pub fn known(name: &str) -> Option<Scope> {
        Scope::KNOWN.into_iter().find(|scope| scope.as_str() == name)
    }

    /// The scope as written on the wire and in the store: `web`, `ic`, `user`, or the unknown name.
    pub fn as_str(&self) -> &str {
        match self {
            Scope::Web => "web",
            Scope::Ic => "ic",
            Scope::User => "user",
            Scope::Other(name) => name,
        }
    }
}

/// What a secret is for; it decides the naming rule and what a build makes of it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretType {
    /// `runtime`: read by PHP at run time (the type of a secret written without one).
    Runtime,
    /// `env`: an environment variable of a build; its name must be one.
    Env,
    /// `composer`: a Composer credential of a build, named `<auth kind>.<host>`.
    Composer,
    /// A type this code does not act on (`file`, `vcs`, …), kept as it was written.
    Other(String),
}

impl SecretType {
    /// The types this code acts on.
    pub const KNOWN: [SecretType; 3] = [SecretType::Runtime, SecretType::Env, SecretType::Composer];

    /// The type `name` stands for; an unknown name is [`SecretType::Other`].
    pub fn parse(name: &str) -> SecretType {
        SecretType::KNOWN
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .unwrap_or_else(|| SecretType::Other(name.to_string()))
    }

    /// The type as written on the wire and in the store: `runtime`, `env`, `composer`, or the
    /// unknown name.
    pub fn as_str(&self) -> &str {
        match self {
            SecretType::Runtime => "runtime",
            SecretType::Env => "env",
            SecretType::Composer => "composer",
            SecretType::Other(name) => name,
        }
    }
}

impl Default for SecretType {
    /// [`SecretType::Runtime`], the type of a secret written without one.
    fn default() -> Self {
        SecretType::Runtime
    }
}

/// Display, `Debug`, comparison with text and serde, the same for both: each is its wire string.
macro_rules! wire_string {
    ($type:ident, $expecting:literal) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Shows the wire string (`"web"`), as `Debug` of the string it replaced did.
        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl PartialEq<str> for $type {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<String> for $type {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $type {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl From<&str> for $type {
            fn from(name: &str) -> Self {
                $type::parse(name)
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
                struct Name;
                impl Visitor<'_> for Name {
                    type Value = $type;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, name: &str) -> Result<$type, E> {
                        Ok($type::parse(name))
                    }
                }
                de.deserialize_str(Name)
            }
        }
    };
}

wire_string!(Scope, "a scope name");
wire_string!(SecretType, "a type name");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_each_string_maps_to_its_case_and_back() {
        for (name, scope) in [("web", Scope::Web), ("ic", Scope::Ic), ("user", Scope::User)] {
            assert_eq!(Scope::parse(name), scope);
            assert_eq!(Scope::known(name), Some(scope.clone()));
            assert_eq!(scope.as_str(), name);
            assert_eq!(serde_json::to_string(&scope).unwrap(), format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Scope>(&format!("\"{name}\"")).unwrap(), scope);
        }
        assert_eq!(Scope::KNOWN.map(|s| s.to_string()), ["web", "ic", "user"]);
    }

    #[test]
    fn scope_unknown_kept_but_not_known() {
        assert_eq!(Scope::parse("all"), Scope::Other("all".into()));
        assert_eq!(Scope::known("all"), None);
        assert_eq!(Scope::known("Web"), None, "names are case-sensitive");
        let scopes: Vec<Scope> = serde_json::from_str(r#"["web", "future"]"#).unwrap();
        assert_eq!(scopes, [Scope::Web, Scope::Other("future".into())]);
        assert_eq!(serde_json::to_string(&scopes).unwrap(), r#"["web","future"]"#);
    }

    #[test]
    fn secret_type_each_string_maps_to_its_case_and_back() {
        let cases =
            [("runtime", SecretType::Runtime), ("env", SecretType::Env), ("composer", SecretType::Composer)];
        for (name, kind) in cases {
            assert_eq!(SecretType::parse(name), kind);
            assert_eq!(kind.as_str(), name);
            assert_eq!(serde_json::from_str::<SecretType>(&format!("\"{name}\"")).unwrap(), kind);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
        }
        assert_eq!(SecretType::default(), SecretType::Runtime);
    }

    #[test]
    fn secret_type_unknown_survives_a_round_trip() {
        let kind: SecretType = serde_json::from_str(r#""vcs""#).unwrap();
        assert_eq!(kind, SecretType::Other("vcs".into()));
        assert_eq!(kind, "vcs");
        assert_eq!(serde_json::to_string(&kind).unwrap(), r#""vcs""#);
        assert_eq!(SecretType::parse("Runtime"), SecretType::Other("Runtime".into()), "case-sensitive");
    }

    #[test]
    fn debug_and_display_show_the_wire_string() {
        assert_eq!(format!("{:?}", Scope::Ic), r#""ic""#);
        assert_eq!(format!("{:?}", SecretType::Other("file".into())), r#""file""#);
        assert_eq!(format!("{}", SecretType::Composer), "composer");
    }

    #[test]
    fn deserialize_refuses_what_is_not_a_string() {
        let err = serde_json::from_str::<Scope>("5").unwrap_err().to_string();
        assert!(err.contains("expected a scope name"), "{err}");
        assert!(serde_json::from_str::<SecretType>("[]").is_err());
    }
}
