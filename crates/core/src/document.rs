//! The secrets document (ARCHITECTURE §3): the one JSON shape used by the service, the local file and
//! test fixtures. Parsing is strict about types and limits and names the offending field; it is
//! lenient about what is absent (`null` and missing optional fields are normal, as Go's encoder
//! writes them) and ignores unknown fields.

use std::collections::BTreeMap;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use crate::model::{Scope, SecretType};
use crate::validate::{check_env_name, check_name, check_value};

/// A secret value. Its memory is zeroed when dropped.
pub type Value = Zeroizing<String>;

/// The type every secret without a `Type` has.
pub const DEFAULT_TYPE: SecretType = SecretType::Runtime;

/// A whole secrets document. Its `Debug` shows names, types and scopes, never a value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Document {
    /// The site the document belongs to.
    #[serde(rename = "SiteID", default, deserialize_with = "null_as_default")]
    pub site_id: String,
    /// The secrets by name.
    #[serde(rename = "Secrets", deserialize_with = "secrets_map")]
    pub secrets: BTreeMap<String, Secret>,
    /// The number of secrets, as the producer counted them (informative only).
    #[serde(rename = "Count", default, deserialize_with = "null_as_default")]
    pub count: u64,
    /// The producer's version string.
    #[serde(rename = "Version", default, deserialize_with = "null_as_default")]
    pub version: String,
    /// The scopes the producer was asked for.
    #[serde(rename = "Scopes", default, deserialize_with = "null_as_default")]
    pub scopes: Vec<Scope>,
    /// The environment the document was resolved for, when it was (the runtime API's answer,
    /// ARCHITECTURE §3): each secret then holds its value there alone, in `Value`. Absent from a
    /// document that still holds every environment's values (and from older services' answers).
    #[serde(rename = "Environment", default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// One secret of a document. Its `Debug` prints `[REDACTED]` for every value, so a stray `{:?}`
/// cannot leak one.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Secret {
    /// `runtime`, `env`, `composer`, or another type that is kept as it is.
    #[serde(rename = "Type", default, deserialize_with = "null_as_default")]
    pub kind: SecretType,
    /// The site's value; `None` when absent, inherited or not readable by this caller.
    #[serde(rename = "Value", default)]
    pub value: Option<Value>,
    /// Where the secret may be read: `web`, `ic`, `user` (an unknown scope is kept).
    #[serde(rename = "Scopes", default, deserialize_with = "null_as_default")]
    pub scopes: Vec<Scope>,
    /// The site's per-environment overrides.
    #[serde(
        rename = "EnvValues",
        default,
        deserialize_with = "map_or_empty",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub env_values: BTreeMap<String, Option<Value>>,
    /// The owner organization's values: `default`, then per environment.
    #[serde(
        rename = "OrgValues",
        default,
        deserialize_with = "map_or_empty",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub org_values: BTreeMap<String, Option<Value>>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |values: &BTreeMap<String, Option<Value>>| -> BTreeMap<String, &'static str> {
            values.iter().map(|(k, v)| (k.clone(), if v.is_some() { REDACTED } else { "null" })).collect()
        };
        f.debug_struct("Secret")
            .field("kind", &self.kind)
            .field("value", &self.value.as_ref().map(|_| REDACTED))
            .field("scopes", &self.scopes)
            .field("env_values", &redacted(&self.env_values))
            .field("org_values", &redacted(&self.org_values))
            .finish()
    }
}

/// What `Debug` shows in place of a value.
pub const REDACTED: &str = "[REDACTED]";

impl Secret {
    /// Whether the secret carries this scope.
    pub fn has_scope(&self, scope: &Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// Checks `name` against the naming rules of this secret's type (ARCHITECTURE §3).
    fn check_name(&self, name: &str) -> Result<(), DocumentError> {
        let named = match self.kind {
            SecretType::Env => check_env_name(name.as_bytes()),
            _ => check_name(name.as_bytes()),
        };
        named.map_err(|reason| DocumentError::BadName { name: name.to_string(), reason: reason.to_string() })
    }
}

/// Why a document was refused. Messages name the field and never carry a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Nothing but whitespace.
    #[error("the secrets document is empty")]
    Empty,
    /// Not JSON, or JSON of the wrong shape.
    #[error("malformed secrets document: {path}: {message}")]
    Malformed {
        /// Where in the document, e.g. `Secrets.STRIPE_KEY.Value` (`.` for the top).
        path: String,
        /// What is wrong, without the offending content.
        message: String,
    },
    /// A secret's name breaks the naming rules.
    #[error("invalid secret name {name:?} in Secrets: {reason}")]
    BadName {
        /// The name, as found.
        name: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A value is over the size limit.
    #[error("{path}: {reason}")]
    BadValue {
        /// Where the value is, e.g. `Secrets.BIG.EnvValues.live`.
        path: String,
        /// The rule it breaks.
        reason: String,
    },
}

impl Document {
    /// Parses and validates a document. The error names the field at fault.
    pub fn parse(bytes: &[u8]) -> Result<Document, DocumentError> {
        let (doc, mut skipped) = Document::parse_skipping_bad_names(bytes)?;
        match skipped.is_empty() {
            true => Ok(doc),
            false => Err(skipped.swap_remove(0)),
        }
    }

    /// Parses a document as [`Document::parse`] does, except that a secret whose name breaks a
    /// naming rule (a file written by hand or by another tool can hold an `env`-type secret
    /// named `My.Secret-Name`) is left out instead of failing the whole document: the others
    /// are served. Returns the document and a [`DocumentError::BadName`] per secret left out
    /// (its name and the rule, never a value). A document that is not JSON, has the wrong
    /// shape or holds a value over the limit still fails as a whole.
    pub fn parse_skipping_bad_names(bytes: &[u8]) -> Result<(Document, Vec<DocumentError>), DocumentError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(DocumentError::Empty);
        }
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(DocumentError::Malformed {
                path: ".".into(),
                message: "expected a JSON object".into(),
            });
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let doc: Document =
            serde_path_to_error::deserialize(&mut de).map_err(|e| DocumentError::Malformed {
                path: e.path().to_string(),
                message: without_content(&e.inner().to_string()),
            })?;
        de.end().map_err(|e| DocumentError::Malformed {
            path: ".".into(),
            message: without_content(&e.to_string()),
        })?;
        let mut doc = doc;
        let mut skipped = Vec::new();
        doc.secrets.retain(|name, secret| match secret.check_name(name) {
            Ok(()) => true,
            Err(e) => {
                skipped.push(e);
                false
            }
        });
        doc.validate()?;
        Ok((doc, skipped))
    }

    /// Checks names and value sizes of every secret.
    pub fn validate(&self) -> Result<(), DocumentError> {
        for (name, secret) in &self.secrets {
            secret.check_name(name)?;
            let values = secret.value.iter().map(|v| ("Value".to_string(), v));
            let env =
                secret.env_values.iter().filter_map(|(e, v)| Some((format!("EnvValues.{e}"), v.as_ref()?)));
            let org =
                secret.org_values.iter().filter_map(|(e, v)| Some((format!("OrgValues.{e}"), v.as_ref()?)));
            for (field, value) in values.chain(env).chain(org) {
                check_value(value).map_err(|reason| DocumentError::BadValue {
                    path: format!("Secrets.{name}.{field}"),
                    reason,
                })?;
            }
        }
        Ok(())
    }

    /// Serializes the document, with `Count` set to the number of secrets.
    pub fn to_json(&self) -> Zeroizing<String> {
        let mut counted = self.clone();
        counted.count = self.secrets.len() as u64;
        // Serializing maps of strings cannot fail.
        Zeroizing::new(serde_json::to_string_pretty(&counted).unwrap_or_default())
    }
}

/// Rewrites a serde message so that it keeps the kind of what was found but not its content:
/// `invalid type: string "sk_live", expected a map` becomes `invalid type: string, expected a map`.
fn without_content(message: &str) -> String {
    for marker in ["invalid type: ", "invalid value: "] {
        if let Some(start) = message.find(marker) {
            let after = &message[start + marker.len()..];
            let kind: String = after.chars().take_while(|c| c.is_ascii_alphabetic() || *c == ' ').collect();
            let kind = kind.split(' ').next().unwrap_or("value");
            let rest = after.rfind(", expected").map_or("", |at| &after[at..]);
            return format!("{}{marker}{kind}{rest}", &message[..start]);
        }
    }
    message.to_string()
}

fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

/// The `Secrets` map: `null` is empty, and every secret must be a JSON object (serde would
/// otherwise take an array for a struct).
fn secrets_map<'de, D: Deserializer<'de>>(de: D) -> Result<BTreeMap<String, Secret>, D::Error> {
    struct ObjectOnly(Secret);

    impl<'de> Deserialize<'de> for ObjectOnly {
        fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
            struct Fields;
            impl<'de> Visitor<'de> for Fields {
                type Value = Secret;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Secret, A::Error> {
                    Secret::deserialize(MapAccessDeserializer::new(map))
                }
            }
            de.deserialize_map(Fields).map(ObjectOnly)
        }
    }

    let map: BTreeMap<String, ObjectOnly> = map_or_empty(de)?;
    Ok(map.into_iter().map(|(name, secret)| (name, secret.0)).collect())
}

/// A JSON object as a map; `null` and `[]` (what PHP's json_encode writes for an empty array)
/// are the empty map.
fn map_or_empty<'de, D, V>(de: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct MapOrEmpty<V>(std::marker::PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for MapOrEmpty<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
            de.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            match seq.next_element::<serde::de::IgnoredAny>()? {
                None => Ok(BTreeMap::new()),
                Some(_) => Err(serde::de::Error::invalid_type(serde::de::Unexpected::Seq, &self)),
            }
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            BTreeMap::deserialize(MapAccessDeserializer::new(map))
        }
    }

    de.deserialize_option(MapOrEmpty(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type that holds values, formatted with `{:?}`, shows none of them.
    #[test]
    fn debug_document_secret_entry_never_show_a_value() {
        const CANARY: &str = "canary-4f1d9b";
        let json = format!(
            r#"{{"SiteID": "s", "Secrets": {{"A": {{"Value": "{CANARY}-site", "Scopes": ["web"],
              "EnvValues": {{"live": "{CANARY}-live"}}, "OrgValues": {{"default": "{CANARY}-org"}}}}}}}}"#
        );
        let doc = Document::parse(json.as_bytes()).unwrap();
        let entries = crate::resolve::resolve(&doc, "live", &Scope::Web);
        // The snapshot made from these entries is checked in the runtime crate (`snapshot.rs`).
        let shown = [
            format!("{doc:?}"),
            format!("{:?}", doc.secrets["A"]),
            format!("{entries:?}"),
            format!("{doc:#?}"),
        ];
        for text in &shown {
            assert!(!text.contains(CANARY), "a value in {text}");
        }
        assert!(shown[1].contains("[REDACTED]") && shown[1].contains("live"), "{}", shown[1]);
    }

    const SAMPLE: &str = r#"{
      "SiteID": "3f6c2c5e", "Version": "", "Count": 2, "Scopes": ["web", "user", "ic"],
      "Secrets": {
        "STRIPE_KEY": {"Type": "runtime", "Value": "sk_site", "Scopes": ["web", "user"],
                       "EnvValues": {"live": "sk_live"}, "OrgValues": {"default": "sk_org", "test": "sk_org_test"}},
        "GITHUB": {"Type": "composer", "Value": null, "Scopes": ["ic"]},
        "CERT": {"Type": "file", "Value": "x", "Scopes": ["web"], "Unknown": 1}
      }
    }"#;

    #[test]
    fn parse_sample_reads_every_field() {
        let doc = Document::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(doc.site_id, "3f6c2c5e");
        let stripe = &doc.secrets["STRIPE_KEY"];
        assert_eq!(stripe.value.as_deref().map(String::as_str), Some("sk_site"));
        assert_eq!(stripe.env_values["live"].as_deref().map(String::as_str), Some("sk_live"));
        assert_eq!(stripe.org_values["test"].as_deref().map(String::as_str), Some("sk_org_test"));
        assert!(stripe.has_scope(&Scope::Web) && !stripe.has_scope(&Scope::Ic));
        assert_eq!(doc.secrets["GITHUB"].value, None);
        assert_eq!(doc.secrets["CERT"].kind, "file", "unknown types are kept");
    }

    #[test]
    fn parse_nulls_and_missing_fields_are_normal() {
        let doc = Document::parse(
            br#"{"Secrets": {"A": {"Value": "a", "Scopes": null, "EnvValues": null, "Type": null}}}"#,
        )
        .unwrap();
        assert_eq!(doc.secrets["A"].kind, DEFAULT_TYPE);
        assert!(doc.secrets["A"].scopes.is_empty());
        assert!(Document::parse(br#"{"Secrets": null, "SiteID": null}"#).unwrap().secrets.is_empty());
    }

    #[test]
    fn parse_empty_arrays_are_empty_maps() {
        let doc = Document::parse(br#"{"Secrets": {"A": {"Value": "a", "EnvValues": [], "OrgValues": []}}}"#)
            .unwrap();
        assert!(doc.secrets["A"].env_values.is_empty() && doc.secrets["A"].org_values.is_empty());
        assert!(Document::parse(br#"{"Secrets": []}"#).unwrap().secrets.is_empty());
        assert!(Document::parse(br#"{"Secrets": ["x"]}"#).is_err());
        assert!(Document::parse(br#"{"Secrets": {"A": {"EnvValues": ["x"]}}}"#).is_err());
    }

    #[test]
    fn parse_empty_input_refused() {
        assert_eq!(Document::parse(b"  \n").unwrap_err(), DocumentError::Empty);
    }

    #[test]
    fn parse_wrong_shapes_name_the_field() {
        let cases: &[(&str, &str)] = &[
            (r#"[1, 2]"#, "."),
            (r#"{"SiteID": "x"}"#, "."),
            (r#"{"Secrets": {"A": {"Value": 5}}}"#, "Secrets.A.Value"),
            (r#"{"Secrets": {"A": {"Scopes": "web"}}}"#, "Secrets.A.Scopes"),
            (r#"{"Secrets": {"A": {"EnvValues": {"live": ["x"]}}}}"#, "Secrets.A.EnvValues.live"),
            (r#"{"Secrets": {"A": []}}"#, "Secrets.A"),
        ];
        for (json, path) in cases {
            match Document::parse(json.as_bytes()) {
                Err(DocumentError::Malformed { path: p, .. }) => assert_eq!(&p, path, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    #[test]
    fn parse_type_error_never_carries_the_value() {
        let err =
            Document::parse(br#"{"Secrets": {"A": {"EnvValues": "sk_live_leak, expected x"}}}"#).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Secrets.A.EnvValues"), "{text}");
        assert!(text.contains("invalid type: string"), "{text}");
        assert!(!text.contains("sk_live_leak"), "{text}");
    }

    #[test]
    fn parse_syntax_error_refused() {
        let err = Document::parse(br#"{"Secrets": {"A": {"Value": "x"}"#).unwrap_err();
        assert!(matches!(err, DocumentError::Malformed { .. }), "{err}");
        let err = Document::parse(br#"{"Secrets": {}} trailing"#).unwrap_err();
        assert!(matches!(err, DocumentError::Malformed { .. }), "{err}");
    }

    #[test]
    fn parse_bad_names_refused() {
        let err = Document::parse(br#"{"Secrets": {"two words": {"Value": "x"}}}"#).unwrap_err();
        assert!(matches!(&err, DocumentError::BadName { name, .. } if name == "two words"), "{err}");
        assert!(Document::parse(br#"{"Secrets": {"": {"Value": "x"}}}"#).is_err());
        let err = Document::parse(br#"{"Secrets": {"A-B": {"Type": "env", "Value": "x"}}}"#).unwrap_err();
        assert!(err.to_string().contains("env-type"), "{err}");
    }

    #[test]
    fn parse_skipping_bad_names_serves_the_others() {
        let json = br#"{"Secrets": {"My.Secret-Name": {"Type": "env", "Value": "sk_hidden"},
                        "two words": {"Value": "x"}, "GOOD": {"Type": "env", "Value": "g"},
                        "My.Secret-Name2": {"Type": "runtime", "Value": "r"}}}"#;
        let (doc, skipped) = Document::parse_skipping_bad_names(json).unwrap();
        assert_eq!(doc.secrets.keys().collect::<Vec<_>>(), ["GOOD", "My.Secret-Name2"]);
        let names: Vec<String> = skipped
            .iter()
            .map(|e| match e {
                DocumentError::BadName { name, .. } => name.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["My.Secret-Name", "two words"]);
        assert!(skipped[0].to_string().contains("env-type"), "{}", skipped[0]);
        assert!(!format!("{skipped:?}").contains("sk_hidden"), "never a value");
        // parse() stays strict, and shape errors still fail as a whole.
        assert!(matches!(Document::parse(json), Err(DocumentError::BadName { .. })));
        let bad_shape = br#"{"Secrets": {"bad name": {"Value": "x"}, "A": {"Value": 5}}}"#;
        assert!(matches!(
            Document::parse_skipping_bad_names(bad_shape),
            Err(DocumentError::Malformed { .. })
        ));
        let big =
            format!(r#"{{"Secrets": {{"bad name": {{}}, "A": {{"Value": "{}"}}}}}}"#, "v".repeat(16_385));
        assert!(matches!(
            Document::parse_skipping_bad_names(big.as_bytes()),
            Err(DocumentError::BadValue { .. })
        ));
    }

    #[test]
    fn parse_value_limit_checked_everywhere() {
        let ok = "v".repeat(16_384);
        let big = "v".repeat(16_385);
        let doc = format!(r#"{{"Secrets": {{"A": {{"Value": "{ok}"}}}}}}"#);
        assert!(Document::parse(doc.as_bytes()).is_ok());
        for field in ["Value", "EnvValues.live", "OrgValues.default"] {
            let json = match field {
                "Value" => format!(r#"{{"Secrets": {{"A": {{"Value": "{big}"}}}}}}"#),
                "EnvValues.live" => {
                    format!(r#"{{"Secrets": {{"A": {{"EnvValues": {{"live": "{big}"}}}}}}}}"#)
                }
                _ => format!(r#"{{"Secrets": {{"A": {{"OrgValues": {{"default": "{big}"}}}}}}}}"#),
            };
            let err = Document::parse(json.as_bytes()).unwrap_err();
            assert_eq!(
                err,
                DocumentError::BadValue {
                    path: format!("Secrets.A.{field}"),
                    reason: "a value is at most 16384 bytes, this one is 16385".into(),
                }
            );
        }
    }

    #[test]
    fn to_json_unknown_type_and_scope_survive_unchanged() {
        let doc = Document::parse(
            br#"{"Scopes": ["web", "later"], "Secrets": {"CERT": {"Type": "file", "Value": "x", "Scopes": ["web", "later"]}}}"#,
        )
        .unwrap();
        let cert = &doc.secrets["CERT"];
        assert_eq!(cert.kind, SecretType::Other("file".into()));
        assert_eq!(cert.scopes, [Scope::Web, Scope::Other("later".into())]);
        let json: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(json["Secrets"]["CERT"]["Type"], "file");
        assert_eq!(json["Secrets"]["CERT"]["Scopes"], serde_json::json!(["web", "later"]));
        assert_eq!(json["Scopes"], serde_json::json!(["web", "later"]));
    }

    #[test]
    fn to_json_round_trips_and_counts() {
        let doc = Document::parse(SAMPLE.as_bytes()).unwrap();
        let again = Document::parse(doc.to_json().as_bytes()).unwrap();
        assert_eq!(again.secrets, doc.secrets);
        assert_eq!(again.count, 3);
    }

    #[test]
    fn parse_environment_optional_and_written_only_when_set() {
        let doc = Document::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(doc.environment, None);
        assert!(!doc.to_json().contains("Environment"), "a document of every environment names none");
        let resolved = Document::parse(br#"{"Secrets": {}, "Environment": "live"}"#).unwrap();
        assert_eq!(resolved.environment.as_deref(), Some("live"));
        assert_eq!(
            Document::parse(resolved.to_json().as_bytes()).unwrap().environment.as_deref(),
            Some("live")
        );
        assert_eq!(Document::parse(br#"{"Secrets": {}, "Environment": null}"#).unwrap().environment, None);
    }
}
