//! The audit trail: who read or changed what, when — never a value.
//!
//! Fields are stored as they came, control characters included (JSON output shows them
//! exactly; tables escape them when printed), but bounded: an id taken from a refused request
//! can be as long as a URL, so each field keeps at most [`MAX_FIELD`] bytes, and `detail` at most
//! [`MAX_DETAIL`], with a marker saying how much was cut.

use std::borrow::Cow;

use super::accounts::stored_time;
use super::db::{args, Sql};
use super::{AuditEvent, Result, Store};

/// The most bytes kept of an actor, action, target, secret name or environment.
pub const MAX_FIELD: usize = 255;

/// The most bytes kept of `detail` (which may list the names a request read).
pub const MAX_DETAIL: usize = 4096;

/// `text` cut to at most `max` bytes at a character boundary, followed by a marker saying
/// how many bytes were cut; as it is when short enough.
pub fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…[{} more bytes]", &text[..end], text.len() - end))
}

impl Store {
    /// Appends events to the audit trail in one transaction.
    pub fn audit(&self, events: &[AuditEvent]) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        for e in events {
            let field = |f: &Option<String>| f.as_deref().map(|t| bounded(t, MAX_FIELD).into_owned());
            tx.execute(
                "INSERT INTO audit (actor, action, target, name, env, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![
                    bounded(&e.actor, MAX_FIELD).into_owned(),
                    bounded(&e.action, MAX_FIELD).into_owned(),
                    field(&e.target),
                    field(&e.name),
                    field(&e.env),
                    e.detail.as_deref().map(|t| bounded(t, MAX_DETAIL).into_owned()),
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The latest `limit` audit events, oldest first.
    pub fn audit_list(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        self.audit_query(&AuditFilter::default(), limit)
    }

    /// The latest `limit` audit events that pass `filter`, oldest first.
    pub fn audit_query(&self, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditEvent>> {
        // Times compare as text in the one form the store writes them.
        let since = filter.since.as_deref().map(|t| stored_time("time --since", t)).transpose()?;
        let until = filter.until.as_deref().map(|t| stored_time("time --until", t)).transpose()?;
        // A pattern ending in `*` matches by prefix, anything else exactly.
        let pattern = |p: &Option<String>| -> (Option<String>, bool) {
            match p.as_deref() {
                Some(p) => match p.strip_suffix('*') {
                    Some(prefix) => (Some(prefix.to_string()), true),
                    None => (Some(p.to_string()), false),
                },
                None => (None, false),
            }
        };
        let (actor, actor_prefix) = pattern(&filter.actor);
        let (action, action_prefix) = pattern(&filter.action);
        let (target, target_prefix) = pattern(&filter.target);
        let sql = "SELECT at, actor, action, target, name, env, detail FROM
               (SELECT * FROM audit
                WHERE (CAST(?2 AS TEXT) IS NULL
                       OR (CASE WHEN ?3 THEN substr(actor, 1, length(?2)) = ?2 ELSE actor = ?2 END))
                  AND (CAST(?4 AS TEXT) IS NULL
                       OR (CASE WHEN ?5 THEN substr(action, 1, length(?4)) = ?4 ELSE action = ?4 END))
                  AND (CAST(?6 AS TEXT) IS NULL
                       OR (CASE WHEN ?7 THEN substr(target, 1, length(?6)) = ?6 ELSE target = ?6 END))
                  AND (CAST(?8 AS TEXT) IS NULL OR at >= ?8)
                  AND (CAST(?9 AS TEXT) IS NULL OR at < ?9)
                ORDER BY id DESC LIMIT ?1) AS latest ORDER BY id";
        let args = args![
            i64::from(limit),
            actor,
            actor_prefix,
            action,
            action_prefix,
            target,
            target_prefix,
            since,
            until
        ];
        self.conn()?.query(sql, args, |r| {
            Ok(AuditEvent {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
                name: r.get(4)?,
                env: r.get(5)?,
                detail: r.get(6)?,
            })
        })
    }
}

/// What `audit:list` keeps: each field set must match (`*` at the end: a prefix), and the
/// time must be within `since` (inclusive) and `until` (exclusive), RFC 3339.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `user:NAME`, `binding:SERIAL`, `operator`, …
    pub actor: Option<String>,
    /// `secret.create`, `runtime.read`, `secret.*`, …
    pub action: Option<String>,
    /// `site:NAME`, `org:NAME`, …
    pub target: Option<String>,
    /// From this time on.
    pub since: Option<String>,
    /// Before this time.
    pub until: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cuts_at_char_boundary_with_marker() {
        assert_eq!(bounded("short", 255), "short");
        let long = "é".repeat(200);
        let cut = bounded(&long, 255);
        assert!(cut.starts_with(&"é".repeat(127)), "{cut}");
        assert!(cut.ends_with("…[146 more bytes]"), "{cut}");
    }

    engine_test! {
    fn audit_long_fields_stored_bounded_control_characters_kept(store) {
        let id = "x".repeat(60_000);
        store
            .audit(&[AuditEvent {
                actor: "user:a\n\u{1b}[2J".into(),
                action: "access.denied".into(),
                target: Some(format!("site:{id}")),
                detail: Some("d".repeat(10_000)),
                ..AuditEvent::default()
            }])
            .unwrap();
        let events = store.audit_list(10).unwrap();
        let last = events.last().unwrap();
        let target = last.target.as_deref().unwrap();
        assert!(target.len() < MAX_FIELD + 32 && target.starts_with("site:xxx"), "{}", target.len());
        assert!(target.ends_with("…[59750 more bytes]"), "{target}");
        assert!(last.detail.as_deref().unwrap().len() < MAX_DETAIL + 32);
        assert_eq!(last.actor, "user:a\n\u{1b}[2J", "short fields are kept exactly");
    }
    }

    engine_test! {
    fn audit_query_filters_by_field_prefix_and_time(store) {
        let event = |actor: &str, action: &str, target: &str| AuditEvent {
            actor: actor.into(),
            action: action.into(),
            target: Some(target.into()),
            ..AuditEvent::default()
        };
        store
            .audit(&[
                event("user:ann", "secret.create", "site:s1"),
                event("user:bob", "secret.delete", "site:s2"),
                event("operator", "site.create", "site:s1"),
            ])
            .unwrap();
        let actions = |f: AuditFilter| -> Vec<String> {
            store.audit_query(&f, 100).unwrap().into_iter().map(|e| e.action).collect()
        };
        let f = |actor: Option<&str>, action: Option<&str>, target: Option<&str>| AuditFilter {
            actor: actor.map(String::from),
            action: action.map(String::from),
            target: target.map(String::from),
            ..AuditFilter::default()
        };
        assert_eq!(actions(f(Some("user:ann"), None, None)), ["secret.create"]);
        assert_eq!(actions(f(Some("user:*"), None, None)), ["secret.create", "secret.delete"]);
        assert_eq!(actions(f(None, Some("secret.*"), Some("site:s1"))), ["secret.create"]);
        assert_eq!(actions(f(None, None, Some("site:s"))), Vec::<String>::new(), "exact without *");
        let future = AuditFilter { since: Some("2999-01-01T00:00:00Z".into()), ..AuditFilter::default() };
        assert!(actions(future).is_empty());
        let past = AuditFilter { until: Some("2000-01-01T00:00:00Z".into()), ..AuditFilter::default() };
        assert!(actions(past).is_empty());
        let window = AuditFilter {
            since: Some("2000-01-01T00:00:00Z".into()),
            until: Some("2999-01-01T00:00:00Z".into()),
            ..AuditFilter::default()
        };
        assert_eq!(actions(window).len(), 3);
    }
    }
}
