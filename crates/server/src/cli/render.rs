//! What the commands print: plain text tables (every cell escaped for the terminal), and the
//! Terminus list formats (table, JSON, CSV, YAML) of a secrets document. Rendering gives a
//! `String`; the commands print it.

use secrets_core::document::{Document, Secret};
use secrets_core::resolve::resolve_value;
use secrets_core::Scope;
use serde_json::json;

use super::error::CliError;
use crate::messages;

/// The operator lists know `table` and `json`; anything else is an error, not a table.
pub fn check_table_format(format: &str) -> Result<(), CliError> {
    match format {
        "table" | "json" => Ok(()),
        other => Err(CliError::Usage(format!("unknown format '{other}': formats are table and json"))),
    }
}

/// `--format`, `--fields` and `--field` of a list command.
pub struct ListOptions<'a> {
    /// Comma-separated fields (machine names, labels, or `*`).
    pub fields: Option<&'a str>,
    /// One field, printed bare, one line per secret.
    pub field: Option<&'a str>,
    /// `table`, `json`, `csv` or `yaml`.
    pub format: &'a str,
}

/// The list commands' fields, machine name and label, as the plugin names them.
const FIELDS: &[(&str, &str)] = &[
    ("name", "Secret name"),
    ("type", "Secret type"),
    ("value", "Secret value"),
    ("scopes", "Secret scopes"),
    ("env-values", "Environment override values"),
    ("org-values", "Org values"),
];

/// The output formats of the list commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
    Yaml,
}

impl Format {
    fn parse(text: &str) -> Result<Format, CliError> {
        match text {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "yaml" => Ok(Format::Yaml),
            other => Err(CliError::Usage(format!(
                "unknown format '{other}': formats are table, json, csv and yaml"
            ))),
        }
    }
}

/// The fields `--fields` names, out of those the command has: machine names (`env-values` or
/// `env_values`), labels (`Secret name`, any case) or `*` for all, comma-separated.
fn parse_fields(
    spec: &str,
    available: &[(&'static str, &'static str)],
) -> Result<Vec<&'static str>, CliError> {
    let mut fields = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let found: Vec<&'static str> = if item == "*" {
            available.iter().map(|(k, _)| *k).collect()
        } else {
            let key = item.replace('_', "-");
            match available.iter().find(|(k, label)| *k == key || label.eq_ignore_ascii_case(item)) {
                Some((k, _)) => vec![*k],
                None => {
                    let names: Vec<&str> = available.iter().map(|(k, _)| *k).collect();
                    return Err(CliError::Usage(format!(
                        "unknown field '{item}': fields are {} (or their labels, or *)",
                        names.join(", ")
                    )));
                }
            }
        };
        for f in found {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
    }
    if fields.is_empty() {
        return Err(CliError::Usage("--fields names no field".into()));
    }
    Ok(fields)
}

/// A value as the management API gave it: `None` when not readable (no `user` scope) or absent.
fn value_json(value: Option<&secrets_core::document::Value>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, |v| json!(v.as_str()))
}

fn values_json(
    map: &std::collections::BTreeMap<String, Option<secrets_core::document::Value>>,
) -> serde_json::Value {
    map.iter().map(|(env, v)| (env.clone(), value_json(v.as_ref()))).collect::<serde_json::Map<_, _>>().into()
}

/// One secret as the plugin's rows hold it: `name`, `type`, `value`, `scopes` (an array),
/// `env-values` and, for sites, `org-values` (objects keyed by environment); unreadable values
/// are `null`.
fn row(
    name: &str,
    secret: &Secret,
    env: Option<&str>,
    fields: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .map(|f| {
            let v = match *f {
                "name" => json!(name),
                "type" => json!(secret.kind),
                "value" => value_json(match env {
                    Some(env) => resolve_value(secret, env),
                    None => secret.value.as_ref(),
                }),
                "scopes" => json!(secret.scopes),
                "env-values" => values_json(&secret.env_values),
                _ => values_json(&secret.org_values),
            };
            (f.to_string(), v)
        })
        .collect()
}

/// A cell as people read it (table, CSV, `--field`): scopes joined, overrides as `env=value`,
/// unreadable values as `[REDACTED]`.
fn cell(value: &serde_json::Value, readable: bool) -> String {
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null if !readable => messages::REDACTED.to_string(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    match value {
        serde_json::Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(", "),
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}={}", scalar(v))).collect::<Vec<_>>().join(", ")
        }
        v => scalar(v),
    }
}

/// A list command's output for `doc` (a site's with `site`, else an organization's): with `env`,
/// the value each secret has in that environment.
pub fn secret_list(
    doc: &Document,
    env: Option<&str>,
    list: &ListOptions<'_>,
    site: bool,
) -> Result<String, CliError> {
    let available = if site { FIELDS } else { &FIELDS[..5] };
    let format = Format::parse(list.format)?;
    // The plugin's default table columns; the structured formats carry every field.
    let fields: Vec<&str> = match (list.field, list.fields) {
        (Some(_), Some(_)) => return Err(CliError::Usage("give --field or --fields, not both".into())),
        (Some(one), None) => parse_fields(one, available)?.into_iter().take(1).collect(),
        (None, Some(spec)) => parse_fields(spec, available)?,
        (None, None) if format == Format::Json || format == Format::Yaml => {
            available.iter().map(|(k, _)| *k).collect()
        }
        (None, None) if site => vec!["name", "type", "value", "scopes"],
        (None, None) => available.iter().map(|(k, _)| *k).collect(),
    };
    let rows: Vec<(bool, serde_json::Map<String, serde_json::Value>)> = doc
        .secrets
        .iter()
        .map(|(name, secret)| (secret.has_scope(&Scope::User), row(name, secret, env, &fields)))
        .collect();
    let cells = |(readable, row): &(bool, serde_json::Map<String, serde_json::Value>)| -> Vec<String> {
        fields.iter().map(|f| cell(&row[*f], *readable)).collect()
    };
    let mut out = String::new();
    if list.field.is_some() {
        for r in &rows {
            out.push_str(&cells(r).concat());
            out.push('\n');
        }
        return Ok(out);
    }
    match format {
        Format::Json | Format::Yaml => {
            let keyed: serde_json::Map<String, serde_json::Value> = doc
                .secrets
                .keys()
                .cloned()
                .zip(rows.into_iter().map(|(_, r)| serde_json::Value::Object(r)))
                .collect();
            let keyed = serde_json::Value::Object(keyed);
            if format == Format::Json {
                out = serde_json::to_string_pretty(&keyed).unwrap_or_default();
                out.push('\n');
            } else {
                out = yaml(&keyed);
            }
        }
        Format::Csv => {
            let labels: Vec<String> = fields
                .iter()
                .map(|f| available.iter().find(|(k, _)| k == f).map_or("", |(_, l)| *l).to_string())
                .collect();
            out.push_str(&csv_line(&labels));
            for r in &rows {
                out.push_str(&csv_line(&cells(r)));
            }
        }
        Format::Table if rows.is_empty() => {}
        Format::Table => {
            let labels: Vec<&str> = fields
                .iter()
                .map(|f| available.iter().find(|(k, _)| k == f).map_or("", |(_, l)| *l))
                .collect();
            let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
            out = table(&labels, &body);
        }
    }
    Ok(out)
}

/// A cell as a terminal may show it: control characters (C0, DEL, C1, so also the ESC that
/// starts a terminal sequence) and the invisible characters that reorder or hide text (bidi
/// controls, zero-width marks) become visible escapes like `\n`, `\x1b` or `\u{202e}`. A value
/// set by a site user or an id from a refused request can then neither forge a row nor drive
/// the operator's terminal. JSON output is not escaped this way: it stays exact.
pub fn escape_cell(text: &str) -> std::borrow::Cow<'_, str> {
    fn hidden(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
    }
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One CSV record (RFC 4180): fields with a comma, quote or line break are quoted.
fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
}

/// YAML for a JSON value: block mappings and sequences, every string double-quoted with JSON's
/// escapes (a subset of YAML's), so any value reads back byte for byte.
fn yaml(value: &serde_json::Value) -> String {
    fn scalar(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Array(a) if a.is_empty() => "[]".into(),
            serde_json::Value::Object(o) if o.is_empty() => "{}".into(),
            other => other.to_string(),
        }
    }
    fn emit(v: &serde_json::Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match v {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = serde_json::Value::String(k.clone()).to_string();
                    match v {
                        serde_json::Value::Object(m) if !m.is_empty() => {
                            out.push_str(&format!("{pad}{key}:\n"));
                            emit(v, indent + 2, out);
                        }
                        serde_json::Value::Array(a) if !a.is_empty() => {
                            out.push_str(&format!("{pad}{key}:\n"));
                            emit(v, indent + 2, out);
                        }
                        other => out.push_str(&format!("{pad}{key}: {}\n", scalar(other))),
                    }
                }
            }
            serde_json::Value::Array(items) if !items.is_empty() => {
                for item in items {
                    match item {
                        serde_json::Value::Object(m) if !m.is_empty() => {
                            out.push_str(&format!("{pad}-\n"));
                            emit(item, indent + 2, out);
                        }
                        serde_json::Value::Array(a) if !a.is_empty() => {
                            out.push_str(&format!("{pad}-\n"));
                            emit(item, indent + 2, out);
                        }
                        other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
                    }
                }
            }
            other => out.push_str(&format!("{pad}{}\n", scalar(other))),
        }
    }
    let mut out = String::new();
    emit(value, 0, &mut out);
    out
}

/// A plain text table with a header and a rule, columns padded to their widest cell; every
/// cell goes through [`escape_cell`].
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| escape_cell(h).into_owned()).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> =
        rows.iter().map(|row| row.iter().map(|c| escape_cell(c).into_owned()).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!(" {}\n", padded.join("   ").trim_end())
    };
    let mut out = String::new();
    out.push_str(&format!(" {}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" - ")));
    out.push_str(&line(headers.to_vec()));
    out.push_str(&format!(" {}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" - ")));
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push_str(&format!(" {}\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" - ")));
    out
}

#[cfg(test)]
mod tests {
    use super::{escape_cell, table};

    #[test]
    fn escape_cell_control_and_invisible_characters_made_visible() {
        assert_eq!(escape_cell("plain é ✓ \\ \"quoted\""), "plain é ✓ \\ \"quoted\"");
        assert_eq!(escape_cell("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(escape_cell("\u{1b}]0;pwned\u{7}\u{1b}[2J"), "\\x1b]0;pwned\\x07\\x1b[2J");
        assert_eq!(escape_cell("\0\u{7f}\u{9b}31m"), "\\x00\\x7f\\u{009b}31m");
        assert_eq!(escape_cell("abc\u{202e}fed\u{200b}"), "abc\\u{202e}fed\\u{200b}");
    }

    #[test]
    fn table_cells_escaped_one_line_per_row() {
        let rows = vec![vec!["s1\n 2026 forged row".to_string(), "\u{1b}[2J".to_string()]];
        let out = table(&["Id", "Value"], &rows);
        assert_eq!(out.lines().count(), 5, "{out}");
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("s1\\n 2026 forged row") && out.contains("\\x1b[2J"), "{out}");
    }
}
