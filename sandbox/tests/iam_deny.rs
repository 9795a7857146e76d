//! Containment through the wire protocols (issue 21): a role session's KMS
//! calls answer to its role's identity-based policies. An explicit deny put
//! with IAM PutRolePolicy refuses them as KMS does, and CloudTrail records
//! the refusal; AWS's documented revoke-older-sessions policy refuses the
//! sessions issued before it and not those issued after.
//!
//! IAM is called with raw Query requests (the sandbox's tests carry no IAM
//! SDK client); KMS, STS and CloudTrail through the official SDK clients.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REGION: &str = "ap-southeast-2";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;

/// One IAM Query call (signed for `iam` in us-east-1, as the SDKs sign
/// it); the status line and the XML body.
async fn iam(addr: std::net::SocketAddr, params: &[(&str, &str)]) -> (String, String) {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("Version", "2010-05-08")
        .extend_pairs(params)
        .finish();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261207/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        addr.port(),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

async fn iam_ok(addr: std::net::SocketAddr, params: &[(&str, &str)]) {
    let (status, body) = iam(addr, params).await;
    assert!(status.contains(" 200 "), "{params:?}: {status} {body}");
}

/// A KMS client signing as a new session of role `role` (STS AssumeRole
/// by the default user).
async fn session(endpoint: &str, role: &str, name: &str) -> (aws_sdk_kms::Client, String) {
    let sts = aws_sdk_sts::Client::new(&support::sdk_config(endpoint, REGION));
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::111122223333:role/{role}"))
        .role_session_name(name)
        .send()
        .await
        .expect("AssumeRole");
    let credentials = assumed.credentials().expect("credentials");
    let arn = assumed.assumed_role_user().expect("assumed role user").arn().to_owned();
    let signing = Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
        None,
        "assumed-role",
    );
    (aws_sdk_kms::Client::new(&support::sdk_config_with(endpoint, REGION, signing)), arn)
}

async fn encrypt(
    kms: &aws_sdk_kms::Client,
    key: &str,
) -> Result<Blob, aws_sdk_kms::error::SdkError<aws_sdk_kms::operation::encrypt::EncryptError>> {
    let output = kms.encrypt().key_id(key).plaintext(Blob::new("card 4111")).send().await?;
    Ok(output.ciphertext_blob().expect("ciphertext").clone())
}

/// A sandbox with a key (made by the default user, whose KMS client is
/// returned) and a role `role` that the account may assume.
async fn key_and_role(role: &str) -> (keywatch_sandbox::RunningSandbox, aws_sdk_kms::Client, String) {
    let sandbox = support::start_sandbox().await;
    let admin = aws_sdk_kms::Client::new(&support::sdk_config(&sandbox.endpoint_url, REGION));
    let key = admin.create_key().send().await.expect("CreateKey");
    let key_arn = key.key_metadata().expect("metadata").arn().expect("arn").to_owned();
    iam_ok(sandbox.local_addr, &[("Action", "CreateRole"), ("RoleName", role), ("AssumeRolePolicyDocument", TRUST)])
        .await;
    (sandbox, admin, key_arn)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

#[tokio::test]
async fn an_explicit_deny_on_the_role_refuses_its_sessions_decrypts_until_deleted() {
    let (sandbox, admin, key_arn) = key_and_role("contained-app").await;
    let (kms, session_arn) = session(&sandbox.endpoint_url, "contained-app", "worker").await;
    assert_eq!(session_arn, "arn:aws:sts::111122223333:assumed-role/contained-app/worker");

    let sealed = encrypt(&kms, &key_arn).await.expect("Encrypt before any policy");
    kms.decrypt().ciphertext_blob(sealed.clone()).send().await.expect("Decrypt before any policy");

    let deny = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"KeywatchContainment","Effect":"Deny","Action":"kms:Decrypt","Resource":"{key_arn}"}}]}}"#
    );
    iam_ok(
        sandbox.local_addr,
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "contained-app"),
            ("PolicyName", "KeywatchDeny"),
            ("PolicyDocument", &deny),
        ],
    )
    .await;

    let refused = kms.decrypt().ciphertext_blob(sealed.clone()).send().await.expect_err("denied");
    let raw_status = refused.raw_response().map(|response| response.status().as_u16());
    let refused = refused.into_service_error();
    assert_eq!(refused.code(), Some("AccessDeniedException"));
    assert_eq!(raw_status, Some(400));
    let message = format!(
        "User: {session_arn} is not authorized to perform: kms:Decrypt on resource: {key_arn} with an explicit deny in an identity-based policy"
    );
    assert_eq!(refused.message(), Some(message.as_str()));
    // Only Decrypt is denied, and only to the role's sessions.
    encrypt(&kms, &key_arn).await.expect("Encrypt is not denied");
    admin.decrypt().ciphertext_blob(sealed.clone()).send().await.expect("the default user is not the role");

    iam_ok(
        sandbox.local_addr,
        &[("Action", "DeleteRolePolicy"), ("RoleName", "contained-app"), ("PolicyName", "KeywatchDeny")],
    )
    .await;
    kms.decrypt().ciphertext_blob(sealed).send().await.expect("Decrypt once the deny is deleted");

    // CloudTrail records the refusal under AccessDenied, as it records KMS's
    // authorization failures, with the message the caller got.
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&support::sdk_config(&sandbox.endpoint_url, REGION));
    let history = cloudtrail
        .lookup_events()
        .lookup_attributes(
            aws_sdk_cloudtrail::types::LookupAttribute::builder()
                .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                .attribute_value("Decrypt")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    let records: Vec<serde_json::Value> = history
        .events()
        .iter()
        .filter_map(|event| event.cloud_trail_event())
        .map(|text| serde_json::from_str(text).expect("a record"))
        .collect();
    let failed: Vec<&serde_json::Value> = records.iter().filter(|record| record.get("errorCode").is_some()).collect();
    assert_eq!(failed.len(), 1, "{records:#?}");
    assert_eq!(failed[0]["errorCode"], "AccessDenied");
    assert_eq!(failed[0]["errorMessage"], message.as_str());
    assert_eq!(failed[0]["userIdentity"]["type"], "AssumedRole");
    assert_eq!(failed[0]["userIdentity"]["arn"], session_arn.as_str());
    assert_eq!(failed[0]["resources"][0]["ARN"], key_arn.as_str());
    assert_eq!(records.len(), 4, "three Decrypts by the session, one by the default user");
}

#[tokio::test]
async fn revoking_older_sessions_refuses_them_but_not_a_later_session() {
    let (sandbox, _, key_arn) = key_and_role("leaky-app").await;
    let (older, older_arn) = session(&sandbox.endpoint_url, "leaky-app", "before").await;
    let sealed = encrypt(&older, &key_arn).await.expect("Encrypt before revoking");

    // The console writes the time of revocation to the second; the next
    // whole second is certainly after the older session was issued.
    let revoke_at_s = now_ms() / 1000 + 1;
    let revoke_at = time::OffsetDateTime::from_unix_timestamp(revoke_at_s)
        .expect("a time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatted");
    // The policy id_roles_use_revoke-sessions.html shows the console attaching.
    let revoke = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{revoke_at}"}}}}}}}}"#
    );
    iam_ok(
        sandbox.local_addr,
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "leaky-app"),
            ("PolicyName", "AWSRevokeOlderSessions"),
            ("PolicyDocument", &revoke),
        ],
    )
    .await;

    let refused = encrypt(&older, &key_arn).await.expect_err("the older session is revoked").into_service_error();
    assert_eq!(refused.code(), Some("AccessDeniedException"));
    assert_eq!(
        refused.message(),
        Some(
            format!(
                "User: {older_arn} is not authorized to perform: kms:Encrypt on resource: {key_arn} with an explicit deny in an identity-based policy"
            )
            .as_str()
        )
    );
    let listed = older.list_keys().send().await.expect_err("revoked for every action").into_service_error();
    assert!(listed.message().is_some_and(|m| m.contains("kms:ListKeys on resource: *")), "{listed:?}");

    // A session issued after the revocation time works.
    let wait = revoke_at_s * 1000 + 50 - now_ms();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    let (newer, _) = session(&sandbox.endpoint_url, "leaky-app", "after").await;
    encrypt(&newer, &key_arn).await.expect("a later session encrypts");
    newer.decrypt().ciphertext_blob(sealed).send().await.expect("a later session decrypts");
}
