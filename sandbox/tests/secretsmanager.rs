//! Secrets Manager through the official Rust SDK: values and staging
//! labels, deletion with recovery, lookups by name and ARN, random passwords.

mod support;

use aws_sdk_secretsmanager::primitives::Blob;

async fn client() -> (keywatch_sandbox::RunningSandbox, aws_sdk_secretsmanager::Client) {
    let sandbox = support::start_sandbox().await;
    let client = aws_sdk_secretsmanager::Client::new(&support::sdk_config(&sandbox.endpoint_url, "ap-southeast-2"));
    (sandbox, client)
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
#[tokio::test]
async fn values_rotate_through_awscurrent_and_awsprevious() {
    let (_sandbox, sm) = client().await;
    let created = sm
        .create_secret()
        .name("pattern1/mysql")
        .secret_string(r#"{"username":"admin","password":"one"}"#)
        .kms_key_id("alias/aws/secretsmanager")
        .tags(aws_sdk_secretsmanager::types::Tag::builder().key("lab").value("pattern1").build())
        .send()
        .await
        .expect("CreateSecret");
    let arn = created.arn().expect("arn").to_owned();
    let prefix = "arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:pattern1/mysql-";
    assert!(arn.starts_with(prefix) && arn.len() == prefix.len() + 6, "{arn}");
    let first_version = created.version_id().expect("version").to_owned();

    let put = sm.put_secret_value().secret_id(&arn).secret_string("two").send().await.expect("PutSecretValue");
    assert_eq!(put.version_stages(), ["AWSCURRENT"]);
    let current = sm.get_secret_value().secret_id("pattern1/mysql").send().await.expect("GetSecretValue");
    assert_eq!(current.secret_string(), Some("two"));
    assert_eq!(current.version_stages(), ["AWSCURRENT"]);
    let previous = sm
        .get_secret_value()
        .secret_id(&prefix[..prefix.len() - 1])
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .expect("partial ARN");
    assert_eq!(previous.version_id(), Some(first_version.as_str()));
    assert!(previous.secret_string().is_some_and(|s| s.contains("\"one\"")));

    let described = sm.describe_secret().secret_id(&arn).send().await.expect("DescribeSecret");
    assert_eq!(described.kms_key_id(), Some("alias/aws/secretsmanager"));
    assert_eq!(described.version_ids_to_stages().map(|m| m.len()), Some(2));
    assert_eq!(described.tags().len(), 1);

    let missing = sm.get_secret_value().secret_id("nope").send().await.expect_err("missing");
    assert!(missing.into_service_error().is_resource_not_found_exception());
    let exists = sm.create_secret().name("pattern1/mysql").secret_string("x").send().await.expect_err("exists");
    assert!(exists.into_service_error().is_resource_exists_exception());
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RestoreSecret.html
#[tokio::test]
async fn deleted_secrets_refuse_reads_until_restored() {
    let (_sandbox, sm) = client().await;
    sm.create_secret().name("binary").secret_binary(Blob::new(vec![0u8, 1, 2])).send().await.expect("CreateSecret");
    let value = sm.get_secret_value().secret_id("binary").send().await.expect("GetSecretValue");
    assert_eq!(value.secret_binary().map(|b| b.as_ref().to_vec()), Some(vec![0u8, 1, 2]));

    let short = sm.delete_secret().secret_id("binary").recovery_window_in_days(3).send().await.expect_err("short");
    assert!(short.into_service_error().is_invalid_parameter_exception());
    let deleted = sm.delete_secret().secret_id("binary").recovery_window_in_days(7).send().await.expect("DeleteSecret");
    assert!(deleted.deletion_date().is_some());
    let blocked = sm.get_secret_value().secret_id("binary").send().await.expect_err("marked");
    let error = blocked.into_service_error();
    assert!(error.is_invalid_request_exception());
    assert_eq!(
        aws_sdk_secretsmanager::error::ProvideErrorMetadata::message(&error),
        Some("You can't perform this operation on the secret because it was marked for deletion.")
    );
    let listed = sm.list_secrets().send().await.expect("ListSecrets");
    assert!(listed.secret_list().is_empty());
    let planned = sm.list_secrets().include_planned_deletion(true).send().await.expect("ListSecrets");
    assert_eq!(planned.secret_list().len(), 1);

    sm.restore_secret().secret_id("binary").send().await.expect("RestoreSecret");
    sm.get_secret_value().secret_id("binary").send().await.expect("readable again");
    sm.delete_secret().secret_id("binary").force_delete_without_recovery(true).send().await.expect("forced");
    let gone = sm.describe_secret().secret_id("binary").send().await.expect_err("gone");
    assert!(gone.into_service_error().is_resource_not_found_exception());
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html
#[tokio::test]
async fn random_passwords_follow_their_options() {
    let (_sandbox, sm) = client().await;
    let password = sm
        .get_random_password()
        .password_length(24)
        .exclude_punctuation(true)
        .exclude_characters("0Oo")
        .send()
        .await
        .expect("GetRandomPassword");
    let text = password.random_password().expect("password");
    assert_eq!(text.len(), 24);
    assert!(text.chars().all(|c| c.is_ascii_alphanumeric() && !"0Oo".contains(c)), "{text}");
}
