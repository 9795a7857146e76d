//! Alarm settings as `PutMetricAlarm` takes them, and AWS's constraints on them.
//!
//! The console's threshold form and the sandbox's `PutMetricAlarm` both call
//! [`MetricAlarm::validate`], so a setting the console accepts is one AWS would
//! accept. Sources:
//! - PutMetricAlarm API reference (Period, EvaluationPeriods × Period limits,
//!   DatapointsToAlarm, ExtendedStatistic range, TreatMissingData values):
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
//! - "Using Amazon CloudWatch alarms" (periods of 10/20/30 s or multiples of
//!   60 s, M out of N, ASCII alarm names, AWS/DynamoDB always ignores missing data):
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest total evaluation window (`Period × EvaluationPeriods`) for periods
/// shorter than one hour: one day (PutMetricAlarm, `Period`).
pub const MAX_WINDOW_SECONDS_SHORT_PERIOD: u64 = 86_400;
/// Longest total evaluation window for periods of one hour or more: seven days.
pub const MAX_WINDOW_SECONDS: u64 = 604_800;
/// Periods below this length must fit in [`MAX_WINDOW_SECONDS_SHORT_PERIOD`].
pub const ONE_HOUR_SECONDS: u32 = 3_600;
/// The high-resolution periods AWS accepts besides multiples of 60 s.
pub const HIGH_RESOLUTION_PERIODS: [u32; 3] = [10, 20, 30];
/// AWS's length limit on alarm, namespace and metric names.
pub const MAX_NAME_LENGTH: usize = 255;

/// How the statistic is compared with the threshold (the four static operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl ComparisonOperator {
    /// Every operator, in AWS's documentation order.
    pub const ALL: [ComparisonOperator; 4] = [
        ComparisonOperator::GreaterThanOrEqualToThreshold,
        ComparisonOperator::GreaterThanThreshold,
        ComparisonOperator::LessThanThreshold,
        ComparisonOperator::LessThanOrEqualToThreshold,
    ];

    /// Whether `value` breaches `threshold`; the statistic is the first operand.
    pub fn is_breaching(self, value: f64, threshold: f64) -> bool {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => value >= threshold,
            ComparisonOperator::GreaterThanThreshold => value > threshold,
            ComparisonOperator::LessThanThreshold => value < threshold,
            ComparisonOperator::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// The words AWS's state reasons use ("was greater than the threshold").
    pub fn reason_words(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "greater than or equal to",
            ComparisonOperator::GreaterThanThreshold => "greater than",
            ComparisonOperator::LessThanThreshold => "less than",
            ComparisonOperator::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }

    /// A mathematical symbol for the console's one-line description.
    pub fn symbol(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => ">=",
            ComparisonOperator::GreaterThanThreshold => ">",
            ComparisonOperator::LessThanThreshold => "<",
            ComparisonOperator::LessThanOrEqualToThreshold => "<=",
        }
    }

    /// The API string, e.g. `GreaterThanThreshold`.
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            ComparisonOperator::GreaterThanThreshold => "GreaterThanThreshold",
            ComparisonOperator::LessThanThreshold => "LessThanThreshold",
            ComparisonOperator::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }
}

/// What missing datapoints count as (`TreatMissingData`); AWS's default is `missing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    Breaching,
    NotBreaching,
    Ignore,
    #[default]
    Missing,
}

impl TreatMissingData {
    /// Every value, in the column order of AWS's missing-data tables.
    pub const ALL: [TreatMissingData; 4] = [
        TreatMissingData::Missing,
        TreatMissingData::Ignore,
        TreatMissingData::Breaching,
        TreatMissingData::NotBreaching,
    ];

    /// The API string, e.g. `notBreaching`.
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Ignore => "ignore",
            TreatMissingData::Missing => "missing",
        }
    }
}

/// A simple statistic (`Statistic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

impl Statistic {
    /// The API string, e.g. `Sum`.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::SampleCount => "SampleCount",
            Statistic::Average => "Average",
            Statistic::Sum => "Sum",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
        }
    }
}

/// A percentile statistic (`ExtendedStatistic`), `p0.0` to `p100`.
///
/// Only percentiles are supported; AWS's trimmed means and other extended
/// statistics are rejected as invalid rather than evaluated wrongly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExtendedStatistic {
    text: String,
    percentile: f64,
}

impl ExtendedStatistic {
    /// Parses `p99`, `p99.9`, `p0.0`, `p100`: one or two integer digits with
    /// up to two decimals, or 100 (PutMetricAlarm: "between p0.0 and p100").
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::ExtendedStatistic(text.to_owned());
        let number = text.strip_prefix('p').ok_or_else(invalid)?;
        let (int, frac) = match number.split_once('.') {
            Some((int, frac)) => (int, Some(frac)),
            None => (number, None),
        };
        let int_ok = !int.is_empty() && int.len() <= 3 && int.bytes().all(|b| b.is_ascii_digit());
        let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.len() <= 2 && f.bytes().all(|b| b.is_ascii_digit()));
        if !int_ok || !frac_ok {
            return Err(invalid());
        }
        let percentile: f64 = number.parse().map_err(|_| invalid())?;
        if !(0.0..=100.0).contains(&percentile) {
            return Err(invalid());
        }
        Ok(ExtendedStatistic { text: text.to_owned(), percentile })
    }

    /// The percentile as a number from 0 to 100.
    pub fn percentile(&self) -> f64 {
        self.percentile
    }

    /// The text as given, e.g. `p99.9`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TryFrom<String> for ExtendedStatistic {
    type Error = ConfigError;
    fn try_from(text: String) -> Result<Self, ConfigError> {
        ExtendedStatistic::parse(&text)
    }
}

impl From<ExtendedStatistic> for String {
    fn from(stat: ExtendedStatistic) -> String {
        stat.text
    }
}

/// The statistic an alarm evaluates, once `Statistic`/`ExtendedStatistic` are resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatisticKind {
    /// One of the five simple statistics.
    Simple(Statistic),
    /// A percentile from 0 to 100.
    Percentile(f64),
}

/// One metric dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// Dimension name.
    pub name: String,
    /// Dimension value.
    pub value: String,
}

/// A metric alarm with a static threshold, as `PutMetricAlarm` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarm {
    /// 1 to 255 ASCII characters, unique in the account and Region.
    pub alarm_name: String,
    /// Free text shown with the alarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    /// The metric's namespace, e.g. `Pattern1Application/KMSSecurity`.
    pub namespace: String,
    /// The metric's name, e.g. `KMSSecurityError`.
    pub metric_name: String,
    /// The metric's dimensions (none for the lab's metric filter).
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// A simple statistic; exactly one of this and `extended_statistic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Statistic>,
    /// A percentile; exactly one of this and `statistic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<ExtendedStatistic>,
    /// Seconds per datapoint: 10, 20, 30 or a multiple of 60.
    pub period: u32,
    /// N: how many of the most recent datapoints are evaluated.
    pub evaluation_periods: u32,
    /// M: how many of the N must breach; AWS defaults it to N when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    /// The value the statistic is compared with; must be finite.
    pub threshold: f64,
    /// How the statistic (first operand) is compared with the threshold.
    pub comparison_operator: ComparisonOperator,
    /// What missing periods count as; `missing` when omitted.
    #[serde(default)]
    pub treat_missing_data: TreatMissingData,
    /// Whether state changes run the actions below; true when omitted.
    #[serde(default = "default_true")]
    pub actions_enabled: bool,
    /// ARNs notified on a transition to ALARM (the lab's SNS topic).
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    /// ARNs notified on a transition to OK.
    #[serde(default, rename = "OKActions")]
    pub ok_actions: Vec<String>,
    /// ARNs notified on a transition to INSUFFICIENT_DATA.
    #[serde(default)]
    pub insufficient_data_actions: Vec<String>,
}

fn default_true() -> bool {
    true
}

/// One broken AWS constraint. [`ConfigError::field`] names the
/// `PutMetricAlarm` parameter so a form can show the message beside it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("AlarmName must be 1 to 255 ASCII characters")]
    AlarmName,
    #[error("Namespace must be 1 to 255 characters")]
    Namespace,
    #[error("MetricName must be 1 to 255 characters")]
    MetricName,
    #[error("Exactly one of Statistic or ExtendedStatistic must be specified")]
    StatisticChoice,
    #[error("ExtendedStatistic {0:?} is not a percentile between p0.0 and p100")]
    ExtendedStatistic(String),
    #[error("Period must be 10, 20, 30 or a multiple of 60 seconds, not {0}")]
    Period(u32),
    #[error("EvaluationPeriods must be at least 1")]
    EvaluationPeriods,
    #[error("DatapointsToAlarm must be at least 1")]
    DatapointsToAlarmZero,
    #[error("DatapointsToAlarm must be less than or equal to EvaluationPeriods")]
    DatapointsToAlarmAboveEvaluationPeriods,
    #[error("Period multiplied by EvaluationPeriods is {window} seconds; it can't exceed {limit} seconds")]
    WindowTooLong { window: u64, limit: u64 },
    #[error("Threshold must be a finite number")]
    Threshold,
}

impl ConfigError {
    /// The `PutMetricAlarm` parameter the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::AlarmName => "AlarmName",
            ConfigError::Namespace => "Namespace",
            ConfigError::MetricName => "MetricName",
            ConfigError::StatisticChoice => "Statistic",
            ConfigError::ExtendedStatistic(_) => "ExtendedStatistic",
            ConfigError::Period(_) => "Period",
            ConfigError::EvaluationPeriods | ConfigError::WindowTooLong { .. } => "EvaluationPeriods",
            ConfigError::DatapointsToAlarmZero | ConfigError::DatapointsToAlarmAboveEvaluationPeriods => {
                "DatapointsToAlarm"
            }
            ConfigError::Threshold => "Threshold",
        }
    }
}

/// Whether AWS accepts `period` seconds: 10, 20, 30 or any multiple of 60.
pub fn is_valid_period(period: u32) -> bool {
    HIGH_RESOLUTION_PERIODS.contains(&period) || (period > 0 && period.is_multiple_of(60))
}

/// The longest `Period × EvaluationPeriods` AWS allows for `period`.
pub fn max_window_seconds(period: u32) -> u64 {
    if period < ONE_HOUR_SECONDS { MAX_WINDOW_SECONDS_SHORT_PERIOD } else { MAX_WINDOW_SECONDS }
}

impl MetricAlarm {
    /// The lab's alarm (lab.md, stack 3) without actions: Sum of
    /// KMSSecurityError > 1 over 10 s, 1 of 1, missing data ignored.
    pub fn lab() -> MetricAlarm {
        MetricAlarm {
            alarm_name: "Pattern1ApplicationKMSSecurityAlarm".into(),
            alarm_description: None,
            namespace: "Pattern1Application/KMSSecurity".into(),
            metric_name: "KMSSecurityError".into(),
            dimensions: Vec::new(),
            statistic: Some(Statistic::Sum),
            extended_statistic: None,
            period: 10,
            evaluation_periods: 1,
            datapoints_to_alarm: Some(1),
            threshold: 1.0,
            comparison_operator: ComparisonOperator::GreaterThanThreshold,
            treat_missing_data: TreatMissingData::Ignore,
            actions_enabled: true,
            alarm_actions: Vec::new(),
            ok_actions: Vec::new(),
            insufficient_data_actions: Vec::new(),
        }
    }

    /// Every broken constraint, in form order; empty when AWS would accept it.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        let name_ok = |s: &str| !s.is_empty() && s.chars().count() <= MAX_NAME_LENGTH;
        if !name_ok(&self.alarm_name) || !self.alarm_name.is_ascii() {
            errors.push(ConfigError::AlarmName);
        }
        if !name_ok(&self.namespace) {
            errors.push(ConfigError::Namespace);
        }
        if !name_ok(&self.metric_name) {
            errors.push(ConfigError::MetricName);
        }
        if self.statistic.is_some() == self.extended_statistic.is_some() {
            errors.push(ConfigError::StatisticChoice);
        }
        if !is_valid_period(self.period) {
            errors.push(ConfigError::Period(self.period));
        }
        if self.evaluation_periods == 0 {
            errors.push(ConfigError::EvaluationPeriods);
        }
        match self.datapoints_to_alarm {
            Some(0) => errors.push(ConfigError::DatapointsToAlarmZero),
            Some(m) if m > self.evaluation_periods => errors.push(ConfigError::DatapointsToAlarmAboveEvaluationPeriods),
            _ => {}
        }
        // u64 so that a huge EvaluationPeriods cannot overflow past the check.
        let window = u64::from(self.period) * u64::from(self.evaluation_periods);
        let limit = max_window_seconds(self.period);
        if window > limit {
            errors.push(ConfigError::WindowTooLong { window, limit });
        }
        if !self.threshold.is_finite() {
            errors.push(ConfigError::Threshold);
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The first broken constraint, for callers that only report one.
    pub fn check(&self) -> Result<(), ConfigError> {
        match self.validate() {
            Ok(()) => Ok(()),
            Err(mut errors) => Err(errors.swap_remove(0)),
        }
    }

    /// M: `DatapointsToAlarm`, or `EvaluationPeriods` when unset ("N consecutive").
    pub fn effective_datapoints_to_alarm(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// The missing-data treatment actually applied: AWS documents that alarms
    /// on `AWS/DynamoDB` metrics always ignore missing data, whatever is set.
    pub fn effective_treat_missing_data(&self) -> TreatMissingData {
        if self.namespace == "AWS/DynamoDB" { TreatMissingData::Ignore } else { self.treat_missing_data }
    }

    /// The resolved statistic, or why there is none.
    pub fn statistic_kind(&self) -> Result<StatisticKind, ConfigError> {
        match (&self.statistic, &self.extended_statistic) {
            (Some(stat), None) => Ok(StatisticKind::Simple(*stat)),
            (None, Some(ext)) => Ok(StatisticKind::Percentile(ext.percentile())),
            _ => Err(ConfigError::StatisticChoice),
        }
    }

    /// The statistic's name as AWS prints it (`Sum`, `p99`).
    pub fn statistic_name(&self) -> &str {
        match (&self.statistic, &self.extended_statistic) {
            (Some(stat), _) => stat.as_str(),
            (None, Some(ext)) => ext.as_str(),
            (None, None) => "",
        }
    }

    /// The condition in words, e.g.
    /// "Sum of KMSSecurityError > 1 for 1 of 1 periods of 10 s; missing data: ignore".
    pub fn describe_condition(&self) -> String {
        format!(
            "{} of {} {} {} for {} of {} periods of {}; missing data: {}",
            self.statistic_name(),
            self.metric_name,
            self.comparison_operator.symbol(),
            self.threshold,
            self.effective_datapoints_to_alarm(),
            self.evaluation_periods,
            describe_duration(u64::from(self.period)),
            self.effective_treat_missing_data().as_str(),
        )
    }
}

/// "10 s", "5 min", "1 h": the largest unit that divides the duration.
pub fn describe_duration(seconds: u64) -> String {
    if seconds >= 3_600 && seconds.is_multiple_of(3_600) {
        format!("{} h", seconds / 3_600)
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

impl fmt::Display for ComparisonOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TreatMissingData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The lab's alarm: Sum of KMSSecurityError > 1, 10 s, 1 of 1, ignore.
    pub(crate) fn lab_alarm() -> MetricAlarm {
        MetricAlarm {
            alarm_actions: vec!["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic".into()],
            ..MetricAlarm::lab()
        }
    }

    #[test]
    fn lab_alarm_is_valid_and_described() {
        let alarm = lab_alarm();
        assert_eq!(alarm.validate(), Ok(()));
        assert_eq!(
            alarm.describe_condition(),
            "Sum of KMSSecurityError > 1 for 1 of 1 periods of 10 s; missing data: ignore"
        );
    }

    // PutMetricAlarm, Period: "Valid values are 10, 20, 30, and any multiple of 60."
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    #[test]
    fn periods_follow_put_metric_alarm() {
        for ok in [10, 20, 30, 60, 120, 300, 3_600, 86_400] {
            assert!(is_valid_period(ok), "{ok}");
        }
        for bad in [0, 1, 5, 15, 40, 45, 59, 61, 90] {
            assert!(!is_valid_period(bad), "{bad}");
        }
    }

    // PutMetricAlarm, Period: "Period multiplied by EvaluationPeriods can't be more than
    // 604,800 seconds. For alarms with a period of less than one hour (3,600 seconds),
    // the total evaluation period can't be longer than one day (86,400 seconds)."
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    #[test]
    fn window_limits_follow_put_metric_alarm() {
        let mut alarm = lab_alarm();
        alarm.evaluation_periods = 8_640; // 10 s × 8640 = exactly one day
        alarm.datapoints_to_alarm = None;
        assert_eq!(alarm.validate(), Ok(()));
        alarm.evaluation_periods = 8_641;
        assert_eq!(alarm.check(), Err(ConfigError::WindowTooLong { window: 86_410, limit: 86_400 }));
        alarm.period = 3_600;
        alarm.evaluation_periods = 168; // seven days of hours
        assert_eq!(alarm.validate(), Ok(()));
        alarm.evaluation_periods = 169;
        assert!(alarm.validate().is_err());
        alarm.evaluation_periods = u32::MAX; // must not overflow
        assert!(alarm.validate().is_err());
    }

    // "DatapointsToAlarm must be less than or equal to EvaluationPeriods" is AWS's own
    // ValidationError text (quoted in hashicorp/terraform#24070).
    #[test]
    fn m_must_not_exceed_n() {
        let mut alarm = lab_alarm();
        alarm.datapoints_to_alarm = Some(2);
        let err = alarm.check().unwrap_err();
        assert_eq!(err.to_string(), "DatapointsToAlarm must be less than or equal to EvaluationPeriods");
        assert_eq!(err.field(), "DatapointsToAlarm");
        alarm.datapoints_to_alarm = Some(0);
        assert_eq!(alarm.check(), Err(ConfigError::DatapointsToAlarmZero));
    }

    #[test]
    fn untrusted_numbers_are_rejected() {
        for threshold in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut alarm = lab_alarm();
            alarm.threshold = threshold;
            assert_eq!(alarm.check(), Err(ConfigError::Threshold));
        }
        let mut alarm = lab_alarm();
        alarm.period = 0;
        alarm.evaluation_periods = 0;
        let errors = alarm.validate().unwrap_err();
        assert!(errors.contains(&ConfigError::Period(0)));
        assert!(errors.contains(&ConfigError::EvaluationPeriods));
    }

    #[test]
    fn names_must_be_ascii_and_short() {
        let mut alarm = lab_alarm();
        alarm.alarm_name = "Alarme é".into();
        assert_eq!(alarm.check(), Err(ConfigError::AlarmName));
        alarm.alarm_name = "a".repeat(256);
        assert_eq!(alarm.check(), Err(ConfigError::AlarmName));
        alarm.alarm_name = String::new();
        assert_eq!(alarm.check(), Err(ConfigError::AlarmName));
    }

    // ExtendedStatistic: "Specify a value between p0.0 and p100."
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    #[test]
    fn extended_statistics_are_percentiles() {
        for ok in ["p0.0", "p0", "p50", "p99", "p99.9", "p99.99", "p100"] {
            assert!(ExtendedStatistic::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "p", "99", "p-1", "p100.1", "p101", "p99.999", "tm99", "p1e2", "pNaN", "p.5"] {
            assert!(ExtendedStatistic::parse(bad).is_err(), "{bad}");
        }
        let mut alarm = lab_alarm();
        alarm.extended_statistic = Some(ExtendedStatistic::parse("p99").unwrap());
        assert_eq!(alarm.check(), Err(ConfigError::StatisticChoice));
        alarm.statistic = None;
        assert_eq!(alarm.statistic_kind(), Ok(StatisticKind::Percentile(99.0)));
        assert!(alarm.describe_condition().starts_with("p99 of KMSSecurityError"));
    }

    #[test]
    fn serde_uses_aws_names() {
        let json = serde_json::to_value(lab_alarm()).unwrap();
        assert_eq!(json["ComparisonOperator"], "GreaterThanThreshold");
        assert_eq!(json["TreatMissingData"], "ignore");
        assert_eq!(json["Statistic"], "Sum");
        assert_eq!(json["DatapointsToAlarm"], 1);
        let back: MetricAlarm = serde_json::from_value(json).unwrap();
        assert_eq!(back, lab_alarm());
        let tmd: TreatMissingData = serde_json::from_str("\"notBreaching\"").unwrap();
        assert_eq!(tmd, TreatMissingData::NotBreaching);
        assert!(serde_json::from_str::<ExtendedStatistic>("\"p101\"").is_err());
    }

    // "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing data"
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    #[test]
    fn dynamodb_alarms_always_ignore_missing_data() {
        let mut alarm = lab_alarm();
        alarm.treat_missing_data = TreatMissingData::Breaching;
        alarm.namespace = "AWS/DynamoDB".into();
        assert_eq!(alarm.effective_treat_missing_data(), TreatMissingData::Ignore);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(describe_duration(10), "10 s");
        assert_eq!(describe_duration(300), "5 min");
        assert_eq!(describe_duration(7_200), "2 h");
        assert_eq!(describe_duration(5_400), "90 min");
    }
}
