//! CloudWatch's metric retention through the SDK: datapoints older than 3
//! hours are answered from roll-ups, only for periods CloudWatch allows,
//! and they survive a restart of a sandbox with a state directory.

mod support;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{MetricDatum, Statistic};
use keywatch_sandbox::SandboxConfig;

const NAMESPACE: &str = "Keywatch/Retention";

async fn statistics(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    from_ms: i64,
    to_ms: i64,
    period: i32,
) -> Vec<(f64, Option<f64>)> {
    let output = cloudwatch
        .get_metric_statistics()
        .namespace(NAMESPACE)
        .metric_name("Calls")
        .start_time(DateTime::from_millis(from_ms))
        .end_time(DateTime::from_millis(to_ms))
        .period(period)
        .statistics(Statistic::Sum)
        .extended_statistics("p90")
        .send()
        .await
        .expect("GetMetricStatistics");
    let mut points: Vec<_> = output
        .datapoints()
        .iter()
        .map(|point| {
            let p90 = point.extended_statistics().and_then(|stats| stats.get("p90").copied());
            (point.timestamp().map_or(0, |t| t.to_millis().unwrap_or(0)), point.sum().unwrap_or(0.0), p90)
        })
        .collect();
    points.sort_by_key(|point| point.0);
    points.into_iter().map(|(_, sum, p90)| (sum, p90)).collect()
}

async fn put(cloudwatch: &aws_sdk_cloudwatch::Client, at_ms: i64, value: f64) {
    cloudwatch
        .put_metric_data()
        .namespace(NAMESPACE)
        .metric_data(
            MetricDatum::builder().metric_name("Calls").timestamp(DateTime::from_millis(at_ms)).value(value).build(),
        )
        .send()
        .await
        .expect("PutMetricData");
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
// "If the StartTime parameter specifies a time stamp that is greater than 3
// hours ago, you must specify the period as follows or no data points in
// that time range is returned: Start time between 3 hours and 15 days ago -
// Use a multiple of 60 seconds (1 minute)." Percentiles are computed here
// from raw datapoints, kept for the 3 hours high-resolution data is kept.
#[tokio::test]
async fn older_data_is_answered_from_minute_rollups_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SandboxConfig { state_dir: Some(dir.path().to_owned()), ..SandboxConfig::default() };
    let (sandbox, running) = support::start_sandbox_with(config.clone()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let now = keywatch_sandbox::clock::now_ms();
    let hour = 60 * 60 * 1000;
    // Five hours ago, three datapoints in one minute; and three just now.
    let old_minute = (now - 5 * hour) / 60_000 * 60_000;
    for (offset, value) in [(1_000, 1.0), (2_000, 2.0), (3_000, 3.0)] {
        put(&cloudwatch, old_minute + offset, value).await;
        put(&cloudwatch, now - 10_000 + offset, value).await;
    }
    let old = (old_minute - 60_000, old_minute + 120_000);

    assert_eq!(statistics(&cloudwatch, old.0, old.1, 60).await, vec![(6.0, None)], "1-minute roll-up, no p90");
    assert!(statistics(&cloudwatch, old.0, old.1, 30).await.is_empty(), "a 30 s period beyond 3 hours");
    let recent = statistics(&cloudwatch, now - 60_000, now + 60_000, 120).await;
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].0, 6.0);
    assert!(recent[0].1.is_some(), "p90 of raw datapoints: {recent:?}");
    let listed = cloudwatch.list_metrics().namespace(NAMESPACE).send().await.expect("ListMetrics");
    assert_eq!(listed.metrics().len(), 1);

    drop(running);
    drop(sandbox);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_sandbox, running) = support::start_sandbox_with(config).await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&support::sdk_config(&running.endpoint_url, "ap-southeast-2"));
    assert_eq!(statistics(&cloudwatch, old.0, old.1, 60).await, vec![(6.0, None)], "the roll-up after a restart");
    assert_eq!(statistics(&cloudwatch, now - 60_000, now + 60_000, 120).await.len(), 1);
}
