//! The management API, on Pantheon's paths: site and organization secrets, read and changed by
//! users with bearer tokens, each reaching only its organizations and sites.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use secrets_core::document::{Document, Value};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::ApiError;
use super::{blocking, Shared, BASE};
use crate::store::{self, AuditEvent, Owner, Put, StoreError, User, View};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(&format!("{BASE}/sites/{{site}}/secrets/showall"), get(site_show))
        .route(&format!("{BASE}/sites/{{site}}/secrets"), post(site_create))
        .route(&format!("{BASE}/sites/{{site}}/secrets/{{name}}"), patch(site_patch).delete(site_delete))
        .route(&format!("{BASE}/organizations/{{org}}/secrets"), get(org_show).post(org_create))
        .route(&format!("{BASE}/organizations/{{org}}/secrets/{{name}}"), patch(org_patch).delete(org_delete))
}

/// `POST …/secrets`: create a secret, or set the default value of an existing one.
#[derive(Debug, Deserialize)]
struct CreateBody {
    name: String,
    value: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
    scopes: Option<Vec<String>>,
}

/// `PATCH …/secrets/{name}`: a new value, for the default or for one environment; a `null`
/// value with an environment deletes that override.
#[derive(Debug, Deserialize)]
struct PatchBody {
    value: Option<Value>,
    env: Option<String>,
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

/// The site named by `id` (its name or UUID) as an owner, if `user` reaches it.
async fn reach_site(state: &Shared, user: &User, id: String) -> Result<Owner, ApiError> {
    let found = {
        let id = id.clone();
        blocking(state, move |s| s.site(&id)).await?
    };
    match found {
        Some(s) if user.reaches_site(&s) => Ok(Owner::Site(s.name)),
        None if user.admin => Err(store::site_not_found(&id).into()),
        found => {
            denied(state, user, &Owner::Site(found.map_or_else(|| id.clone(), |s| s.name)));
            Err(ApiError::Forbidden {
                code: "forbidden",
                message: format!("You do not have access to site '{id}'."),
            })
        }
    }
}

/// The organization named by `id` (its name or UUID) as an owner, if `user` reaches it.
async fn reach_org(state: &Shared, user: &User, id: String) -> Result<Owner, ApiError> {
    let found = {
        let id = id.clone();
        blocking(state, move |s| s.org(&id)).await?
    };
    match found {
        Some(o) if user.reaches_org(&o.name) => Ok(Owner::Org(o.name)),
        None if user.admin => Err(store::org_not_found(&id).into()),
        found => {
            denied(state, user, &Owner::Org(found.map_or_else(|| id.clone(), |o| o.name)));
            Err(ApiError::Forbidden {
                code: "forbidden",
                message: format!("You do not have access to organization '{id}'."),
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

async fn show(state: Shared, user: User, owner: Owner) -> Result<Json<Document>, ApiError> {
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

async fn create(state: Shared, user: User, owner: Owner, body: Bytes) -> Result<impl IntoResponse, ApiError> {
    let body: CreateBody = parse_body(&body)?;
    let value = body.value.ok_or_else(|| ApiError::BadRequest("a value is required".into()))?;
    let put = {
        let (owner, name) = (owner.clone(), body.name.clone());
        blocking(&state, move |s| {
            s.put_secret(&owner, &name, &value, body.kind.as_deref(), body.scopes.as_deref())
        })
        .await?
    };
    state.audit.record(event(&user, "secret.create", &owner, Some(&body.name), None));
    Ok((StatusCode::CREATED, Json(serde_json::json!({"name": body.name, "created": put == Put::Created}))))
}

async fn change(
    state: Shared,
    user: User,
    owner: Owner,
    name: String,
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
            None => s.update_secret(&owner, &name, &body.value.unwrap_or_default()).map(|()| true),
            Some(env) => match body.value {
                Some(value) => s.set_override(&owner, &name, &env, Some(&value)).map(|()| true),
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

async fn delete(
    state: Shared,
    user: User,
    owner: Owner,
    name: String,
    env: Option<String>,
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

async fn site_show(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path(site): Path<String>,
) -> Result<Json<Document>, ApiError> {
    let owner = reach_site(&state, &user, site).await?;
    show(state, user, owner).await
}

async fn org_show(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path(org): Path<String>,
) -> Result<Json<Document>, ApiError> {
    let owner = reach_org(&state, &user, org).await?;
    show(state, user, owner).await
}

async fn site_create(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path(site): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let owner = reach_site(&state, &user, site).await?;
    create(state, user, owner, body).await
}

async fn org_create(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let owner = reach_org(&state, &user, org).await?;
    create(state, user, owner, body).await
}

async fn site_patch(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path((site, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let owner = reach_site(&state, &user, site).await?;
    change(state, user, owner, name, body).await
}

async fn org_patch(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path((org, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let owner = reach_org(&state, &user, org).await?;
    change(state, user, owner, name, body).await
}

async fn site_delete(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path((site, name)): Path<(String, String)>,
    Query(q): Query<DeleteQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let owner = reach_site(&state, &user, site).await?;
    delete(state, user, owner, name, q.env).await
}

async fn org_delete(
    State(state): State<Shared>,
    AuthUser(user): AuthUser,
    Path((org, name)): Path<(String, String)>,
    Query(q): Query<DeleteQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let owner = reach_org(&state, &user, org).await?;
    delete(state, user, owner, name, q.env).await
}
