//! Amazon CloudWatch: the alarms Keywatch manages and their history.

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::ScanBy;

use super::AwsCallError;
use crate::metrics::CallMetrics;

/// The CloudWatch client, wrapped to take and return Keywatch's own types.
#[derive(Debug, Clone)]
pub struct CloudWatch {
    client: aws_sdk_cloudwatch::Client,
}

/// A metric alarm, as much of it as the history and subscriber pages need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricAlarm {
    pub alarm_name: String,
    pub alarm_arn: String,
    /// `StateValue`: OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: String,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
}

impl MetricAlarm {
    /// Every action ARN of the alarm, whatever state triggers it.
    pub fn all_actions(&self) -> impl Iterator<Item = &str> {
        self.alarm_actions.iter().chain(&self.ok_actions).chain(&self.insufficient_data_actions).map(String::as_str)
    }
}

/// One `AlarmHistoryItem`.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmHistoryItem {
    pub alarm_name: String,
    /// `MetricAlarm` or `CompositeAlarm`.
    pub alarm_type: String,
    /// Epoch milliseconds.
    pub timestamp_ms: i64,
    /// `ConfigurationUpdate`, `StateUpdate`, `Action`, or the contributor variants.
    pub history_item_type: String,
    pub history_summary: String,
    /// The JSON document, as the API returns it (a string).
    pub history_data: String,
}

/// One page of `DescribeAlarmHistory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmHistoryPage {
    pub items: Vec<AlarmHistoryItem>,
    pub next_token: Option<String>,
}

/// The largest page `DescribeAlarmHistory` returns (`MaxRecords` 1–100).
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>
pub const MAX_HISTORY_RECORDS: i32 = 100;

impl CloudWatch {
    pub fn new(config: &SdkConfig) -> CloudWatch {
        CloudWatch {
            client: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// `DescribeAlarms`, every page: all metric alarms in the Region.
    pub async fn describe_metric_alarms(&self) -> Result<Vec<MetricAlarm>, AwsCallError> {
        let mut alarms = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .describe_alarms()
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("DescribeAlarms", error))?;
            alarms.extend(output.metric_alarms().iter().map(|alarm| MetricAlarm {
                alarm_name: alarm.alarm_name().unwrap_or_default().to_owned(),
                alarm_arn: alarm.alarm_arn().unwrap_or_default().to_owned(),
                state_value: alarm.state_value().map(|state| state.as_str().to_owned()).unwrap_or_default(),
                alarm_actions: alarm.alarm_actions().to_vec(),
                ok_actions: alarm.ok_actions().to_vec(),
                insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
            }));
            match output.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(alarms),
            }
        }
    }

    /// One page of `DescribeAlarmHistory` for `alarm_name`, all item types,
    /// oldest first, from `start_ms` (inclusive, as `StartDate` is).
    pub async fn describe_alarm_history(
        &self,
        alarm_name: &str,
        start_ms: Option<i64>,
        next_token: Option<String>,
    ) -> Result<AlarmHistoryPage, AwsCallError> {
        let output = self
            .client
            .describe_alarm_history()
            .alarm_name(alarm_name)
            .set_start_date(start_ms.map(DateTime::from_millis))
            .scan_by(ScanBy::TimestampAscending)
            .max_records(MAX_HISTORY_RECORDS)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|error| {
                let invalid_token = error.as_service_error().is_some_and(|e| e.is_invalid_next_token());
                let error = AwsCallError::from_sdk("DescribeAlarmHistory", error);
                if invalid_token { error.not_found() } else { error }
            })?;
        let items = output
            .alarm_history_items()
            .iter()
            .map(|item| AlarmHistoryItem {
                alarm_name: item.alarm_name().unwrap_or_default().to_owned(),
                alarm_type: item.alarm_type().map_or_else(|| "MetricAlarm".to_owned(), |t| t.as_str().to_owned()),
                timestamp_ms: item.timestamp().and_then(|t| t.to_millis().ok()).unwrap_or_default(),
                history_item_type: item.history_item_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
                history_summary: item.history_summary().unwrap_or_default().to_owned(),
                history_data: item.history_data().unwrap_or_default().to_owned(),
            })
            .collect();
        Ok(AlarmHistoryPage { items, next_token: output.next_token().filter(|t| !t.is_empty()).map(str::to_owned) })
    }
}
