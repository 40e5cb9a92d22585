//! The runtime API: a PHP worker (or a build runner) reads its site's secrets, resolved for its
//! environment, with the shared resolution code of `secrets_core`.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use secrets_core::resolve::{resolve_document, IC, WEB};

use super::auth::Runtime;
use super::error::ApiError;
use super::{blocking, Shared, BASE};
use crate::store::{AuditEvent, Envs};

pub(super) fn routes() -> Router<Shared> {
    Router::new().route(&format!("{BASE}/runtime/secrets"), get(runtime_secrets))
}

/// `GET /runtime/secrets`: the DESIGN §3 document with only `web` secrets (`ic` for a build
/// identity), each holding its value for the certificate's environment and nothing else. Only
/// the default values and that environment's overrides are decrypted.
async fn runtime_secrets(
    axum::extract::State(state): axum::extract::State<Shared>,
    Runtime { binding, site }: Runtime,
) -> Result<impl IntoResponse, ApiError> {
    let env = binding.env.clone();
    let scope = if binding.build { IC } else { WEB };
    let (body, names) = blocking(&state, move |store| {
        let doc = store.site_document(&site, Envs::Only(&env))?;
        let visible = resolve_document(&doc, &env, scope);
        let names: Vec<&str> = visible.secrets.keys().map(String::as_str).collect();
        Ok((visible.to_json(), names.join(",")))
    })
    .await?;
    state.audit.record(AuditEvent {
        actor: format!("binding:{}", binding.serial),
        action: "runtime.read".into(),
        target: Some(format!("site:{}", binding.site)),
        env: Some(binding.env.clone()),
        detail: Some(names),
        ..AuditEvent::default()
    });
    Ok((
        [(CONTENT_TYPE, "application/json")],
        body.as_bytes().to_vec(),
    ))
}
