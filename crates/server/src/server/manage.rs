//! The management API, on Pantheon's paths: site and organization secrets, read and changed by
//! users with bearer tokens, each reaching only its organizations and sites.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use secrets_core::document::Document;
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::ApiError;
use super::{blocking, Shared};
use crate::api_paths::{self, OwnerKind};
use crate::sensitive::Sensitive;
use crate::store::{self, AuditEvent, Owner, Put, StoreError, User, View};

/// The same handlers serve sites and organizations: [`Reached`] reads the owner from the path.
pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(api_paths::SITE_SHOWALL, get(show))
        .route(api_paths::SITE_SECRETS, post(create))
        .route(api_paths::SITE_SECRET, patch(change).delete(delete))
        .route(api_paths::ORG_SECRETS, get(show).post(create))
        .route(api_paths::ORG_SECRET, patch(change).delete(delete))
}

/// `POST …/secrets`: create a secret, or set the default value of an existing one. Its `Debug`
/// shows no value: [`Sensitive`].
#[derive(Debug, Deserialize)]
struct CreateBody {
    name: String,
    value: Option<Sensitive>,
    #[serde(rename = "type")]
    kind: Option<String>,
    scopes: Option<Vec<String>>,
}

/// `PATCH …/secrets/{name}`: a new value, for the default or for one environment; a `null`
/// value with an environment deletes that override.
#[derive(Debug, Deserialize)]
struct PatchBody {
    value: Option<Sensitive>,
    env: Option<String>,
}

/// The secret a `PATCH` or `DELETE` names (`{name}`; the owner is [`Reached`]'s).
#[derive(Deserialize)]
struct SecretPath {
    name: String,
}

/// `DELETE …/secrets/{name}?env=E` deletes only the override of E.
#[derive(Debug, Deserialize)]
struct DeleteQuery {
    env: Option<String>,
}

/// Parses a JSON body without ever echoing its content in the error (serde would quote the
/// offending string, which may be a secret).
fn parse_body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "malformed JSON body ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// A management caller and the owner its path names (`{site}` or `{org}`, by name or UUID),
/// which the caller reaches. Otherwise the request is refused (403, recorded in the audit trail)
/// or, for an administrator, the owner does not exist (404). One extractor for every route, so
/// no handler can forget the check.
struct Reached {
    user: User,
    owner: Owner,
}

impl FromRequestParts<Shared> for Reached {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::BadRequest("the path is not valid UTF-8".into()))?;
        let (kind, id) = match (params.get("site"), params.get("org")) {
            (Some(site), _) => (OwnerKind::Site, site.clone()),
            (None, Some(org)) => (OwnerKind::Org, org.clone()),
            (None, None) => return Err(ApiError::Internal("a management route names no owner".into())),
        };
        let owner = reach(state, &user, kind, id).await?;
        Ok(Reached { user, owner })
    }
}

/// The site or organization `id` (its name or UUID) as an owner, if `user` reaches it.
async fn reach(state: &Shared, user: &User, kind: OwnerKind, id: String) -> Result<Owner, ApiError> {
    let found = {
        let id = id.clone();
        match kind {
            OwnerKind::Site => {
                let site = blocking(state, move |s| s.site(&id)).await?;
                site.map(|site| (user.reaches_site(&site), site.name))
            }
            OwnerKind::Org => {
                let org = blocking(state, move |s| s.org(&id)).await?;
                org.map(|org| (user.reaches_org(&org.name), org.name))
            }
        }
    };
    let owner = |name| match kind {
        OwnerKind::Site => Owner::Site(name),
        OwnerKind::Org => Owner::Org(name),
    };
    match found {
        Some((true, name)) => Ok(owner(name)),
        None if user.admin => Err(match kind {
            OwnerKind::Site => store::site_not_found(&id),
            OwnerKind::Org => store::org_not_found(&id),
        }
        .into()),
        found => {
            denied(state, user, &owner(found.map_or_else(|| id.clone(), |(_, name)| name)));
            let what = match kind {
                OwnerKind::Site => "site",
                OwnerKind::Org => "organization",
            };
            Err(ApiError::Forbidden {
                code: "forbidden",
                message: format!("You do not have access to {what} '{id}'."),
            })
        }
    }
}

/// Records a refused attempt: who tried to reach what.
fn denied(state: &Shared, user: &User, owner: &Owner) {
    state.audit.record(event(user, "access.denied", owner, None, None));
}

fn event(user: &User, action: &str, owner: &Owner, name: Option<&str>, env: Option<&str>) -> AuditEvent {
    AuditEvent {
        actor: format!("user:{}", user.name),
        action: action.to_string(),
        target: Some(format!("{}:{}", owner.kind(), owner.id())),
        name: name.map(str::to_string),
        env: env.map(str::to_string),
        ..AuditEvent::default()
    }
}

/// `GET …/showall` (sites), `GET …/secrets` (organizations): the owner's document.
async fn show(
    State(state): State<Shared>,
    Reached { user, owner }: Reached,
) -> Result<Json<Document>, ApiError> {
    let doc = {
        let owner = owner.clone();
        blocking(&state, move |s| match &owner {
            Owner::Site(id) => {
                let site = s.site(id)?.ok_or_else(|| store::site_not_found(id))?;
                s.site_document(&site, View::Shown)
            }
            Owner::Org(id) => s.org_document(id),
        })
        .await?
    };
    let mut e = event(&user, "secrets.list", &owner, None, None);
    e.detail = Some(doc.secrets.keys().cloned().collect::<Vec<_>>().join(","));
    state.audit.record(e);
    // Values without the `user` scope of their owner's secret are null: the store never opened them.
    Ok(Json(doc))
}

/// `POST …/secrets`.
async fn create(
    State(state): State<Shared>,
    Reached { user, owner }: Reached,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let body: CreateBody = parse_body(&body)?;
    let value = body.value.ok_or_else(|| ApiError::BadRequest("a value is required".into()))?;
    let put = {
        let (owner, name) = (owner.clone(), body.name.clone());
        blocking(&state, move |s| {
            s.put_secret(&owner, &name, value.expose(), body.kind.as_deref(), body.scopes.as_deref())
        })
        .await?
    };
    state.audit.record(event(&user, "secret.create", &owner, Some(&body.name), None));
    Ok((StatusCode::CREATED, Json(serde_json::json!({"name": body.name, "created": put == Put::Created}))))
}

/// `PATCH …/secrets/{name}`.
async fn change(
    State(state): State<Shared>,
    Reached { user, owner }: Reached,
    Path(SecretPath { name }): Path<SecretPath>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let body: PatchBody = parse_body(&body)?;
    let action = match (&body.env, &body.value) {
        (None, None) => {
            return Err(ApiError::BadRequest(
                "a value is required (null only deletes an environment's value)".into(),
            ))
        }
        (None, Some(_)) => "secret.update",
        (Some(_), Some(_)) => "secret.override.set",
        (Some(_), None) => "secret.override.delete",
    };
    let existed = {
        let (owner, name, env) = (owner.clone(), name.clone(), body.env.clone());
        blocking(&state, move |s| match env {
            None => s.update_secret(&owner, &name, body.value.unwrap_or_default().expose()).map(|()| true),
            Some(env) => match body.value {
                Some(value) => s.set_override(&owner, &name, &env, Some(value.expose())).map(|()| true),
                None => delete_override(s, &owner, &name, &env),
            },
        })
        .await?
    };
    let mut e = event(&user, action, &owner, Some(&name), body.env.as_deref());
    if !existed {
        e.detail = Some(OVERRIDE_ABSENT.into());
    }
    state.audit.record(e);
    Ok(Json(serde_json::json!({"name": name})))
}

/// `DELETE …/secrets/{name}[?env=E]`.
async fn delete(
    State(state): State<Shared>,
    Reached { user, owner }: Reached,
    Path(SecretPath { name }): Path<SecretPath>,
    Query(DeleteQuery { env }): Query<DeleteQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let existed = {
        let (owner, name, env) = (owner.clone(), name.clone(), env.clone());
        blocking(&state, move |s| match env {
            None => s.delete_secret(&owner, &name).map(|()| true),
            Some(env) => delete_override(s, &owner, &name, &env),
        })
        .await?
    };
    let action = if env.is_some() { "secret.override.delete" } else { "secret.delete" };
    let mut e = event(&user, action, &owner, Some(&name), env.as_deref());
    if !existed {
        e.detail = Some(OVERRIDE_ABSENT.into());
    }
    state.audit.record(e);
    Ok(StatusCode::NO_CONTENT)
}

/// The audit detail of an override deletion that found no override.
const OVERRIDE_ABSENT: &str = "no override to delete";

/// Deletes the override of `name` in `env`; deleting one that does not exist succeeds (the
/// plugin reports "deleted if it existed"), and says so: `Ok(false)`. The secret itself must
/// exist, so that a mistyped name is still an error.
fn delete_override(s: &store::Store, owner: &Owner, name: &str, env: &str) -> Result<bool, StoreError> {
    match s.set_override(owner, name, env, None) {
        Ok(()) => Ok(true),
        Err(StoreError::NotFound { code: "override_not_found", .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request bodies that carry a value, formatted with `{:?}`, show none of it.
    #[test]
    fn debug_create_and_patch_bodies_never_show_a_value() {
        const CANARY: &str = "canary-51c3a0";
        let create: CreateBody =
            serde_json::from_str(&format!(r#"{{"name": "K", "value": "{CANARY}", "scopes": ["web"]}}"#))
                .unwrap();
        let patch: PatchBody =
            serde_json::from_str(&format!(r#"{{"value": "{CANARY}", "env": "live"}}"#)).unwrap();
        assert_eq!(create.value.as_ref().map(Sensitive::expose), Some(CANARY));
        for text in [format!("{create:?}"), format!("{patch:?}"), format!("{create:#?}")] {
            assert!(!text.contains(CANARY), "a value in {text}");
            assert!(text.contains("[REDACTED]"), "{text}");
        }
        assert!(format!("{patch:?}").contains("live"));
    }
}
