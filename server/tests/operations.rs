//! The operations endpoints through the console's router as `serve` builds
//! it (`web::app`), and the SDK interceptor behind `/metrics` counting real
//! SDK calls against the in-process sandbox, retries under injected
//! throttling included.
//! Exposition format: <https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format>

mod support;

use http::{StatusCode, header};
use keywatch::auth::{Auth, AuthSettings};
use keywatch::health::Health;
use keywatch::metrics;
use keywatch_sandbox::SandboxConfig;
use keywatch_sandbox::faults::FaultRule;
use support::World;
use support::requests::post_form;
use support::wire;

/// `GET path` through `app`: the status, content type and body.
async fn get(app: &axum::Router, path: &str) -> (StatusCode, Option<String>, String) {
    let reply = support::requests::get(app, path).await;
    let content_type = reply.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_owned);
    (reply.status, content_type, reply.body)
}

fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let samples = support::exposition::parse(text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    samples
        .iter()
        .filter(|(n, sample_labels, _)| {
            n == name && labels.iter().all(|(k, v)| sample_labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
        .map(|(_, _, value)| *value)
        .sum()
}

#[tokio::test]
async fn healthz_reports_the_database_and_turns_503_when_it_is_gone() {
    let world = World::new().await;
    // The session layer reads the password through a pool of its own, so
    // closing the one the health check uses (below) leaves the request
    // reaching the check, and a console without a password sees details.
    let auth = Auth::load(world.reopen().await, AuthSettings::default()).await.expect("auth");
    let app = world.app(auth);

    let (status, content_type, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let health: Health = serde_json::from_str(&body).expect("json");
    assert_ne!(health.status, "unavailable");
    assert!(health.checks.iter().any(|check| check.name == "database" && check.ok), "{health:?}");

    // A closed pool is a database that no longer answers.
    world.db.close().await;
    let (status, _, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let health: Health = serde_json::from_str(&body).expect("json");
    assert_eq!(health.status, "unavailable");
    let database = health.checks.iter().find(|check| check.name == "database").expect("database check");
    assert!(!database.ok);
    assert!(database.error.as_deref().is_some_and(|error| error.contains("database")), "{database:?}");
}

#[tokio::test]
async fn metrics_are_valid_exposition_and_count_requests_by_route_template() {
    let world = World::new().await;
    let router = world.app(world.auth().await);
    let (_, _, before) = get(&router, "/metrics").await;
    let healthz_before = sample(&before, "keywatch_http_requests_total", &[("route", "/healthz"), ("status", "2xx")]);
    get(&router, "/healthz").await;
    get(&router, "/healthz").await;
    get(&router, "/no/such/path").await;

    let (status, content_type, text) = get(&router, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("text/plain; version=0.0.4; charset=utf-8"));
    let healthz = sample(&text, "keywatch_http_requests_total", &[("route", "/healthz"), ("status", "2xx")]);
    assert_eq!(healthz - healthz_before, 2.0, "{text}");
    // Unmatched paths are one series, whatever the path.
    assert!(sample(&text, "keywatch_http_requests_total", &[("route", "fallback"), ("status", "4xx")]) >= 1.0);
    assert!(!text.contains("/no/such/path"), "{text}");
    assert!(text.contains("# TYPE keywatch_aws_calls_total counter"), "{text}");
    assert!(sample(&text, "process_start_time_seconds", &[]) > 1.7e9);
}

#[tokio::test]
async fn every_sdk_call_is_counted_with_its_outcome_and_retried_throttling_shows_as_attempts() {
    // CloudWatch throttles every second call: the SDK retries it away
    // (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html)
    // and the attempts say so.
    let world = World::with(SandboxConfig {
        faults: vec![FaultRule::parse("monitoring:throttle-every=2").expect("rule")],
        ..SandboxConfig::default()
    })
    .await;
    let aws = &world.aws;
    let registry = metrics::global();
    let identity_before = registry.aws_calls("STS", "GetCallerIdentity", "success");
    let alarms_before = registry.aws_calls("CloudWatch", "DescribeAlarms", "success");
    let throttled_before = registry.aws_attempts("CloudWatch", "DescribeAlarms", "throttled");

    let identity = aws.sts().caller_identity().await.expect("GetCallerIdentity");
    assert_eq!(identity.account_id, "111122223333");
    for _ in 0..3 {
        aws.cloudwatch().describe_metric_alarms().await.expect("retried past the throttling");
    }

    assert_eq!(registry.aws_calls("STS", "GetCallerIdentity", "success") - identity_before, 1);
    // At least: other tests in this binary may call DescribeAlarms too.
    assert!(registry.aws_calls("CloudWatch", "DescribeAlarms", "success") - alarms_before >= 3);
    assert!(registry.aws_attempts("CloudWatch", "DescribeAlarms", "throttled") - throttled_before >= 1);
    let text = registry.render();
    let labels = [("service", "CloudWatch"), ("operation", "DescribeAlarms"), ("outcome", "success")];
    assert!(sample(&text, "keywatch_aws_calls_total", &labels) >= 3.0, "{text}");

    // Throttled every time: the call fails after its attempts, counted as throttled.
    let failed_before = registry.aws_calls("CloudWatch", "DescribeAlarms", "throttled");
    put_faults(world.sandbox.local_addr, r#"[{"service":"monitoring","throttleEvery":1}]"#).await;
    let error = aws.cloudwatch().describe_metric_alarms().await.expect_err("throttled every time");
    assert_eq!(error.kind, keywatch::aws::AwsErrorKind::Throttled, "{error}");
    assert_eq!(registry.aws_calls("CloudWatch", "DescribeAlarms", "throttled") - failed_before, 1);
}

/// `PUT /_keywatch/faults`: the sandbox's fault rules, changed while it runs.
async fn put_faults(addr: std::net::SocketAddr, rules: &str) {
    let request = wire::Request::new("PUT", "/_keywatch/faults").json(rules);
    let response = wire::send_async(&addr.to_string(), request).await.expect("answered").head;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn a_throttled_poller_shows_as_a_panel_on_the_pages_and_through_its_server_function() {
    let world = World::new().await;
    let aws = &world.aws;
    // The interceptor learns which service DescribeAlarmHistory belongs to
    // from a real call; then a round fails with CloudWatch's throttling.
    aws.cloudwatch().describe_alarm_history("pattern1-alarm", None, None).await.expect("history");
    let registry = metrics::global();
    registry.poller_started(keywatch::pollers::history::POLLER);
    registry.poller_failed(
        keywatch::pollers::history::POLLER,
        keywatch::pollers::fault(&keywatch::error::ServerError::Aws(keywatch::aws::AwsCallError {
            operation: "DescribeAlarmHistory",
            kind: keywatch::aws::AwsErrorKind::Throttled,
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
        })),
    );

    let router = world.app(world.auth().await);

    let response = post_form(&router, "/api/operations/aws-status", "").await;
    assert_eq!(response.status, StatusCode::OK);
    let status: keywatch_app::api::operations::AwsStatus = serde_json::from_str(&response.body).expect("AwsStatus");
    let history = status.degraded.iter().find(|poller| poller.poller == "alarm-history").expect("degraded");
    assert!(history.throttled);
    assert_eq!(history.service.as_deref(), Some("CloudWatch"));

    // The History page still renders, with the panel saying why it may be behind.
    let (status, _, page) = get(&router, "/history").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("AWS is throttling CloudWatch; retrying."), "{page}");
    assert!(page.contains("History"), "{page}");

    registry.poller_succeeded(keywatch::pollers::history::POLLER);
}
