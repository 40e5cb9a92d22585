//! A small blocking client of the management API: HTTPS with a bearer token, the paths of
//! [`crate::api_paths`], errors as the service gives them (its message, the stable code from the
//! [`ERROR_CODE_HEADER`] header). It knows nothing of the command line; the CLI's Terminus
//! commands use it.

use std::path::Path;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::{Method, StatusCode, Url};
use secrets_core::document::Document;

use crate::api_paths::{self, OwnerKind, BASE, ERROR_CODE_HEADER};
use crate::sensitive::Sensitive;

/// Why a call to the service failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service answered with an error; the message is the service's.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable code.
        code: String,
        /// The message.
        message: String,
    },
    /// No answer.
    #[error("cannot reach the secrets service: {0}")]
    Http(String),
    /// The URL or the CA file cannot be used.
    #[error("{0}")]
    Setup(String),
}

/// A client of one service, with one token.
pub struct ApiClient {
    client: Client,
    base: Url,
    token: Sensitive,
}

impl ApiClient {
    /// A client of the service at `url` (its base path is added when the URL has none) that
    /// sends `token`, trusting `ca_file` (PEM) besides the system roots.
    pub fn new(url: &str, token: Sensitive, ca_file: Option<&Path>) -> Result<ApiClient, ClientError> {
        let mut builder = Client::builder().use_rustls_tls().timeout(Duration::from_secs(30));
        if let Some(path) = ca_file {
            let pem =
                std::fs::read(path).map_err(|e| ClientError::Setup(format!("{}: {e}", path.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| ClientError::Setup(format!("{}: {e}", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| ClientError::Http(e.to_string()))?;
        let mut base = Url::parse(url).map_err(|e| ClientError::Setup(format!("service URL {url}: {e}")))?;
        if base.path() == "/" || base.path().is_empty() {
            base.set_path(BASE);
        }
        Ok(ApiClient { client, base, token })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends a request; waits and retries (a few times) when told 429 with `Retry-After`.
    fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ClientError> {
        for attempt in 0.. {
            let mut request =
                self.client.request(method.clone(), url.clone()).bearer_auth(self.token.expose());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().map_err(|e| ClientError::Http(without_url(&e)))?;
            if response.status() == StatusCode::TOO_MANY_REQUESTS && attempt < 5 {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(10);
                std::thread::sleep(Duration::from_secs(wait));
                continue;
            }
            if response.status().is_success() {
                return Ok(response);
            }
            return Err(api_error(response));
        }
        unreachable!("the loop returns")
    }

    /// The owner's document: a site's `showall` (its organization's values included), an
    /// organization's secrets.
    pub fn document(&self, kind: OwnerKind, id: &str) -> Result<Document, ClientError> {
        let bytes = self
            .send(Method::GET, self.url(&api_paths::document(kind, id)), None)?
            .bytes()
            .map_err(|e| ClientError::Http(without_url(&e)))?;
        Document::parse(&bytes).map_err(|e| ClientError::Http(format!("unexpected answer: {e}")))
    }

    /// `POST …/secrets`: creates a secret (`name`, `value`, optional `type` and `scopes`).
    pub fn create(&self, kind: OwnerKind, id: &str, body: &serde_json::Value) -> Result<(), ClientError> {
        self.send(Method::POST, self.url(&api_paths::secrets(kind, id)), Some(body)).map(drop)
    }

    /// `PATCH …/secrets/{name}`: a new value, the default or one environment's (`env`).
    pub fn patch(
        &self,
        kind: OwnerKind,
        id: &str,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<(), ClientError> {
        self.send(Method::PATCH, self.url(&api_paths::secret(kind, id, name)), Some(body)).map(drop)
    }

    /// `DELETE …/secrets/{name}[?env=E]`: the secret, or only its value in `env`.
    pub fn delete(
        &self,
        kind: OwnerKind,
        id: &str,
        name: &str,
        env: Option<&str>,
    ) -> Result<(), ClientError> {
        let mut url = self.url(&api_paths::secret(kind, id, name));
        if let Some(env) = env {
            url.query_pairs_mut().append_pair("env", env);
        }
        self.send(Method::DELETE, url, None).map(drop)
    }
}

/// An error answer: the code from its header, the message from its body (a JSON string).
fn api_error(response: Response) -> ClientError {
    let status = response.status().as_u16();
    let code = response
        .headers()
        .get(ERROR_CODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_string();
    let body: serde_json::Value = response.json().unwrap_or_default();
    let message = match body {
        serde_json::Value::String(message) => message,
        _ => format!("the service answered {status}"),
    };
    ClientError::Api { status, code, message }
}

/// A transport error with its causes, for the user.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
