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

    /// The newest `limit` messages of `log_group` since `since_ms` that match
    /// `filter_pattern` (CloudWatch Logs' own syntax, applied by the service),
    /// oldest first. FilterLogEvents returns events oldest first and has no
    /// descending order, so this pages through growing windows ending now
    /// (5 minutes, 30 minutes, then back to `since_ms`) keeping the last
    /// `limit` seen, and stops at the first window that holds enough. Each
    /// window reads at most [`MAX_PAGES`] pages.
    /// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html>
    pub async fn recent_messages(
        &self,
        log_group: &str,
        filter_pattern: &str,
        since_ms: i64,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, AwsCallError> {
        let mut newest = std::collections::VecDeque::new();
        for window_ms in [300_000, 1_800_000, i64::MAX] {
            let start = now_ms.saturating_sub(window_ms).max(since_ms);
            newest.clear();
            let mut token: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let output = self
                    .client
                    .filter_log_events()
                    .log_group_name(log_group)
                    .filter_pattern(filter_pattern)
                    .start_time(start)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|error| {
                        let missing = error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception());
                        let error = AwsCallError::from_sdk("FilterLogEvents", error);
                        if missing { error.not_found() } else { error }
                    })?;
                for message in output.events().iter().filter_map(|event| event.message()) {
                    if newest.len() == limit {
                        newest.pop_front();
                    }
                    newest.push_back(message.to_owned());
                }
                match output.next_token() {
                    Some(next) if !output.events().is_empty() => token = Some(next.to_owned()),
                    _ => break,
                }
            }
            if newest.len() >= limit || start == since_ms {
                break;
            }
        }
        Ok(newest.into())
    }
}

/// Pages read per window at most (FilterLogEvents gives up to 10,000
/// events a page).
const MAX_PAGES: usize = 20;
