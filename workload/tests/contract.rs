//! The lab's HTTP contract, response by response, driven through the router
//! against an in-process sandbox's KMS and a temporary SQLite file.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use workload::{StorageConfig, Workload, WorkloadConfig};

const ENCRYPTED: &str = "Data encrypted and stored, keep your key save";
const ENCRYPTION_FAILED: &str = "Data encryption failed, check logs for more details";
const UNKNOWN_NAME: &str = "Failed getting secret text, check the user name";
const DECRYPTION_FAILED: &str = "Data decryption failed, make sure you have the correct key";

struct Lab {
    _sandbox: keywatch_sandbox::RunningSandbox,
    _dir: tempfile::TempDir,
    sdk: aws_config::SdkConfig,
    router: Router,
    key: String,
    database: PathBuf,
}

/// A workload encrypting with a fresh key of the sandbox's KMS.
async fn lab() -> Lab {
    let sandbox = support::start_sandbox().await;
    let sdk = support::sdk_config(&sandbox.endpoint_url);
    let key = support::create_key(&sdk).await;
    lab_with_key(sandbox, sdk, key).await
}

async fn lab_with_key(sandbox: keywatch_sandbox::RunningSandbox, sdk: aws_config::SdkConfig, key: String) -> Lab {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("workload.db");
    let config =
        WorkloadConfig { port: 0, key_id: key.clone(), storage: StorageConfig::Sqlite { path: database.clone() } };
    let workload = Workload::new(config, &sdk).await.expect("workload");
    Lab { _sandbox: sandbox, _dir: dir, sdk, router: workload.router(), key, database }
}

impl Lab {
    async fn send(&self, method: Method, path: &str, content_type: Option<&str>, body: &str) -> (StatusCode, String) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request.body(Body::from(body.to_owned())).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        (status, String::from_utf8(bytes.to_vec()).expect("UTF-8 body"))
    }

    /// Sends `body` as `application/json`, as the lab's curl commands do.
    async fn json(&self, method: Method, path: &str, body: &Value) -> (StatusCode, Value) {
        let (status, text) = self.send(method, path, Some("application/json"), &body.to_string()).await;
        (status, serde_json::from_str(&text).expect("JSON response"))
    }

    async fn encrypt(&self, name: &str, text: &str) -> (StatusCode, Value) {
        self.json(Method::POST, "/encrypt", &json!({"Name": name, "Text": text})).await
    }

    async fn decrypt(&self, name: &str, key: &str) -> (StatusCode, Value) {
        self.json(Method::GET, "/decrypt", &json!({"Name": name, "Key": key})).await
    }

    async fn database(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&self.database))
            .await
            .expect("open the workload's database")
    }
}

fn message(text: &str) -> Value {
    json!({ "Message": text })
}

#[tokio::test]
async fn health_check_answers_ok() {
    let lab = lab().await;
    assert_eq!(lab.send(Method::GET, "/", None, "").await, (StatusCode::OK, "OK".to_owned()));
}

#[tokio::test]
async fn encrypts_stores_and_decrypts_with_the_lab_curl_bodies() {
    let lab = lab().await;
    // The lab's own command: curl --header "Content-Type: application/json"
    // --request POST --data '{"Name":"Bob","Text":"Run your security as a well-oiled machine"}'
    let body = r#"{"Name":"Bob","Text":"Run your security as a well-oiled machine"}"#;
    let (status, text) = lab.send(Method::POST, "/encrypt", Some("application/json"), body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, format!(r#"{{"Message":"{ENCRYPTED}","Key":"{}"}}"#, lab.key));

    // GET with a JSON body, as the lab's decrypt command sends it.
    let body = format!(r#"{{"Name":"Bob","Key":"{}"}}"#, lab.key);
    let (status, text) = lab.send(Method::GET, "/decrypt", Some("application/json"), &body).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, r#"{"Text":"Run your security as a well-oiled machine"}"#));

    // POST works too, and a charset parameter is fine.
    let (status, text) = lab.send(Method::POST, "/decrypt", Some("application/json; charset=utf-8"), &body).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, r#"{"Text":"Run your security as a well-oiled machine"}"#));

    // What is stored is KMS ciphertext, not the text.
    let pool = lab.database().await;
    let stored: String = sqlx::query_scalar("SELECT ciphertext FROM encrypted_texts WHERE name = 'Bob'")
        .fetch_one(&pool)
        .await
        .expect("stored row");
    assert!(!stored.contains("well-oiled"), "{stored}");
}

#[tokio::test]
async fn encrypting_again_replaces_the_stored_text() {
    let lab = lab().await;
    assert_eq!(lab.encrypt("alice", "first").await.0, StatusCode::OK);
    assert_eq!(lab.encrypt("alice", "second").await.0, StatusCode::OK);
    assert_eq!(lab.decrypt("alice", &lab.key).await, (StatusCode::OK, json!({"Text": "second"})));
    let pool = lab.database().await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encrypted_texts").fetch_one(&pool).await.expect("count");
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn unknown_names_are_reported_as_such() {
    let lab = lab().await;
    assert_eq!(lab.decrypt("nobody", &lab.key).await, (StatusCode::BAD_REQUEST, message(UNKNOWN_NAME)));
    // Names are exact: another case is another user.
    assert_eq!(lab.encrypt("Bob", "text").await.0, StatusCode::OK);
    assert_eq!(lab.decrypt("bob", &lab.key).await, (StatusCode::BAD_REQUEST, message(UNKNOWN_NAME)));
}

#[tokio::test]
async fn wrong_keys_fail_decryption() {
    let lab = lab().await;
    assert_eq!(lab.encrypt("Bob", "secret").await.0, StatusCode::OK);
    let other_key = support::create_key(&lab.sdk).await;
    for key in ["some-random-false-key", other_key.as_str(), "alias/nope", "   "] {
        assert_eq!(lab.decrypt("Bob", key).await, (StatusCode::BAD_REQUEST, message(DECRYPTION_FAILED)), "{key:?}");
    }
    let (status, body) = lab.json(Method::GET, "/decrypt", &json!({"Name": "Bob"})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, message(DECRYPTION_FAILED)), "no Key");
    let (status, body) = lab.json(Method::GET, "/decrypt", &json!({"Name": "Bob", "Key": 7})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, message(DECRYPTION_FAILED)), "Key not a string");
    // The key ARN names the same key, so it decrypts.
    let arn = format!("arn:aws:kms:{}:111122223333:key/{}", support::REGION, lab.key);
    assert_eq!(lab.decrypt("Bob", &arn).await, (StatusCode::OK, json!({"Text": "secret"})));
}

#[tokio::test]
async fn a_ciphertext_only_decrypts_under_its_own_name() {
    let lab = lab().await;
    assert_eq!(lab.encrypt("Bob", "bob's secret").await.0, StatusCode::OK);
    // Someone with database access copies Bob's row to Eve's name: the
    // encryption context (Name) stops it decrypting there.
    let pool = lab.database().await;
    sqlx::query("INSERT INTO encrypted_texts (name, ciphertext) SELECT 'Eve', ciphertext FROM encrypted_texts")
        .execute(&pool)
        .await
        .expect("copy row");
    assert_eq!(lab.decrypt("Eve", &lab.key).await, (StatusCode::BAD_REQUEST, message(DECRYPTION_FAILED)));
    assert_eq!(lab.decrypt("Bob", &lab.key).await, (StatusCode::OK, json!({"Text": "bob's secret"})));
}

#[tokio::test]
async fn encryption_failures_are_reported() {
    let sandbox = support::start_sandbox().await;
    let sdk = support::sdk_config(&sandbox.endpoint_url);
    let lab = lab_with_key(sandbox, sdk, "some-random-false-key".to_owned()).await;
    assert_eq!(lab.encrypt("Bob", "text").await, (StatusCode::BAD_REQUEST, message(ENCRYPTION_FAILED)));
    // Nothing was stored.
    assert_eq!(lab.decrypt("Bob", "some-random-false-key").await, (StatusCode::BAD_REQUEST, message(UNKNOWN_NAME)));
}

#[tokio::test]
async fn bad_json_gets_the_failure_message_not_an_internal_error() {
    let lab = lab().await;
    for body in [r#"{"Name":"Bob","Text":"#, "not json", "", "null", "[]", r#""Bob""#] {
        let (status, text) = lab.send(Method::POST, "/encrypt", Some("application/json"), body).await;
        assert_eq!(
            (status, serde_json::from_str::<Value>(&text).ok()),
            (StatusCode::BAD_REQUEST, Some(message(ENCRYPTION_FAILED))),
            "{body:?}"
        );
        let (status, text) = lab.send(Method::GET, "/decrypt", Some("application/json"), body).await;
        assert_eq!(
            (status, serde_json::from_str::<Value>(&text).ok()),
            (StatusCode::BAD_REQUEST, Some(message(UNKNOWN_NAME))),
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn missing_or_mistyped_fields_fail() {
    let lab = lab().await;
    for body in [
        json!({}),
        json!({"Name": "Bob"}),
        json!({"Text": "text"}),
        json!({"Name": 7, "Text": "text"}),
        json!({"Name": "Bob", "Text": null}),
        json!({"name": "Bob", "text": "text"}),
        json!({"Name": "", "Text": "text"}),
        json!({"Name": "Bob", "Text": ""}),
        json!({"Name": "x".repeat(256), "Text": "text"}),
        json!({"Name": "Bob", "Text": "x".repeat(4097)}),
    ] {
        assert_eq!(
            lab.json(Method::POST, "/encrypt", &body).await,
            (StatusCode::BAD_REQUEST, message(ENCRYPTION_FAILED)),
            "{body}"
        );
    }
    for body in
        [json!({}), json!({"Key": lab.key}), json!({"Name": null, "Key": lab.key}), json!({"Name": 7, "Key": lab.key})]
    {
        assert_eq!(
            lab.json(Method::GET, "/decrypt", &body).await,
            (StatusCode::BAD_REQUEST, message(UNKNOWN_NAME)),
            "{body}"
        );
    }
    // The limits are inclusive.
    assert_eq!(lab.encrypt(&"é".repeat(255), &"x".repeat(4096)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn bodies_not_declared_as_json_are_not_read() {
    let lab = lab().await;
    let encrypt = r#"{"Name":"Bob","Text":"text"}"#;
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let (status, text) = lab.send(Method::POST, "/encrypt", content_type, encrypt).await;
        assert_eq!(
            (status, text),
            (StatusCode::BAD_REQUEST, message(ENCRYPTION_FAILED).to_string()),
            "{content_type:?}"
        );
    }
    assert_eq!(lab.encrypt("Bob", "text").await.0, StatusCode::OK);
    let decrypt = format!(r#"{{"Name":"Bob","Key":"{}"}}"#, lab.key);
    let (status, text) = lab.send(Method::GET, "/decrypt", Some("text/plain"), &decrypt).await;
    assert_eq!((status, text), (StatusCode::BAD_REQUEST, message(UNKNOWN_NAME).to_string()));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let lab = lab().await;
    let body = json!({"Name": "Bob", "Text": "x".repeat(70 * 1024)}).to_string();
    let (status, text) = lab.send(Method::POST, "/encrypt", Some("application/json"), &body).await;
    assert_eq!((status, text), (StatusCode::PAYLOAD_TOO_LARGE, message(ENCRYPTION_FAILED).to_string()));
}

#[tokio::test]
async fn routes_and_methods_outside_the_contract_are_not_found_or_not_allowed() {
    let lab = lab().await;
    assert_eq!(lab.send(Method::GET, "/encrypt", None, "").await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(lab.send(Method::GET, "/nope", None, "").await.0, StatusCode::NOT_FOUND);
}

/// Names that would break SQL built from text: they must round-trip byte
/// for byte, and the table must survive them.
#[tokio::test]
async fn hostile_names_never_reach_sql_as_text() {
    let lab = lab().await;
    let names = [
        "O'Brien",
        "Robert'); DROP TABLE encrypted_texts;--",
        "'; DROP TABLE encrypted_texts; --",
        "\" OR \"1\"=\"1",
        "' OR '1'='1",
        "x' UNION SELECT ciphertext FROM encrypted_texts --",
        "back\\slash\\'",
        "%_ wildcards %",
        "Zoë 😀 名前 \u{202e}rtl",
        "line\nbreak\ttab",
    ];
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            lab.encrypt(name, &format!("text {i}")).await,
            (StatusCode::OK, json!({"Message": ENCRYPTED, "Key": lab.key})),
            "{name:?}"
        );
    }
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            lab.decrypt(name, &lab.key).await,
            (StatusCode::OK, json!({"Text": format!("text {i}")})),
            "{name:?}"
        );
    }
    // A lookup that only an injected OR clause could satisfy finds nothing.
    assert_eq!(lab.decrypt("nobody' OR '1'='1", &lab.key).await, (StatusCode::BAD_REQUEST, message(UNKNOWN_NAME)));

    let pool = lab.database().await;
    let stored: BTreeSet<String> = sqlx::query_scalar("SELECT name FROM encrypted_texts")
        .fetch_all(&pool)
        .await
        .expect("table survives")
        .into_iter()
        .collect();
    assert_eq!(stored, names.iter().map(|name| (*name).to_owned()).collect::<BTreeSet<_>>());
}

/// A wrong key is the signal the lab's alarm counts: KMS fails and
/// CloudTrail records the Decrypt with an error code.
#[tokio::test]
async fn a_wrong_key_leaves_a_failed_decrypt_in_cloudtrail() {
    let lab = lab().await;
    assert_eq!(lab.encrypt("Bob", "secret").await.0, StatusCode::OK);
    let other_key = support::create_key(&lab.sdk).await;
    assert_eq!(lab.decrypt("Bob", "some-random-false-key").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(lab.decrypt("Bob", &other_key).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(lab.decrypt("Bob", &lab.key).await.0, StatusCode::OK);

    let cloudtrail = aws_sdk_cloudtrail::Client::new(&lab.sdk);
    let history = cloudtrail
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value("Decrypt")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    let records: Vec<Value> = history
        .events()
        .iter()
        .map(|event| serde_json::from_str(event.cloud_trail_event().expect("CloudTrailEvent")).expect("JSON record"))
        .collect();
    let mut errors: Vec<&str> = records.iter().filter_map(|record| record["errorCode"].as_str()).collect();
    errors.sort_unstable();
    assert_eq!(errors, ["IncorrectKeyException", "NotFoundException"], "{records:#?}");
    assert!(records.iter().all(|record| record["eventSource"] == "kms.amazonaws.com"));
    assert_eq!(records.len(), 3);
}
