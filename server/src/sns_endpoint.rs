//! The HTTP/S endpoint for direct SNS delivery (`POST /sns/notifications`):
//! it verifies every message's signature and signing-certificate URL as
//! AWS's validators do, confirms its subscriptions, and stores notifications
//! through the same code as the SQS inbox.
//!
//! - Verifying messages: <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>
//!   and the steps at
//!   <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html>
//! - The HTTP/S envelope and its confirmation flow:
//!   <https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>,
//!   <https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html>
//!
//! Any failure answers 403 and stores nothing. Before anything is fetched,
//! the message must come from one of the console's own alarm topics (the
//! list the inbox's queue policy names), and its certificate URL must be
//! SNS's in a known Region, the topic's own; certificate fetches are few at
//! a time, failures are remembered for a minute, and the TLS roots are
//! loaded once. So a forged message can never make the console reach a
//! host of the sender's choosing, or reach AWS's hosts at the sender's pace.
//! Every subscription confirmation is audited.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use http::StatusCode;
use serde::Deserialize;

use crate::db::Database;
use crate::db::audit::{AuditEntry, AuditOutcome, actions};
use crate::pollers::inbox::parse_notification;
use crate::sandbox_client;

/// The alarm topics the console listens to: written by the inbox each time
/// it re-reads them (the same list its queue policy names), read by the
/// endpoint before it fetches or stores anything.
#[derive(Debug, Clone, Default)]
pub struct AlarmTopicList(Arc<RwLock<BTreeSet<String>>>);

impl AlarmTopicList {
    /// Replaces the list.
    pub fn replace(&self, topics: impl IntoIterator<Item = String>) {
        let topics: BTreeSet<String> = topics.into_iter().collect();
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = topics;
    }

    /// Whether `topic_arn` is one of the console's alarm topics.
    pub fn contains(&self, topic_arn: &str) -> bool {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).contains(topic_arn)
    }
}

/// Certificate fetches running at once: one, so a failure is remembered
/// before the next request for the same URL looks.
const CONCURRENT_FETCHES: usize = 1;
/// How long a certificate URL that could not be fetched is refused without
/// trying again.
const FAILED_FETCH_MEMORY: Duration = Duration::from_secs(60);
/// Certificates (public keys) kept; SNS rotates its certificate rarely.
const MAX_KEYS: usize = 32;

/// Where the console receives SNS's POSTs.
pub const PATH: &str = "/sns/notifications";

/// The path of the sandbox's signing certificate under its endpoint.
const SANDBOX_CERT_PATH: &str = "/_keywatch/sns/SimpleNotificationService.pem";

/// Why a message was refused or could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum SnsEndpointError {
    #[error("the body is not an SNS message: {0}")]
    Malformed(String),
    #[error("unknown message Type {0:?}")]
    UnknownType(String),
    #[error("unsupported SignatureVersion {0:?}")]
    SignatureVersion(String),
    #[error("the topic {0:?} is not one of the console's alarm topics")]
    UnknownTopic(String),
    #[error("the SigningCertURL {0:?} is not an SNS certificate URL of the topic's Region")]
    CertificateUrl(String),
    #[error("the certificate {0:?} failed to load recently; not fetched again yet")]
    RecentlyFailed(String),
    #[error("the SubscribeURL {0:?} is not an SNS URL")]
    SubscribeUrl(String),
    #[error("the signing certificate could not be read: {0}")]
    Certificate(String),
    #[error("the signature does not verify")]
    Signature,
    #[error("the GET to AWS failed: {0}")]
    LiveFetch(String),
    #[error(transparent)]
    Fetch(#[from] sandbox_client::SandboxClientError),
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
}

/// The members of SNS's JSON envelope this endpoint reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope {
    pub r#type: String,
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    #[serde(rename = "SubscribeURL")]
    pub subscribe_url: Option<String>,
    pub token: Option<String>,
}

/// The endpoint's state: where notifications go, which cert and confirmation
/// URLs it trusts, and the public keys of certificates already fetched.
pub struct SnsEndpoint {
    db: Database,
    /// `Some(http://127.0.0.1:port)` in sandbox mode: only the sandbox's own
    /// certificate and confirmation URLs are accepted then.
    sandbox_endpoint: Option<String>,
    /// The topics whose messages are accepted.
    topics: AlarmTopicList,
    /// Public keys (PKCS#1 DER) by certificate URL.
    keys: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    /// Certificate URLs whose fetch failed, and when.
    failed: Mutex<HashMap<String, Instant>>,
    /// Bounds the certificate fetches running at once.
    fetches: tokio::sync::Semaphore,
    /// Certificate fetches tried since start.
    fetches_tried: std::sync::atomic::AtomicU64,
}

impl SnsEndpoint {
    /// An endpoint storing into `db`, accepting messages from `topics`;
    /// `sandbox_endpoint` as in `ConsoleSettings`.
    pub fn new(db: Database, sandbox_endpoint: Option<String>, topics: AlarmTopicList) -> SnsEndpoint {
        SnsEndpoint {
            db,
            sandbox_endpoint,
            topics,
            keys: Mutex::new(HashMap::new()),
            failed: Mutex::new(HashMap::new()),
            fetches: tokio::sync::Semaphore::new(CONCURRENT_FETCHES),
            fetches_tried: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many certificate fetches were tried since start.
    pub fn certificate_fetches(&self) -> u64 {
        self.fetches_tried.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Verifies one POSTed body and acts on it: confirms a subscription,
    /// stores a notification (true when new), or acknowledges an
    /// unsubscription.
    pub async fn handle(&self, body: &str) -> Result<bool, SnsEndpointError> {
        let envelope: Envelope =
            serde_json::from_str(body).map_err(|error| SnsEndpointError::Malformed(error.to_string()))?;
        if !self.topics.contains(&envelope.topic_arn) {
            return Err(SnsEndpointError::UnknownTopic(envelope.topic_arn));
        }
        let canonical = string_to_sign(&envelope)?;
        let algorithm = algorithm(&envelope.signature_version)?;
        let topic_region = envelope.topic_arn.split(':').nth(3).unwrap_or_default();
        validate_cert_url(&envelope.signing_cert_url, self.sandbox_endpoint.as_deref(), topic_region)?;
        let key = self.public_key(&envelope.signing_cert_url).await?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(envelope.signature.as_bytes())
            .map_err(|_| SnsEndpointError::Signature)?;
        aws_lc_rs::signature::UnparsedPublicKey::new(algorithm, key.as_slice())
            .verify(canonical.as_bytes(), &signature)
            .map_err(|_| SnsEndpointError::Signature)?;
        match envelope.r#type.as_str() {
            "SubscriptionConfirmation" => {
                let url = envelope.subscribe_url.as_deref().unwrap_or_default();
                let confirmed = self.get(url).await;
                let outcome = if confirmed.is_ok() { AuditOutcome::Succeeded } else { AuditOutcome::Failed };
                let entry = AuditEntry {
                    user: "Amazon SNS (signed message)".into(),
                    action: actions::SNS_ENDPOINT_CONFIRM,
                    target: envelope.topic_arn.clone(),
                    outcome,
                    detail: Some(format!("HTTP(S) subscription of {PATH} to the topic")),
                };
                self.db.audit().record(entry).await;
                confirmed?;
                tracing::info!(topic = %envelope.topic_arn, "SNS subscription confirmed");
                Ok(false)
            }
            "Notification" => {
                let notification = parse_notification(body, crate::pollers::now_ms())
                    .map_err(|reason| SnsEndpointError::Malformed(reason.to_owned()))?;
                Ok(self.db.notifications().insert(&notification).await?)
            }
            // Nothing to do: the topic owner unsubscribed us.
            _ => Ok(false),
        }
    }

    async fn public_key(&self, url: &str) -> Result<Arc<Vec<u8>>, SnsEndpointError> {
        if let Some(key) = self.cached_key(url) {
            return Ok(key);
        }
        let _permit = self.fetches.acquire().await.map_err(|_| SnsEndpointError::RecentlyFailed(url.to_owned()))?;
        // Another request may have fetched it while this one waited.
        if let Some(key) = self.cached_key(url) {
            return Ok(key);
        }
        {
            let mut failed = self.failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            failed.retain(|_, at| at.elapsed() < FAILED_FETCH_MEMORY);
            if failed.contains_key(url) {
                return Err(SnsEndpointError::RecentlyFailed(url.to_owned()));
            }
        }
        self.fetches_tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fetched = match self.get(url).await {
            Ok(pem) => public_key_of(pem.as_bytes()),
            Err(error) => Err(error),
        };
        let key = match fetched {
            Ok(key) => Arc::new(key),
            Err(error) => {
                self.failed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(url.to_owned(), Instant::now());
                return Err(error);
            }
        };
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(url.to_owned(), key.clone());
        Ok(key)
    }

    fn cached_key(&self, url: &str) -> Option<Arc<Vec<u8>>> {
        self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(url).cloned()
    }

    /// GETs an already validated URL.
    async fn get(&self, url: &str) -> Result<String, SnsEndpointError> {
        match &self.sandbox_endpoint {
            Some(endpoint) => Ok(sandbox_client::get(endpoint, url).await?),
            None => {
                let uri = validate_live_url(url).map_err(|_| SnsEndpointError::SubscribeUrl(url.to_owned()))?;
                fetch_https(&uri).await
            }
        }
    }
}

/// The route, outside the console's cross-site protection: SNS is not a
/// browser, and the signature is what authenticates its POSTs.
pub fn router(endpoint: Arc<SnsEndpoint>) -> Router {
    Router::new().route(PATH, post(receive)).with_state(endpoint)
}

async fn receive(State(endpoint): State<Arc<SnsEndpoint>>, body: String) -> Response {
    match endpoint.handle(&body).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error @ SnsEndpointError::Database(_)) => {
            // Not the sender's fault: a 5xx makes SNS retry later.
            tracing::error!(%error, "SNS notification could not be stored");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "SNS message refused");
            (StatusCode::FORBIDDEN, "The message does not verify").into_response()
        }
    }
}

/// The algorithm for a `SignatureVersion`: 1 is SHA1, 2 is SHA256, both
/// RSA PKCS#1 v1.5; anything else is refused.
fn algorithm(version: &str) -> Result<&'static aws_lc_rs::signature::RsaParameters, SnsEndpointError> {
    match version {
        "1" => Ok(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY),
        "2" => Ok(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256),
        other => Err(SnsEndpointError::SignatureVersion(other.to_owned())),
    }
}

/// The string SNS signed: `Name\nValue\n` for each signed member in byte
/// order of the names. Notifications sign Message, MessageId, Subject (only
/// when present), Timestamp, TopicArn, Type; confirmations sign Message,
/// MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
pub fn string_to_sign(envelope: &Envelope) -> Result<String, SnsEndpointError> {
    let missing = |name: &str| SnsEndpointError::Malformed(format!("{name} is missing"));
    let mut members: Vec<(&str, &str)> = vec![("Message", &envelope.message), ("MessageId", &envelope.message_id)];
    match envelope.r#type.as_str() {
        "Notification" => {
            if let Some(subject) = &envelope.subject {
                members.push(("Subject", subject));
            }
            members.extend([("Timestamp", envelope.timestamp.as_str()), ("TopicArn", &envelope.topic_arn)]);
        }
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
            let subscribe_url = envelope.subscribe_url.as_deref().ok_or_else(|| missing("SubscribeURL"))?;
            let token = envelope.token.as_deref().ok_or_else(|| missing("Token"))?;
            members.extend([
                ("SubscribeURL", subscribe_url),
                ("Timestamp", &envelope.timestamp),
                ("Token", token),
                ("TopicArn", &envelope.topic_arn),
            ]);
        }
        other => return Err(SnsEndpointError::UnknownType(other.to_owned())),
    }
    members.push(("Type", &envelope.r#type));
    Ok(members.iter().map(|(name, value)| format!("{name}\n{value}\n")).collect())
}

/// Checks a SigningCertURL as AWS's SDK validators do: https, a host
/// `sns.<region>.amazonaws.com` (or `.com.cn`), a path ending `.pem`; and,
/// stricter than they are, the Region must be one AWS has, and the topic's
/// (SNS signs with the certificate of the topic's Region). In sandbox mode
/// only the sandbox's own certificate URL is accepted.
pub fn validate_cert_url(
    url: &str,
    sandbox_endpoint: Option<&str>,
    topic_region: &str,
) -> Result<(), SnsEndpointError> {
    let refused = || SnsEndpointError::CertificateUrl(url.to_owned());
    if let Some(endpoint) = sandbox_endpoint {
        let expected = format!("{}{SANDBOX_CERT_PATH}", endpoint.trim_end_matches('/'));
        return if url == expected { Ok(()) } else { Err(refused()) };
    }
    let uri = validate_live_url(url).map_err(|_| refused())?;
    let region = live_url_region(&uri).ok_or_else(refused)?;
    let known = keywatch_domain::region::find(&region).is_some();
    if known && region == topic_region && uri.path().ends_with(".pem") && uri.query().is_none() {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The Region of a validated `https://sns.<region>.amazonaws.com` URL.
fn live_url_region(uri: &http::Uri) -> Option<String> {
    let host = uri.host()?.to_ascii_lowercase();
    let rest = host.strip_suffix(".amazonaws.com").or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    rest.strip_prefix("sns.").map(str::to_owned)
}

/// An `https://sns.<region>.amazonaws.com[.cn]/...` URL, without user info
/// or an explicit port.
fn validate_live_url(url: &str) -> Result<http::Uri, ()> {
    let uri: http::Uri = url.parse().map_err(|_| ())?;
    if uri.scheme_str() != Some("https") {
        return Err(());
    }
    let authority = uri.authority().ok_or(())?;
    if authority.as_str() != authority.host() {
        return Err(());
    }
    let host = authority.host().to_ascii_lowercase();
    let region = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
        .and_then(|rest| rest.strip_prefix("sns."))
        .ok_or(())?;
    // A region code: letters, digits and hyphens, as the SDKs' host pattern
    // `^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$`.
    if region.len() >= 3 && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') { Ok(uri) } else { Err(()) }
}

/// How long one GET to AWS may take.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// GETs an `https://sns.<region>.amazonaws.com` URL (already validated)
/// over TLS checked against the system's roots, and returns the body.
async fn fetch_https(uri: &http::Uri) -> Result<String, SnsEndpointError> {
    let failed = |error: &dyn std::fmt::Display| SnsEndpointError::LiveFetch(error.to_string());
    let tls = Some(tls_config().map_err(|e| failed(&e))?);
    let request =
        crate::http_client::Request { method: http::Method::GET, uri, body: None, tls, timeout: FETCH_TIMEOUT };
    let answer = crate::http_client::send(request).await.map_err(|error| match error {
        crate::http_client::HttpClientError::TimedOut(_) => failed(&"no answer in time"),
        crate::http_client::HttpClientError::Failed(text) => failed(&text),
    })?;
    if !answer.status.is_success() {
        return Err(failed(&format!("AWS answered {}", answer.status)));
    }
    Ok(answer.body)
}

/// The TLS client settings for AWS, with the system's roots read once
/// (reading them costs tens of milliseconds and a directory scan).
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            // An explicit provider: `ClientConfig::builder()` panics when the
            // tree enables more than one.
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|builder| Arc::new(builder.with_root_certificates(roots).with_no_client_auth()))
                .map_err(|error| error.to_string())
        })
        .clone()
}

/// The RSA public key (PKCS#1 DER) of a PEM certificate.
fn public_key_of(pem: &[u8]) -> Result<Vec<u8>, SnsEndpointError> {
    let failed = |error: &dyn std::fmt::Display| SnsEndpointError::Certificate(error.to_string());
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).map_err(|e| failed(&e))?;
    let certificate = pem.parse_x509().map_err(|e| failed(&e))?;
    Ok(certificate.public_key().subject_public_key.data.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str) -> Envelope {
        Envelope {
            r#type: kind.into(),
            message_id: "m".into(),
            topic_arn: "t".into(),
            subject: None,
            message: "hello".into(),
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            signature_version: "1".into(),
            signature: String::new(),
            signing_cert_url: String::new(),
            subscribe_url: Some("u".into()),
            token: Some("k".into()),
        }
    }

    // https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html
    #[test]
    fn strings_to_sign_follow_the_documented_members_and_order() {
        let mut notification = envelope("Notification");
        assert_eq!(
            string_to_sign(&notification).expect("string"),
            "Message\nhello\nMessageId\nm\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\nt\nType\nNotification\n"
        );
        notification.subject = Some("s".into());
        assert!(string_to_sign(&notification).expect("string").contains("MessageId\nm\nSubject\ns\nTimestamp"));
        assert_eq!(
            string_to_sign(&envelope("SubscriptionConfirmation")).expect("string"),
            "Message\nhello\nMessageId\nm\nSubscribeURL\nu\nTimestamp\n2026-01-01T00:00:00.000Z\nToken\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n"
        );
        assert!(matches!(string_to_sign(&envelope("Other")), Err(SnsEndpointError::UnknownType(_))));
    }

    // https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
    // ("SignatureVersion 1 ... SHA1, SignatureVersion 2 ... SHA256")
    #[test]
    fn only_signature_versions_1_and_2_are_known() {
        assert!(algorithm("1").is_ok());
        assert!(algorithm("2").is_ok());
        assert!(matches!(algorithm("3"), Err(SnsEndpointError::SignatureVersion(_))));
    }

    // https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
    // ("always use HTTPS ... verify the certificate was received from Amazon SNS"), the
    // SDK validators' host pattern ^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$
    #[test]
    fn certificate_urls_must_be_sns_https_pem_urls() {
        for (good, region) in [
            (
                "https://sns.ap-southeast-2.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
                "ap-southeast-2",
            ),
            ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", "cn-north-1"),
        ] {
            assert!(validate_cert_url(good, None, region).is_ok(), "{good}");
        }
        for bad in [
            "http://sns.ap-southeast-2.amazonaws.com/SimpleNotificationService.pem",
            "https://sns.ap-southeast-2.amazonaws.com.evil.example/SimpleNotificationService.pem",
            "https://evil.example/sns.ap-southeast-2.amazonaws.com/SimpleNotificationService.pem",
            "https://sns.ap-southeast-2.amazonaws.com/SimpleNotificationService.txt",
            "https://sns.ap-southeast-2.amazonaws.com:8443/SimpleNotificationService.pem",
            "https://user@sns.ap-southeast-2.amazonaws.com/SimpleNotificationService.pem",
            "https://s3.ap-southeast-2.amazonaws.com/SimpleNotificationService.pem",
            "https://sns.x.amazonaws.com/SimpleNotificationService.pem",
            // Shaped like a Region, but not one AWS has (seen: any label was fetched).
            "https://sns.attacker-label.amazonaws.com/SimpleNotificationService.pem",
            // A real Region, but not the topic's.
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
        ] {
            assert!(validate_cert_url(bad, None, "ap-southeast-2").is_err(), "{bad}");
        }
        let sandbox = Some("http://127.0.0.1:4566");
        assert!(
            validate_cert_url("http://127.0.0.1:4566/_keywatch/sns/SimpleNotificationService.pem", sandbox, "any")
                .is_ok()
        );
        assert!(
            validate_cert_url("http://127.0.0.1:9999/_keywatch/sns/SimpleNotificationService.pem", sandbox, "any")
                .is_err()
        );
        // A real AWS URL is not the sandbox's: in sandbox mode only the sandbox signs.
        assert!(
            validate_cert_url(
                "https://sns.ap-southeast-2.amazonaws.com/SimpleNotificationService-a.pem",
                sandbox,
                "ap-southeast-2"
            )
            .is_err()
        );
    }

    // The SubscribeURL a live confirmation carries is an SNS endpoint URL:
    // https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.confirm.html
    #[test]
    fn live_subscribe_urls_must_be_sns_https_urls() {
        let good = "https://sns.ap-southeast-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic&Token=2336412f37";
        assert!(validate_live_url(good).is_ok());
        assert!(validate_live_url(&good.replacen("https", "http", 1)).is_err());
        assert!(validate_live_url("https://127.0.0.1/?Action=ConfirmSubscription").is_err());
        assert!(validate_live_url("https://sns.ap-southeast-2.amazonaws.com.evil.example/?Action=X").is_err());
    }
}
