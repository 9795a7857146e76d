//! The whole lab, offline, as `keywatch serve` runs it: the three stacks
//! deployed through CloudFormation, the application stack's ECS service
//! running the workload behind its load balancer's loopback address, the
//! lab's curl requests sent to it, and the alarm firing on the failed KMS
//! calls its task role makes.

use std::time::Duration;

use keywatch_domain::lab;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;

/// One HTTP/1.1 exchange with a JSON body, as the lab's curl commands send.
async fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect to the load balancer");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("response read");
    let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_at_the_deployed_application_fires_the_labs_alarm() {
    let dir = tempfile::tempdir().expect("state dir");
    let sandbox = Sandbox::new(SandboxConfig {
        state_dir: Some(dir.path().to_owned()),
        cloudtrail_delivery_delay: Duration::from_millis(100),
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    sandbox.set_task_launcher(keywatch::sandbox_tasks::workload_launcher());
    let running = sandbox.start("127.0.0.1:0".parse().expect("addr")).await.expect("sandbox started");
    let sdk = support::sdk(&running.endpoint_url);
    let [_, app, _] = support::deploy_lab(&running.endpoint_url).await;
    let output = |outputs: &support::Outputs, key: &str| support::output(outputs, key);
    let task_role = output(&app, lab::APP_TASK_ROLE_OUTPUT).expect("task role");
    let endpoint = output(&app, lab::APP_ENDPOINT_OUTPUT).expect("endpoint");
    let mut healthy = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&endpoint).await.is_ok() && http(&endpoint, "GET", "/", "").await.0 == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "the ECS service never answered at {endpoint}");

    // The lab's section 4: encrypt, decrypt with the right key, then a false key.
    let (status, body) = http(&endpoint, "POST", "/encrypt", r#"{"Name":"Bob","Text":"Run your own race"}"#).await;
    assert_eq!(status, 200, "{body}");
    let key: serde_json::Value = serde_json::from_str(&body).expect("json");
    let key = key["Key"].as_str().expect("key").to_owned();
    let (status, body) = http(&endpoint, "GET", "/decrypt", &format!(r#"{{"Name":"Bob","Key":"{key}"}}"#)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"Text":"Run your own race"}"#));
    for _ in 0..3 {
        let (status, _) = http(&endpoint, "GET", "/decrypt", r#"{"Name":"Bob","Key":"some-random-false-key"}"#).await;
        assert_eq!(status, 400);
    }

    // The failures were made by the task role: CloudTrail records them as
    // AssumedRole with the role as session issuer, which the filter matches.
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let mut state = None;
    for _ in 0..120 {
        let alarms = cloudwatch.describe_alarms().send().await.expect("alarms");
        let lab_alarm = alarms
            .metric_alarms()
            .iter()
            .find(|a| a.metric_name() == Some("KMSSecurityError"))
            .expect("the lab's alarm");
        state = lab_alarm.state_value().map(|s| s.as_str().to_owned());
        if state.as_deref() == Some("ALARM") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(state.as_deref(), Some("ALARM"), "task role {task_role}");
}
