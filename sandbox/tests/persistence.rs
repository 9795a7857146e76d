//! State survives a restart of the sandbox on the same state directory,
//! and a fresh directory starts empty.

mod support;

use aws_sdk_kms::primitives::Blob;
use keywatch_sandbox::{Sandbox, SandboxConfig};

async fn kms_for(
    dir: &std::path::Path,
) -> (keywatch_sandbox::RunningSandbox, aws_sdk_kms::Client, aws_sdk_cloudwatchlogs::Client) {
    let config = SandboxConfig { state_dir: Some(dir.to_owned()), ..SandboxConfig::default() };
    let running =
        Sandbox::new(config).expect("sandbox").start("127.0.0.1:0".parse().expect("addr")).await.expect("listening");
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    (running, aws_sdk_kms::Client::new(&sdk), aws_sdk_cloudwatchlogs::Client::new(&sdk))
}

#[tokio::test]
async fn keys_and_log_groups_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, kms, logs) = kms_for(dir.path()).await;
    let key =
        kms.create_key().send().await.expect("CreateKey").key_metadata().map(|m| m.key_id().to_owned()).expect("id");
    let blob = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("kept"))
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("blob")
        .clone();
    logs.create_log_group().log_group_name("kept-group").send().await.expect("CreateLogGroup");
    drop(first);

    let (_second, kms, logs) = kms_for(dir.path()).await;
    let plain = kms.decrypt().ciphertext_blob(blob).send().await.expect("Decrypt after restart");
    assert_eq!(plain.plaintext().map(|p| p.as_ref()), Some(&b"kept"[..]));
    let groups = logs.describe_log_groups().send().await.expect("DescribeLogGroups");
    assert_eq!(groups.log_groups().len(), 1);
    // Key material is in the state file, never in a response.
    let saved = std::fs::read_to_string(dir.path().join("kms.json")).expect("kms.json");
    assert!(saved.contains(&key));

    let fresh = tempfile::tempdir().expect("tempdir");
    let (_third, kms, _) = kms_for(fresh.path()).await;
    assert!(kms.list_keys().send().await.expect("ListKeys").keys().is_empty());
}

// S3 objects, secrets and repositories are persisted like every other part
// (s3.json, secretsmanager.json, ecr.json).
#[tokio::test]
async fn buckets_secrets_and_repositories_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = |dir: std::path::PathBuf| async move {
        let config = SandboxConfig { state_dir: Some(dir), ..SandboxConfig::default() };
        Sandbox::new(config).expect("sandbox").start("127.0.0.1:0".parse().expect("addr")).await.expect("listening")
    };
    let first = start(dir.path().to_owned()).await;
    let sdk = support::sdk_config(&first.endpoint_url, "ap-southeast-2");
    support::create_bucket(&sdk, "kept-bucket").await;
    let s3 = support::s3_client(&sdk);
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"kept");
    s3.put_object().bucket("kept-bucket").key("k").body(body).send().await.expect("PutObject");
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    secrets.create_secret().name("kept").secret_string("s3cret").send().await.expect("CreateSecret");
    let ecr = aws_sdk_ecr::Client::new(&sdk);
    ecr.create_repository().repository_name("kept").send().await.expect("CreateRepository");
    drop(first);

    let second = start(dir.path().to_owned()).await;
    let sdk = support::sdk_config(&second.endpoint_url, "ap-southeast-2");
    let object = support::s3_client(&sdk).get_object().bucket("kept-bucket").key("k").send().await.expect("GetObject");
    assert_eq!(object.body.collect().await.expect("body").into_bytes().as_ref(), b"kept");
    let value = aws_sdk_secretsmanager::Client::new(&sdk).get_secret_value().secret_id("kept").send().await;
    assert_eq!(value.expect("GetSecretValue").secret_string(), Some("s3cret"));
    let repositories = aws_sdk_ecr::Client::new(&sdk).describe_repositories().send().await.expect("Describe");
    assert_eq!(repositories.repositories().len(), 1);
}
