//! Amazon CloudWatch: the alarms Keywatch manages, read as one
//! [`AlarmSnapshot`] each (state, actions, settings in the domain's terms),
//! their history, their settings changed with PutMetricAlarm, and their
//! metrics' data.

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{ScanBy, StateValue, Statistic};
use keywatch_domain::alarm::MetricAlarm;

use super::AwsCallError;
use super::interceptor::CallMetrics;

/// The CloudWatch client, wrapped to take and return Keywatch's own types.
#[derive(Debug, Clone)]
pub struct CloudWatch {
    client: aws_sdk_cloudwatch::Client,
}

/// One metric alarm as DescribeAlarms returns it: its state now, the
/// actions it runs, and its settings in the domain's terms. The one shape
/// every reader of DescribeAlarms gets (pollers, the Alarms and Testing
/// pages, the stack watcher).
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html>
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSnapshot {
    pub alarm_name: String,
    pub alarm_arn: String,
    /// `StateValue`: OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: String,
    pub state_reason: String,
    /// When `StateValue` last changed, epoch ms.
    pub state_transitioned_ms: Option<i64>,
    /// The actions of every alarm, whether or not its settings are below:
    /// an alarm on metric math alerts the lab's topics too.
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    /// The alarm as PutMetricAlarm takes it; `None` for alarms on metric
    /// math or anomaly bands, which the threshold form does not edit.
    pub settings: Option<MetricAlarm>,
}

impl AlarmSnapshot {
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

    /// `DescribeAlarms`, every page: the metric alarms as the SDK returns
    /// them, all of the Region's or only `alarm_name`.
    async fn sdk_metric_alarms(
        &self,
        alarm_name: Option<&str>,
    ) -> Result<Vec<aws_sdk_cloudwatch::types::MetricAlarm>, AwsCallError> {
        let mut alarms = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .describe_alarms()
                .set_alarm_names(alarm_name.map(|name| vec![name.to_owned()]))
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("DescribeAlarms", error))?;
            alarms.extend(output.metric_alarms().iter().cloned());
            match output.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(alarms),
            }
        }
    }

    /// `DescribeAlarms`, every page: all metric alarms in the Region.
    pub async fn describe_metric_alarms(&self) -> Result<Vec<AlarmSnapshot>, AwsCallError> {
        Ok(self.sdk_metric_alarms(None).await?.iter().map(snapshot).collect())
    }

    /// `DescribeAlarms` for one metric alarm by name; `None` when there is
    /// no such alarm.
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html>
    pub async fn describe_alarm(&self, alarm_name: &str) -> Result<Option<AlarmSnapshot>, AwsCallError> {
        let alarms = self.sdk_metric_alarms(Some(alarm_name)).await?;
        Ok(alarms.iter().find(|alarm| alarm.alarm_name() == Some(alarm_name)).map(snapshot))
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

    /// `EnableAlarmActions` or `DisableAlarmActions` for one alarm: with its
    /// actions disabled, CloudWatch still evaluates the alarm and records
    /// its state changes, but runs none of its actions.
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html>
    pub async fn set_alarm_actions(&self, alarm_name: &str, enabled: bool) -> Result<(), AwsCallError> {
        if enabled {
            self.client
                .enable_alarm_actions()
                .alarm_names(alarm_name)
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("EnableAlarmActions", error))?;
        } else {
            self.client
                .disable_alarm_actions()
                .alarm_names(alarm_name)
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("DisableAlarmActions", error))?;
        }
        Ok(())
    }

    /// `SetAlarmState`: sets the alarm's state until its next evaluation,
    /// the API AWS provides for testing alarms.
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html>
    pub async fn set_alarm_state(&self, alarm_name: &str, state: &str, reason: &str) -> Result<(), AwsCallError> {
        self.client
            .set_alarm_state()
            .alarm_name(alarm_name)
            .state_value(StateValue::from(state))
            .state_reason(reason)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("SetAlarmState", error))?;
        Ok(())
    }

    /// `GetMetricStatistics` for a metric without dimensions: one statistic
    /// per `period_seconds` from `start_ms` to `end_ms`, oldest first, as
    /// (timestamp ms, value).
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html>
    pub async fn get_metric_statistics(
        &self,
        namespace: &str,
        metric_name: &str,
        statistic: &str,
        period_seconds: u32,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<(i64, f64)>, AwsCallError> {
        let statistic = Statistic::from(statistic);
        let output = self
            .client
            .get_metric_statistics()
            .namespace(namespace)
            .metric_name(metric_name)
            .statistics(statistic.clone())
            .period(i32::try_from(period_seconds).unwrap_or(60))
            .start_time(DateTime::from_millis(start_ms))
            .end_time(DateTime::from_millis(end_ms))
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("GetMetricStatistics", error))?;
        let mut points: Vec<(i64, f64)> = output
            .datapoints()
            .iter()
            .filter_map(|point| {
                let at = point.timestamp()?.to_millis().ok()?;
                let value = match statistic {
                    Statistic::SampleCount => point.sample_count(),
                    Statistic::Average => point.average(),
                    Statistic::Minimum => point.minimum(),
                    Statistic::Maximum => point.maximum(),
                    _ => point.sum(),
                }?;
                Some((at, value))
            })
            .collect();
        // AWS returns datapoints in no particular order.
        points.sort_by_key(|(at, _)| *at);
        Ok(points)
    }

    /// `GetMetricData` for one window of the metric's history: SampleCount,
    /// Sum, Minimum and Maximum per `period_s` bucket, rebuilt as statistic
    /// sets (which give every simple statistic of longer periods exactly).
    /// Follows `NextToken` until the window is complete.
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>
    pub async fn metric_statistic_sets(
        &self,
        alarm: &MetricAlarm,
        window: keywatch_domain::alarm::FetchWindow,
    ) -> Result<Vec<keywatch_domain::alarm::MetricSample>, AwsCallError> {
        use std::collections::BTreeMap;

        use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
        use keywatch_domain::alarm::preview::FETCHED_STATISTICS;

        let metric = Metric::builder()
            .namespace(&alarm.namespace)
            .metric_name(&alarm.metric_name)
            .set_dimensions(Some(
                alarm.dimensions.iter().map(|d| Dimension::builder().name(&d.name).value(&d.value).build()).collect(),
            ))
            .build();
        let period = i32::try_from(window.period_s).unwrap_or(60);
        let queries: Vec<MetricDataQuery> = FETCHED_STATISTICS
            .iter()
            .map(|stat| {
                MetricDataQuery::builder()
                    .id(stat.to_ascii_lowercase())
                    .metric_stat(MetricStat::builder().metric(metric.clone()).period(period).stat(*stat).build())
                    .return_data(true)
                    .build()
            })
            .collect();
        // Bucket start → [SampleCount, Sum, Minimum, Maximum].
        let mut buckets: BTreeMap<i64, [Option<f64>; 4]> = BTreeMap::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from_millis(window.start_ms))
                .end_time(DateTime::from_millis(window.end_ms))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("GetMetricData", error))?;
            for result in output.metric_data_results() {
                let Some(slot) =
                    FETCHED_STATISTICS.iter().position(|stat| Some(stat.to_ascii_lowercase().as_str()) == result.id())
                else {
                    continue;
                };
                for (at, value) in result.timestamps().iter().zip(result.values()) {
                    if let Ok(ms) = at.to_millis() {
                        buckets.entry(ms).or_default()[slot] = Some(*value);
                    }
                }
            }
            match output.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(buckets
            .into_iter()
            .filter_map(|(timestamp_ms, stats)| match stats {
                [Some(sample_count), Some(sum), Some(minimum), Some(maximum)] if sample_count > 0.0 => {
                    Some(keywatch_domain::alarm::MetricSample::StatisticSet {
                        timestamp_ms,
                        sample_count,
                        sum,
                        minimum,
                        maximum,
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// `PutMetricAlarm` with every setting of `alarm` (it replaces the
    /// alarm's whole configuration, so nothing may be left out).
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
    pub async fn put_metric_alarm(&self, alarm: &MetricAlarm) -> Result<(), AwsCallError> {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};

        let as_i32 = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        self.client
            .put_metric_alarm()
            .alarm_name(&alarm.alarm_name)
            .set_alarm_description(alarm.alarm_description.clone())
            .namespace(&alarm.namespace)
            .metric_name(&alarm.metric_name)
            .set_dimensions(Some(
                alarm.dimensions.iter().map(|d| Dimension::builder().name(&d.name).value(&d.value).build()).collect(),
            ))
            .set_statistic(alarm.statistic.map(|stat| Statistic::from(stat.as_str())))
            .set_extended_statistic(alarm.extended_statistic.as_ref().map(|ext| ext.as_str().to_owned()))
            .period(as_i32(alarm.period))
            .evaluation_periods(as_i32(alarm.evaluation_periods))
            .set_datapoints_to_alarm(alarm.datapoints_to_alarm.map(as_i32))
            .threshold(alarm.threshold)
            .comparison_operator(ComparisonOperator::from(alarm.comparison_operator.as_str()))
            .treat_missing_data(alarm.treat_missing_data.as_str())
            .actions_enabled(alarm.actions_enabled)
            .set_alarm_actions(Some(alarm.alarm_actions.clone()))
            .set_ok_actions(Some(alarm.ok_actions.clone()))
            .set_insufficient_data_actions(Some(alarm.insufficient_data_actions.clone()))
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("PutMetricAlarm", error))?;
        Ok(())
    }
}

/// Our view of an SDK `MetricAlarm`.
fn snapshot(alarm: &aws_sdk_cloudwatch::types::MetricAlarm) -> AlarmSnapshot {
    use keywatch_domain::alarm::{ComparisonOperator, Dimension, ExtendedStatistic, Statistic, TreatMissingData};

    let statistic = alarm.statistic().and_then(|stat| {
        [Statistic::SampleCount, Statistic::Average, Statistic::Sum, Statistic::Minimum, Statistic::Maximum]
            .into_iter()
            .find(|ours| ours.as_str() == stat.as_str())
    });
    let extended_statistic = alarm.extended_statistic().and_then(|ext| ExtendedStatistic::parse(ext).ok());
    let comparison_operator = alarm
        .comparison_operator()
        .and_then(|op| ComparisonOperator::ALL.into_iter().find(|ours| ours.as_str() == op.as_str()));
    let treat_missing_data = alarm
        .treat_missing_data()
        .map(|tmd| TreatMissingData::ALL.into_iter().find(|ours| ours.as_str() == tmd))
        .unwrap_or(Some(TreatMissingData::Missing));
    let count = |value: Option<i32>| value.and_then(|v| u32::try_from(v).ok());
    let settings = match (
        alarm.namespace(),
        alarm.metric_name(),
        count(alarm.period()),
        count(alarm.evaluation_periods()),
        alarm.threshold(),
        comparison_operator,
        treat_missing_data,
    ) {
        (
            Some(namespace),
            Some(metric_name),
            Some(period),
            Some(evaluation_periods),
            Some(threshold),
            Some(comparison_operator),
            Some(treat_missing_data),
        ) if statistic.is_some() || extended_statistic.is_some() => Some(MetricAlarm {
            alarm_name: alarm.alarm_name().unwrap_or_default().to_owned(),
            alarm_description: alarm.alarm_description().map(str::to_owned),
            namespace: namespace.to_owned(),
            metric_name: metric_name.to_owned(),
            dimensions: alarm
                .dimensions()
                .iter()
                .map(|d| Dimension {
                    name: d.name().unwrap_or_default().to_owned(),
                    value: d.value().unwrap_or_default().to_owned(),
                })
                .collect(),
            statistic,
            extended_statistic,
            period,
            evaluation_periods,
            datapoints_to_alarm: count(alarm.datapoints_to_alarm()),
            threshold,
            comparison_operator,
            treat_missing_data,
            actions_enabled: alarm.actions_enabled().unwrap_or(true),
            alarm_actions: alarm.alarm_actions().to_vec(),
            ok_actions: alarm.ok_actions().to_vec(),
            insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
        }),
        _ => None,
    };
    let millis = |at: Option<&DateTime>| at.and_then(|at| at.to_millis().ok());
    AlarmSnapshot {
        alarm_name: alarm.alarm_name().unwrap_or_default().to_owned(),
        alarm_arn: alarm.alarm_arn().unwrap_or_default().to_owned(),
        state_value: alarm.state_value().map(|state| state.as_str().to_owned()).unwrap_or_default(),
        state_reason: alarm.state_reason().unwrap_or_default().to_owned(),
        // The transition time says when StateValue last changed;
        // StateUpdatedTimestamp also moves on reason-only updates.
        state_transitioned_ms: millis(alarm.state_transitioned_timestamp())
            .or_else(|| millis(alarm.state_updated_timestamp())),
        alarm_actions: alarm.alarm_actions().to_vec(),
        ok_actions: alarm.ok_actions().to_vec(),
        insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
        settings,
    }
}
