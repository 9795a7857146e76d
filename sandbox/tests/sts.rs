//! STS through the official Rust SDK against a running sandbox.

mod support;

use aws_sdk_sts::error::ProvideErrorMetadata;

#[tokio::test]
async fn get_caller_identity_names_the_sandbox_account_and_user() {
    let sandbox = support::start_sandbox().await;
    let sts = aws_sdk_sts::Client::new(&support::sdk_config(&sandbox.endpoint_url, "ap-southeast-2"));

    let identity = sts.get_caller_identity().send().await.expect("GetCallerIdentity");

    assert_eq!(identity.account(), Some("111122223333"));
    assert_eq!(identity.arn(), Some("arn:aws:iam::111122223333:user/sandbox-admin"));
    assert_eq!(identity.user_id(), Some("AIDASANDBOXADMIN00001"));
}

#[tokio::test]
async fn arns_follow_the_partition_of_the_region() {
    let sandbox = support::start_sandbox().await;
    let sts = aws_sdk_sts::Client::new(&support::sdk_config(&sandbox.endpoint_url, "cn-north-1"));

    let identity = sts.get_caller_identity().send().await.expect("GetCallerIdentity");

    assert_eq!(identity.arn(), Some("arn:aws-cn:iam::111122223333:user/sandbox-admin"));
}

#[tokio::test]
async fn an_operation_the_sandbox_lacks_fails_as_an_aws_query_error() {
    let sandbox = support::start_sandbox().await;
    let sts = aws_sdk_sts::Client::new(&support::sdk_config(&sandbox.endpoint_url, "ap-southeast-2"));

    let error = sts.get_session_token().send().await.expect_err("not implemented");

    let service_error = error.into_service_error();
    assert_eq!(service_error.code(), Some("InvalidAction"));
    assert!(service_error.message().is_some_and(|m| m.contains("GetSessionToken")));
}
