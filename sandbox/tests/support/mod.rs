//! Shared set-up for the sandbox's integration tests: a sandbox on a free
//! loopback port and SDK configuration pointing at it.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use keywatch_sandbox::{RunningSandbox, Sandbox, SandboxConfig};

/// Starts an in-memory sandbox on a free loopback port.
pub async fn start_sandbox() -> RunningSandbox {
    let config = SandboxConfig { default_region: "ap-southeast-2".into(), state_dir: None, ..SandboxConfig::default() };
    Sandbox::new(config).expect("sandbox").start("127.0.0.1:0".parse().expect("addr")).await.expect("sandbox listening")
}

/// Starts a sandbox with `config`, keeping a handle to read its state.
pub async fn start_sandbox_with(config: SandboxConfig) -> (Sandbox, RunningSandbox) {
    let sandbox = Sandbox::new(config).expect("sandbox");
    let running = sandbox.clone().start("127.0.0.1:0".parse().expect("addr")).await.expect("sandbox listening");
    (sandbox, running)
}

/// A fast-delivering in-memory configuration.
pub fn quick_config() -> SandboxConfig {
    SandboxConfig {
        cloudtrail_delivery_delay: Duration::from_millis(50),
        cloudtrail_log_file_interval: Duration::from_millis(50),
        ..SandboxConfig::default()
    }
}

/// SDK configuration for `endpoint_url` with throw-away credentials: the
/// sandbox accepts any.
pub fn sdk_config(endpoint_url: &str, region: &str) -> SdkConfig {
    sdk_config_with(
        endpoint_url,
        region,
        Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None, None, "test"),
    )
}

/// SDK configuration for `endpoint_url` signing with `credentials`.
pub fn sdk_config_with(endpoint_url: &str, region: &str, credentials: Credentials) -> SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint_url)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .build()
}

/// Creates an S3 bucket in the configuration's region.
pub async fn create_bucket(sdk: &SdkConfig, name: &str) {
    let s3 = s3_client(sdk);
    let region = sdk.region().map(|r| r.as_ref().to_owned()).unwrap_or_default();
    let constraint = aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str());
    let configuration = aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(constraint).build();
    s3.create_bucket().bucket(name).create_bucket_configuration(configuration).send().await.expect("CreateBucket");
}

/// An S3 client for the sandbox: path-style addressing, as the sandbox
/// serves every bucket on its own host.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

/// Creates the S3 bucket a trail delivers to, with the policy CloudTrail
/// needs (CreateTrail checks both):
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html>.
pub async fn create_trail_bucket(sdk: &SdkConfig, name: &str) {
    create_bucket(sdk, name).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::{name}"}},{{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::{name}/*","Condition":{{"StringEquals":{{"s3:x-amz-acl":"bucket-owner-full-control"}}}}}}]}}"#
    );
    s3_client(sdk).put_bucket_policy().bucket(name).policy(policy).send().await.expect("PutBucketPolicy");
}

/// Polls DescribeStacks until the stack (a name or a stack id) leaves its
/// `_IN_PROGRESS` status, as the SDK's stack waiters do.
pub async fn settled(client: &aws_sdk_cloudformation::Client, stack: &str) -> aws_sdk_cloudformation::types::Stack {
    for _ in 0..200 {
        let described = client.describe_stacks().stack_name(stack).send().await.expect("describe");
        let found = described.stacks().first().cloned().expect("one stack");
        if !found.stack_status().expect("status").as_str().ends_with("_IN_PROGRESS") {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("stack {stack} never settled");
}

/// Puts the lab's metric filter on `group`: `pattern` counted as
/// `Pattern1Application/KMSSecurity` `KMSSecurityError`, 1 per match.
pub async fn put_lab_metric_filter(sdk: &SdkConfig, group: &str, pattern: &str) {
    let transformation = aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
        .metric_name("KMSSecurityError")
        .metric_namespace("Pattern1Application/KMSSecurity")
        .metric_value("1")
        .build()
        .expect("transformation");
    aws_sdk_cloudwatchlogs::Client::new(sdk)
        .put_metric_filter()
        .log_group_name(group)
        .filter_name("pattern1-logging-metricfilter")
        .filter_pattern(pattern)
        .metric_transformations(transformation)
        .send()
        .await
        .expect("PutMetricFilter");
}
