//! The whole lab, offline, as `keywatch serve` runs it: the three stacks
//! deployed through CloudFormation, the application stack's ECS service
//! running the workload behind its load balancer's loopback address, the
//! lab's curl requests sent to it, and the alarm firing on the failed KMS
//! calls its task role makes.

mod support;

use std::time::Duration;

use keywatch_domain::lab;
use keywatch_sandbox::SandboxConfig;
use support::World;

/// One of the lab's curl requests: status and body.
async fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let response =
        support::lab::call_application(address, method, path, body).await.expect("the load balancer answered");
    (response.status, response.text())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_at_the_deployed_application_fires_the_labs_alarm() {
    let world =
        World::lab(SandboxConfig { cloudtrail_delivery_delay: Duration::from_millis(100), ..SandboxConfig::default() })
            .await;
    // Waits until the ECS service answers at its load balancer.
    let deployed = support::lab::deploy(&world).await;
    let task_role = support::lab::output(&deployed.outputs[1], lab::APP_TASK_ROLE_OUTPUT).expect("task role");
    let endpoint = deployed.endpoint;

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
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&world.aws.sdk_config);
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
