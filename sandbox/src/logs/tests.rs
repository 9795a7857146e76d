//! Log groups, retention, ingestion and metric filters, on plain state.

use super::*;
use crate::metrics::MetricId;

const REGION: &str = "ap-southeast-2";
const NOW: i64 = 1_800_000_000_000;

fn event(timestamp: i64, message: &str) -> InputLogEvent {
    InputLogEvent { timestamp, message: message.to_owned() }
}

fn group_with_stream() -> LogsState {
    let mut state = LogsState::default();
    state.create_group(REGION, "g", NOW).expect("group");
    state.create_stream(REGION, "g", "s", NOW).expect("stream");
    state
}

fn filter(pattern: &str, value: &str, default_value: Option<f64>, dimensions: &[(&str, &str)]) -> MetricFilter {
    MetricFilter {
        name: "f".into(),
        pattern: pattern.into(),
        transformations: vec![MetricTransformation {
            metric_name: "KMSSecurityError".into(),
            metric_namespace: "Pattern1Application/KMSSecurity".into(),
            metric_value: value.into(),
            default_value,
            dimensions: dimensions.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            unit: Some("Count".into()),
        }],
        creation_time: NOW,
    }
}

fn metric(dimensions: &[(&str, &str)]) -> MetricId {
    MetricId {
        namespace: "Pattern1Application/KMSSecurity".into(),
        metric_name: "KMSSecurityError".into(),
        dimensions: dimensions.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html (errors)
#[test]
fn group_and_stream_errors() {
    let mut state = group_with_stream();
    assert_eq!(state.create_group(REGION, "g", NOW).expect_err("dup").code, "ResourceAlreadyExistsException");
    assert_eq!(state.create_group(REGION, "bad name!", NOW).expect_err("name").code, "InvalidParameterException");
    let missing = state.create_stream(REGION, "nope", "s", NOW).expect_err("missing");
    assert_eq!(
        (missing.code.as_str(), missing.message.as_str()),
        ("ResourceNotFoundException", "The specified log group does not exist.")
    );
    assert_eq!(state.create_stream(REGION, "g", "s", NOW).expect_err("dup").code, "ResourceAlreadyExistsException");
    let mut metrics = MetricStore::default();
    let no_stream = state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "other", create_stream: false },
            vec![event(NOW, "x")],
            NOW,
            &mut metrics,
        )
        .expect_err("no stream");
    assert_eq!(no_stream.message, "The specified log stream does not exist.");
    state.delete_group(REGION, "g").expect("deleted");
    assert_eq!(state.delete_group(REGION, "g").expect_err("gone").code, "ResourceNotFoundException");
}

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
#[test]
fn retention_is_validated_and_enforced() {
    let mut state = group_with_stream();
    let mut metrics = MetricStore::default();
    assert_eq!(state.put_retention(REGION, "g", 2, NOW).expect_err("not allowed").code, "InvalidParameterException");
    state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW - 2 * DAY_MS, "old")],
            NOW,
            &mut metrics,
        )
        .expect("ingested");
    state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW, "new")],
            NOW,
            &mut metrics,
        )
        .expect("ingested");
    state.put_retention(REGION, "g", 1, NOW).expect("retention");
    let stream = &state.group(REGION, "g").expect("group").streams["s"];
    assert_eq!(stream.events.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), vec!["new"]);
    // Later, the remaining event expires too.
    assert!(state.enforce_retention(NOW + 2 * DAY_MS));
    assert!(state.group(REGION, "g").expect("group").streams["s"].events.is_empty());
    // And an event older than the retention is refused as expired.
    let rejected = state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW - 2 * DAY_MS, "expired")],
            NOW,
            &mut metrics,
        )
        .expect("answered");
    assert_eq!(rejected.expired_end_index, Some(0));
}

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
// (older than 14 days, more than 2 hours ahead, 24-hour span).
#[test]
fn put_log_events_rejects_out_of_range_events() {
    let mut state = group_with_stream();
    let mut metrics = MetricStore::default();
    let rejected = state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW - 15 * DAY_MS, "old")],
            NOW,
            &mut metrics,
        )
        .expect("answered");
    assert_eq!(rejected.too_old_end_index, Some(0));
    let rejected = state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW + 3 * 3_600_000, "new")],
            NOW,
            &mut metrics,
        )
        .expect("answered");
    assert_eq!(rejected.too_new_start_index, Some(0));
    let span = state.ingest(
        &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
        vec![event(NOW - DAY_MS - 1, "a"), event(NOW, "b")],
        NOW,
        &mut metrics,
    );
    assert_eq!(span.expect_err("span").code, "InvalidParameterException");
    assert!(state.group(REGION, "g").expect("group").streams["s"].events.is_empty());
}

#[test]
fn the_lab_filter_counts_kms_failures_of_the_task_role() {
    let role = "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole";
    let pattern = format!(
        "{{ $.errorCode = \"*\" && $.eventSource= \"kms.amazonaws.com\" && $.userIdentity.sessionContext.sessionIssuer.arn = \"{role}\" }}"
    );
    let mut state = group_with_stream();
    let mut metrics = MetricStore::default();
    state.put_metric_filter(REGION, "g", filter(&pattern, "1", None, &[])).expect("filter");
    let failure = format!(
        "{{\"eventSource\":\"kms.amazonaws.com\",\"errorCode\":\"IncorrectKeyException\",\"userIdentity\":{{\"sessionContext\":{{\"sessionIssuer\":{{\"arn\":\"{role}\"}}}}}}}}"
    );
    let success = format!(
        "{{\"eventSource\":\"kms.amazonaws.com\",\"userIdentity\":{{\"sessionContext\":{{\"sessionIssuer\":{{\"arn\":\"{role}\"}}}}}}}}"
    );
    let other_role = failure.replace("Pattern1ECSTaskRole", "Other");
    state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW, &failure), event(NOW + 1, &success), event(NOW + 2, &other_role), event(NOW + 3, &failure)],
            NOW,
            &mut metrics,
        )
        .expect("ingested");
    let points = metrics.query(&metric(&[]), NOW, NOW + 10);
    assert_eq!(points.iter().map(|p| (p.timestamp, p.value)).collect::<Vec<_>>(), vec![(NOW, 1.0), (NOW + 3, 1.0)]);
    assert_eq!(points[0].unit.as_deref(), Some("Count"));
}

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricTransformation.html
// (defaultValue: "The value to emit when a filter pattern does not match a log event").
#[test]
fn default_values_fields_and_dimensions() {
    let mut state = group_with_stream();
    let mut metrics = MetricStore::default();
    state.put_metric_filter(REGION, "g", filter("{ $.latency = * }", "$.latency", Some(0.0), &[])).expect("filter");
    state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW, "{\"latency\": 42}"), event(NOW + 1, "not json")],
            NOW,
            &mut metrics,
        )
        .expect("ingested");
    let values: Vec<f64> = metrics.query(&metric(&[]), NOW, NOW + 2).iter().map(|p| p.value).collect();
    assert_eq!(values, vec![42.0, 0.0]);

    let mut dims = MetricStore::default();
    state
        .put_metric_filter(REGION, "g", filter("{ $.errorCode = \"*\" }", "1", None, &[("ErrorCode", "$.errorCode")]))
        .expect("replaced");
    state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW, "{\"errorCode\": \"NotFoundException\"}")],
            NOW,
            &mut dims,
        )
        .expect("ingested");
    assert_eq!(dims.query(&metric(&[("ErrorCode", "NotFoundException")]), NOW, NOW + 1).len(), 1);

    let both = filter("{ $.a = 1 }", "1", Some(0.0), &[("A", "$.a")]);
    assert_eq!(state.put_metric_filter(REGION, "g", both).expect_err("both").code, "InvalidParameterException");
    let four = filter("{ $.a = 1 }", "1", None, &[("A", "$.a"), ("B", "$.b"), ("C", "$.c"), ("D", "$.d")]);
    assert_eq!(state.put_metric_filter(REGION, "g", four).expect_err("four").code, "InvalidParameterException");
    let terms_with_field = filter("ERROR", "$.a", None, &[]);
    assert_eq!(
        state.put_metric_filter(REGION, "g", terms_with_field).expect_err("field").code,
        "InvalidParameterException"
    );
    let bad_pattern = filter("{ $.a = ", "1", None, &[]);
    assert_eq!(
        state.put_metric_filter(REGION, "g", bad_pattern).expect_err("pattern").code,
        "InvalidParameterException"
    );
}

#[test]
fn only_events_ingested_after_the_filter_count() {
    let mut state = group_with_stream();
    let mut metrics = MetricStore::default();
    state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW, "ERROR before")],
            NOW,
            &mut metrics,
        )
        .expect("ingested");
    state.put_metric_filter(REGION, "g", filter("ERROR", "1", None, &[])).expect("filter");
    state
        .ingest(
            &StreamTarget { region: REGION, group: "g", stream: "s", create_stream: false },
            vec![event(NOW, "ERROR after")],
            NOW + 1,
            &mut metrics,
        )
        .expect("ingested");
    assert_eq!(metrics.query(&metric(&[]), 0, i64::MAX).len(), 1);
    state.delete_metric_filter(REGION, "g", "f").expect("deleted");
    assert_eq!(
        state.delete_metric_filter(REGION, "g", "f").expect_err("gone").message,
        "The specified metric filter does not exist."
    );
}

#[test]
fn delivery_creates_its_stream() {
    let mut state = group_with_stream();
    let mut metrics = MetricStore::default();
    state
        .ingest(
            &StreamTarget {
                region: REGION,
                group: "g",
                stream: "111122223333_CloudTrail_ap-southeast-2",
                create_stream: true,
            },
            vec![event(NOW, "{}")],
            NOW,
            &mut metrics,
        )
        .expect("delivered");
    assert!(state.group(REGION, "g").expect("group").streams.contains_key("111122223333_CloudTrail_ap-southeast-2"));
}
