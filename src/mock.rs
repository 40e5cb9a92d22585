//! The in-process mock backend for PHPUnit suites: `Pantheon\Secrets\mock(array)` replaces the
//! secrets for the rest of the process (or until `unmock()`), when `pantheon_secrets.allow_mock`
//! (system level, off by default) allows it.

use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ArrayKey, ZendHashTable, Zval};
use secrets_core::{Document, Scope, SecretType};
use secrets_runtime::config::ini::ALLOW_MOCK;
use secrets_runtime::process;
use serde_json::{json, Map, Value};

use crate::{exception, ini, runtime};

/// Registers the functions of this file.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.function(wrap_function!(mock)).function(wrap_function!(unmock))
}

fn error(message: String) -> PhpException {
    exception::secrets_exception(message)
}

/// Serves `$secrets` instead of the backend's until `unmock()`. Each entry is name => value (a
/// web secret) or name => fields as in a secrets document (`Value`, `EnvValues`, `OrgValues`,
/// `Type`, `Scopes`, which default to `runtime` and `["web"]`); a null entry is a missing secret.
#[php_function]
#[php(name = "Pantheon\\Secrets\\mock")]
pub fn mock(secrets: &ZendHashTable) -> PhpResult<()> {
    if !ini::flag(ALLOW_MOCK) {
        return Err(error(format!(
            "Pantheon\\Secrets\\mock() is disabled: set {ALLOW_MOCK}=1 in php.ini or with -d (test runs only)"
        )));
    }
    runtime::guard(Ok(()), || {
        let doc = document(secrets).map_err(error)?;
        process::mock(doc);
        Ok(())
    })
}

/// Serves the backend's secrets again.
#[php_function]
#[php(name = "Pantheon\\Secrets\\unmock")]
pub fn unmock() {
    runtime::guard((), process::unmock);
}

/// How deep a mocked secret's fields may nest (a secret needs three levels: fields, a map of
/// values, a value): deeper, or an array that contains itself, is refused instead of recursing
/// until PHP's stack runs out.
pub const MAX_DEPTH: usize = 64;
/// How many array elements one mock() may hold in all, so that arrays shared many times over
/// cannot make the walk exponential.
pub const MAX_ELEMENTS: usize = 1_000_000;

/// What the walk over the PHP arrays has seen: the arrays on the current path, and a count.
struct Walk {
    open: Vec<*const ZendHashTable>,
    elements: usize,
}

fn document(secrets: &ZendHashTable) -> Result<Document, String> {
    let mut walk = Walk { open: vec![secrets as *const ZendHashTable], elements: secrets.len() };
    let mut map = Map::new();
    for (key, value) in secrets.iter() {
        let name = match key {
            ArrayKey::Long(n) => n.to_string(),
            other => other.to_string(),
        };
        let fields = if value.is_null() {
            continue;
        } else if value.is_string() {
            let text = value.str().ok_or_else(|| format!("Secrets.{name}.Value: not valid UTF-8"))?;
            json!({"Type": SecretType::Runtime, "Value": text, "Scopes": [Scope::Web]})
        } else if let Some(fields) = value.array() {
            let mut fields = to_json(fields, &format!("Secrets.{name}"), &mut walk)?;
            if let Value::Object(object) = &mut fields {
                object.entry("Type").or_insert_with(|| json!(SecretType::Runtime));
                object.entry("Scopes").or_insert_with(|| json!([Scope::Web]));
            }
            fields
        } else {
            return Err(format!("Secrets.{name}: expected a string, an array of fields or null"));
        };
        map.insert(name, fields);
    }
    let bytes = serde_json::to_vec(&json!({"SiteID": "mock", "Secrets": map})).map_err(|e| e.to_string())?;
    Document::parse(&bytes).map_err(|e| e.to_string())
}

fn to_json(table: &ZendHashTable, path: &str, walk: &mut Walk) -> Result<Value, String> {
    let address: *const ZendHashTable = table;
    if walk.open.contains(&address) {
        return Err(format!("{path}: the array contains itself"));
    }
    if walk.open.len() >= MAX_DEPTH {
        return Err(format!("{path}: nested deeper than {MAX_DEPTH} levels"));
    }
    walk.elements += table.len();
    if walk.elements > MAX_ELEMENTS {
        return Err(format!("{path}: more than {MAX_ELEMENTS} array elements in all"));
    }
    walk.open.push(address);
    let json = fields_to_json(table, path, walk);
    walk.open.pop();
    json
}

fn fields_to_json(table: &ZendHashTable, path: &str, walk: &mut Walk) -> Result<Value, String> {
    let list = table.has_sequential_keys();
    let mut items = Vec::new();
    let mut object = Map::new();
    for (key, value) in table.iter() {
        let key = match key {
            ArrayKey::Long(n) => n.to_string(),
            other => other.to_string(),
        };
        let json = scalar(value, &format!("{path}.{key}"), walk)?;
        if list {
            items.push(json);
        } else {
            object.insert(key, json);
        }
    }
    Ok(if list && !table.is_empty() { Value::Array(items) } else { Value::Object(object) })
}

fn scalar(value: &Zval, path: &str, walk: &mut Walk) -> Result<Value, String> {
    if value.is_null() {
        Ok(Value::Null)
    } else if value.is_string() {
        value.str().map(|s| json!(s)).ok_or_else(|| format!("{path}: not valid UTF-8"))
    } else if let Some(table) = value.array() {
        to_json(table, path, walk)
    } else if let Some(n) = value.long() {
        Ok(json!(n))
    } else if let Some(b) = value.bool() {
        Ok(json!(b))
    } else {
        Err(format!("{path}: unsupported type"))
    }
}
