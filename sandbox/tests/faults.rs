//! Fault injection through the official SDK: throttling every second call
//! is absorbed by the SDK's retries, throttling every call exhausts them and
//! surfaces the service's own throttling error, and the rules can be changed
//! while the sandbox runs (`/_keywatch/faults`).
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>

mod support;

use keywatch_sandbox::SandboxConfig;
use keywatch_sandbox::faults::FaultRule;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn retries_absorb_occasional_throttling_and_surface_constant_throttling() {
    let config = SandboxConfig {
        faults: vec![
            FaultRule::parse("kms:throttle-every=2").expect("rule"),
            FaultRule::parse("cloudformation:throttle-every=2").expect("rule"),
        ],
        ..SandboxConfig::default()
    };
    let (_, running) = support::start_sandbox_with(config).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let kms = aws_sdk_kms::Client::new(&sdk);
    for _ in 0..4 {
        kms.create_key().send().await.expect("retried past the throttling");
    }
    assert_eq!(kms.list_keys().send().await.expect("keys").keys().len(), 4);
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    cfn.create_stack()
        .stack_name("throttled")
        .template_body("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
        .send()
        .await
        .expect("retried past the throttling");
    let stacks = cfn.describe_stacks().stack_name("throttled").send().await.expect("described");
    assert_eq!(stacks.stacks()[0].stack_status().map(|s| s.as_str()), Some("CREATE_COMPLETE"));

    let listed = http(running.local_addr, "GET", "/_keywatch/faults", "").await;
    assert!(listed.contains("\"throttleEvery\":2"), "{listed}");
    http(running.local_addr, "PUT", "/_keywatch/faults", r#"[{"service":"kms","throttleEvery":1}]"#).await;
    let error = kms.create_key().send().await.expect_err("throttled every time");
    assert_eq!(
        error.as_service_error().and_then(|e| aws_sdk_kms::error::ProvideErrorMetadata::code(e)),
        Some("ThrottlingException")
    );
    let error =
        http(running.local_addr, "PUT", "/_keywatch/faults", r#"[{"service":"monitoring","errorEvery":1}]"#).await;
    assert!(error.contains("monitoring"), "{error}");
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let failed = cloudwatch.list_metrics().send().await.expect_err("server errors every time");
    assert!(matches!(failed, aws_sdk_cloudwatch::error::SdkError::ServiceError(_)), "{failed:?}");
    http(running.local_addr, "PUT", "/_keywatch/faults", "[]").await;
    kms.create_key().send().await.expect("no more faults");
    cloudwatch.list_metrics().send().await.expect("no more faults");
}
