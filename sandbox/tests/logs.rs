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

// The API reference's example "To test a metric filter pattern on Apache
// access.log events without specifying any fields", through the SDK: `[]`
// matches all three events, numbered from 0, with every field as `$1`…`$7`.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html
#[tokio::test]
async fn test_metric_filter_runs_the_documented_example() {
    let (_sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&support::sdk_config(&running.endpoint_url, "ap-southeast-2"));
    let events = [
        (r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#, "200", "1534"),
        (r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#, "500", "5324"),
        (r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#, "200", "4355"),
    ];
    let times = ["10/Oct/2000:13:25:15 -0700", "10/Oct/2000:13:35:22 -0700", "10/Oct/2000:13:50:35 -0700"];
    let tested = logs
        .test_metric_filter()
        .filter_pattern("[]")
        .set_log_event_messages(Some(events.iter().map(|(message, _, _)| (*message).to_owned()).collect()))
        .send()
        .await
        .expect("TestMetricFilter [] is valid");
    assert_eq!(tested.matches().len(), 3);
    for (n, (found, (message, status, size))) in tested.matches().iter().zip(events).enumerate() {
        assert_eq!(found.event_number(), n as i64);
        assert_eq!(found.event_message(), Some(message));
        let want: std::collections::HashMap<String, String> = [
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", times[n]),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$6", status),
            ("$7", size),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(found.extracted_values(), Some(&want));
    }

    // The example matching 4XX HTML pages: the second and third events fail
    // one condition each, so only events 0 and 3 match.
    let html = logs
        .test_metric_filter()
        .filter_pattern("[..., request=*.html*, status_code=4*,]")
        .log_event_messages(r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#)
        .log_event_messages(
            r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /about-us/index.html HTTP/1.0" 200 5324"#,
        )
        .log_event_messages(r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 4355"#)
        .log_event_messages(
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 400 1534"#,
        )
        .send()
        .await
        .expect("TestMetricFilter");
    let numbers: Vec<i64> = html.matches().iter().map(|m| m.event_number()).collect();
    assert_eq!(numbers, [0, 3]);
    let last = html.matches()[1].extracted_values();
    assert_eq!(last.and_then(|v| v.get("$request")).map(String::as_str), Some("GET /products/index.html HTTP/1.0"));
    assert_eq!(last.and_then(|v| v.get("$7")).map(String::as_str), Some("1534"));
}
