//! CloudWatch Logs through the official Rust SDK.

mod support;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, MetricTransformation};
use keywatch_sandbox::metrics::MetricId;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html
// (ResourceNotFoundException) and API_PutRetentionPolicy.html (allowed values).
#[tokio::test]
async fn groups_streams_events_and_errors() {
    let (_sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&support::sdk_config(&running.endpoint_url, "ap-southeast-2"));

    let missing =
        logs.create_log_stream().log_group_name("nope").log_stream_name("s").send().await.expect_err("no group");
    let missing = missing.into_service_error();
    assert!(missing.is_resource_not_found_exception());
    assert_eq!(
        aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata::message(&missing),
        Some("The specified log group does not exist.")
    );

    logs.create_log_group().log_group_name("app").send().await.expect("CreateLogGroup");
    let again = logs.create_log_group().log_group_name("app").send().await.expect_err("exists");
    assert!(again.into_service_error().is_resource_already_exists_exception());
    let bad = logs.put_retention_policy().log_group_name("app").retention_in_days(2).send().await.expect_err("2 days");
    assert!(bad.into_service_error().is_invalid_parameter_exception());
    logs.put_retention_policy().log_group_name("app").retention_in_days(7).send().await.expect("PutRetentionPolicy");
    logs.create_log_stream().log_group_name("app").log_stream_name("web").send().await.expect("CreateLogStream");

    logs.put_metric_filter()
        .log_group_name("app")
        .filter_name("latency")
        .filter_pattern("{ $.latency = * }")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("Latency")
                .metric_namespace("App")
                .metric_value("$.latency")
                .dimensions("Path", "$.path")
                .unit(aws_sdk_cloudwatchlogs::types::StandardUnit::Milliseconds)
                .build()
                .expect("transformation"),
        )
        .send()
        .await
        .expect("PutMetricFilter");
    let now = now_ms();
    let old = now - 8 * 24 * 3_600_000;
    let put = logs
        .put_log_events()
        .log_group_name("app")
        .log_stream_name("web")
        .log_events(
            InputLogEvent::builder()
                .timestamp(now)
                .message("{\"latency\": 12, \"path\": \"/encrypt\"}")
                .build()
                .expect("event"),
        )
        .log_events(InputLogEvent::builder().timestamp(now + 1).message("plain text").build().expect("event"))
        .send()
        .await
        .expect("PutLogEvents");
    assert!(put.rejected_log_events_info().is_none());
    // Older than the 7-day retention: refused as expired.
    let expired = logs
        .put_log_events()
        .log_group_name("app")
        .log_stream_name("web")
        .log_events(InputLogEvent::builder().timestamp(old).message("old").build().expect("event"))
        .send()
        .await
        .expect("PutLogEvents");
    assert_eq!(expired.rejected_log_events_info().and_then(|r| r.expired_log_event_end_index()), Some(0));

    let events = logs
        .get_log_events()
        .log_group_name("app")
        .log_stream_name("web")
        .start_from_head(true)
        .send()
        .await
        .expect("GetLogEvents");
    assert_eq!(events.events().len(), 2);
    let filtered =
        logs.filter_log_events().log_group_name("app").filter_pattern("plain").send().await.expect("FilterLogEvents");
    assert_eq!(filtered.events().len(), 1);
    let invalid = logs
        .filter_log_events()
        .log_group_name("app")
        .filter_pattern("{ $.x = ")
        .send()
        .await
        .expect_err("bad pattern");
    assert!(invalid.into_service_error().is_invalid_parameter_exception());

    let groups = logs.describe_log_groups().log_group_name_prefix("ap").send().await.expect("DescribeLogGroups");
    let group = &groups.log_groups()[0];
    assert_eq!((group.retention_in_days(), group.metric_filter_count()), (Some(7), Some(1)));
    let streams = logs.describe_log_streams().log_group_name("app").send().await.expect("DescribeLogStreams");
    assert_eq!(streams.log_streams()[0].last_event_timestamp(), Some(now + 1));
    let filters = logs.describe_metric_filters().log_group_name("app").send().await.expect("DescribeMetricFilters");
    assert_eq!(filters.metric_filters()[0].filter_pattern(), Some("{ $.latency = * }"));

    let metric = MetricId {
        namespace: "App".into(),
        metric_name: "Latency".into(),
        dimensions: vec![("Path".into(), "/encrypt".into())],
    };
    let points = _sandbox.read_state(|state| {
        state.metrics.query(&metric, 0, i64::MAX).iter().map(|p| (p.value, p.unit.clone())).collect::<Vec<_>>()
    });
    assert_eq!(points, vec![(12.0, Some("Milliseconds".to_owned()))]);

    let tested = logs
        .test_metric_filter()
        .filter_pattern("[ip, user, status=4*]")
        .log_event_messages("10.0.0.1 alice 404")
        .log_event_messages("10.0.0.1 alice 200")
        .send()
        .await
        .expect("TestMetricFilter");
    assert_eq!(tested.matches().len(), 1);
    assert_eq!(tested.matches()[0].extracted_values().and_then(|v| v.get("$status")).map(String::as_str), Some("404"));

    logs.delete_metric_filter().log_group_name("app").filter_name("latency").send().await.expect("DeleteMetricFilter");
    logs.delete_log_group().log_group_name("app").send().await.expect("DeleteLogGroup");
    assert!(logs.describe_log_groups().send().await.expect("DescribeLogGroups").log_groups().is_empty());
}
