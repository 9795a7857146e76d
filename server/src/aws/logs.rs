//! Amazon CloudWatch Logs: recent events of the trail's log group, for the
//! pattern tester.

use aws_config::SdkConfig;

use super::AwsCallError;

/// The CloudWatch Logs client, wrapped to take and return Keywatch's own types.
#[derive(Debug, Clone)]
pub struct Logs {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl Logs {
    pub fn new(config: &SdkConfig) -> Logs {
        Logs { client: aws_sdk_cloudwatchlogs::Client::new(config) }
    }

    /// `FilterLogEvents`: up to `limit` messages of `log_group` since
    /// `start_ms`, one page (oldest first, as the API returns them).
    /// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html>
    pub async fn recent_messages(
        &self,
        log_group: &str,
        start_ms: i64,
        limit: i32,
    ) -> Result<Vec<String>, AwsCallError> {
        let output = self
            .client
            .filter_log_events()
            .log_group_name(log_group)
            .start_time(start_ms)
            .limit(limit)
            .send()
            .await
            .map_err(|error| {
                let missing = error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception());
                let error = AwsCallError::from_sdk("FilterLogEvents", error);
                if missing { error.not_found() } else { error }
            })?;
        Ok(output.events().iter().filter_map(|event| event.message().map(str::to_owned)).collect())
    }
}
