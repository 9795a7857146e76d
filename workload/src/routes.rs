//! The lab's HTTP contract: `GET /`, `POST /encrypt` and `GET`/`POST
//! /decrypt`, with the original application's exact messages and statuses.
//!
//! Bodies the original could not use (not JSON, not `application/json`,
//! fields missing or not strings) get the same 400 and message as the
//! failure the original fell into with them: `/encrypt` reports that
//! encryption failed, `/decrypt` without a usable Name that the user name is
//! wrong, and `/decrypt` for a known Name without a usable Key that
//! decryption failed. Bodies over [`MAX_BODY_BYTES`] get 413 with the same
//! message. No response ever carries internal error text: the detail is
//! logged once, in [`ApiError::into_response`].

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::kms::{Kms, KmsError};
use crate::storage::{CiphertextStore, StorageError};

/// Largest request body accepted: KMS encrypts at most 4 KiB of plaintext,
/// so anything much larger can only be a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// KMS Encrypt's plaintext limit.
const MAX_TEXT_BYTES: usize = 4096;

/// The longest Name stored (the MySQL column is VARCHAR(255)).
const MAX_NAME_CHARS: usize = 255;

const ENCRYPTED: &str = "Data encrypted and stored, keep your key save";
const ENCRYPTION_FAILED: &str = "Data encryption failed, check logs for more details";
const UNKNOWN_NAME: &str = "Failed getting secret text, check the user name";
const DECRYPTION_FAILED: &str = "Data decryption failed, make sure you have the correct key";

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    kms: Kms,
    store: Arc<dyn CiphertextStore>,
    key_id: Arc<str>,
}

impl AppState {
    /// The state for encrypting with `key_id` and keeping ciphertexts in
    /// `store`.
    pub fn new(kms: Kms, store: Arc<dyn CiphertextStore>, key_id: impl Into<Arc<str>>) -> AppState {
        AppState { kms, store, key_id: key_id.into() }
    }
}

/// The lab application's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(health))
        .route("/encrypt", post(encrypt))
        .route("/decrypt", get(decrypt).post(decrypt))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Info-level request spans: every log line of a request carries its
        // method and path, and each response is logged with its status.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// The load balancer's health check.
async fn health() -> &'static str {
    "OK"
}

#[derive(Deserialize)]
struct EncryptRequest {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Text")]
    text: String,
}

#[derive(Serialize)]
struct EncryptResponse {
    #[serde(rename = "Message")]
    message: &'static str,
    #[serde(rename = "Key")]
    key: Arc<str>,
}

async fn encrypt(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EncryptResponse>, ApiError> {
    let fail = |reason| ApiError { message: ENCRYPTION_FAILED, reason };
    let request: EncryptRequest = parse_json(&headers, body).map_err(fail)?;
    if request.name.is_empty() || request.name.chars().count() > MAX_NAME_CHARS {
        return Err(fail(Reason::Invalid("Name must be 1 to 255 characters")));
    }
    if request.text.is_empty() || request.text.len() > MAX_TEXT_BYTES {
        return Err(fail(Reason::Invalid("Text must be 1 to 4096 bytes")));
    }
    let ciphertext =
        state.kms.encrypt(&state.key_id, &request.name, &request.text).await.map_err(Reason::Kms).map_err(fail)?;
    state.store.put(&request.name, &BASE64.encode(ciphertext)).await.map_err(Reason::Storage).map_err(fail)?;
    tracing::info!(name = %request.name, "text encrypted and stored");
    Ok(Json(EncryptResponse { message: ENCRYPTED, key: state.key_id.clone() }))
}

/// Fields read loosely so a bad Key can still be told apart from a bad
/// Name: they fail with different messages.
#[derive(Deserialize)]
struct DecryptRequest {
    #[serde(rename = "Name")]
    name: Option<serde_json::Value>,
    #[serde(rename = "Key")]
    key: Option<serde_json::Value>,
}

/// The value if it is a non-blank string.
fn text_field(value: Option<serde_json::Value>) -> Option<String> {
    match value {
        Some(serde_json::Value::String(text)) if !text.trim().is_empty() => Some(text),
        _ => None,
    }
}

#[derive(Serialize)]
struct DecryptResponse {
    #[serde(rename = "Text")]
    text: String,
}

async fn decrypt(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DecryptResponse>, ApiError> {
    let unknown = |reason| ApiError { message: UNKNOWN_NAME, reason };
    let fail = |reason| ApiError { message: DECRYPTION_FAILED, reason };
    let request: DecryptRequest = parse_json(&headers, body).map_err(unknown)?;
    let name = text_field(request.name).ok_or(Reason::Invalid("Name is missing or not text")).map_err(unknown)?;
    let stored = state.store.get(&name).await.map_err(Reason::Storage).map_err(unknown)?;
    let stored = stored.ok_or(Reason::NotFound).map_err(unknown)?;
    let key = text_field(request.key).ok_or(Reason::Invalid("Key is missing or not text")).map_err(fail)?;
    let ciphertext = BASE64.decode(stored).map_err(|_| Reason::Corrupt).map_err(fail)?;
    let text = state.kms.decrypt(&key, &name, ciphertext).await.map_err(Reason::Kms).map_err(fail)?;
    tracing::info!(%name, "text decrypted");
    Ok(Json(DecryptResponse { text }))
}

/// Reads a JSON body as the original's `express.json()` did: only with a
/// JSON content type.
fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<T, Reason> {
    let body = body.map_err(Reason::Body)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(Reason::NotJson);
    }
    serde_json::from_slice(&body).map_err(|error| Reason::Malformed(describe(&error)))
}

/// What is wrong with a body, without quoting it: serde_json's messages can
/// include the values they reject, and a Text must never reach the log.
fn describe(error: &serde_json::Error) -> String {
    let message = error.to_string();
    if message.starts_with("missing field") {
        return message;
    }
    format!("{:?} error at line {} column {}", error.classify(), error.line(), error.column())
}

/// Why a request failed, for the log only.
#[derive(Debug, thiserror::Error)]
enum Reason {
    #[error("the body could not be read: {0}")]
    Body(BytesRejection),
    #[error("the body is not declared as JSON (Content-Type: application/json)")]
    NotJson,
    #[error("the body is not the expected JSON: {0}")]
    Malformed(String),
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    #[error("no text is stored under this name")]
    NotFound,
    #[error("the stored ciphertext is not base64")]
    Corrupt,
    #[error(transparent)]
    Kms(KmsError),
    #[error(transparent)]
    Storage(StorageError),
}

/// A failed request: the contract's message for the client, the reason for
/// the log.
#[derive(Debug)]
pub struct ApiError {
    message: &'static str,
    reason: Reason,
}

#[derive(Serialize)]
struct MessageBody {
    #[serde(rename = "Message")]
    message: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.reason {
            Reason::Body(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            _ => StatusCode::BAD_REQUEST,
        };
        match &self.reason {
            // The service's own faults are errors; the caller's are warnings
            // (a wrong key is what the lab's alarm is about, not a bug here).
            Reason::Storage(_) | Reason::Corrupt | Reason::Kms(KmsError::Unavailable(_)) => {
                tracing::error!(reason = %self.reason, response = self.message, "request failed");
            }
            _ => tracing::warn!(reason = %self.reason, response = self.message, "request failed"),
        }
        (status, Json(MessageBody { message: self.message })).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_never_quote_the_body() {
        for body in [r#""a secret text""#, r#"{"Name":"Bob","Text":["a secret text"]}"#, r#"{"Name":"a secret text"#] {
            let error = serde_json::from_str::<EncryptRequest>(body).err().map(|error| describe(&error));
            let described = error.unwrap_or_default();
            assert!(!described.is_empty() && !described.contains("secret"), "{body}: {described}");
        }
        let missing = serde_json::from_str::<EncryptRequest>(r#"{"Name":"Bob"}"#).err().map(|error| describe(&error));
        assert_eq!(missing.as_deref(), Some("missing field `Text` at line 1 column 14"));
    }
}
