//! The threshold form: an alarm's seven tunable settings as typed by a
//! person, checked field by field with AWS's own constraints.
//!
//! The console's edit form calls [`ThresholdForm::apply`] on every keystroke
//! (in the browser, to show each message beside its field before anything is
//! sent) and the server calls the same function before it changes anything,
//! so both refuse exactly the same values. Number parsing is this module's;
//! the constraints between settings are [`MetricAlarm::validate`]'s.
//! Source: PutMetricAlarm API reference,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>.

use serde::{Deserialize, Serialize};

use super::config::{ComparisonOperator, ConfigError, MetricAlarm, Statistic, TreatMissingData};

/// The form's fields, named as `PutMetricAlarm` names the parameters.
pub const FIELDS: [&str; 7] = [
    "Threshold",
    "ComparisonOperator",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "TreatMissingData",
];

/// The five simple statistics, as a form's choices.
pub const STATISTICS: [Statistic; 5] =
    [Statistic::SampleCount, Statistic::Average, Statistic::Sum, Statistic::Minimum, Statistic::Maximum];

/// The tunable settings of an alarm, as text from a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdForm {
    pub threshold: String,
    pub comparison_operator: String,
    pub statistic: String,
    pub period: String,
    pub evaluation_periods: String,
    pub datapoints_to_alarm: String,
    pub treat_missing_data: String,
}

/// One refused field and why, for the message beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// One of [`FIELDS`].
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError { field: field.to_owned(), message: message.into() }
    }
}

impl ThresholdForm {
    /// The form filled in with `alarm`'s current settings.
    pub fn of(alarm: &MetricAlarm) -> ThresholdForm {
        ThresholdForm {
            threshold: alarm.threshold.to_string(),
            comparison_operator: alarm.comparison_operator.as_str().to_owned(),
            statistic: alarm.statistic_name().to_owned(),
            period: alarm.period.to_string(),
            evaluation_periods: alarm.evaluation_periods.to_string(),
            datapoints_to_alarm: alarm.effective_datapoints_to_alarm().to_string(),
            treat_missing_data: alarm.treat_missing_data.as_str().to_owned(),
        }
    }

    /// `base` with the form's settings, or every refused field. Nothing else
    /// of `base` (name, metric, actions) changes.
    pub fn apply(&self, base: &MetricAlarm) -> Result<MetricAlarm, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut alarm = base.clone();
        match parse_threshold(&self.threshold) {
            Ok(value) => alarm.threshold = value,
            Err(message) => errors.push(FieldError::new("Threshold", message)),
        }
        match ComparisonOperator::ALL.into_iter().find(|op| op.as_str() == self.comparison_operator.trim()) {
            Some(op) => alarm.comparison_operator = op,
            None => errors.push(FieldError::new(
                "ComparisonOperator",
                "ComparisonOperator must be GreaterThanOrEqualToThreshold, GreaterThanThreshold, \
                 LessThanThreshold or LessThanOrEqualToThreshold",
            )),
        }
        match STATISTICS.into_iter().find(|stat| stat.as_str() == self.statistic.trim()) {
            Some(stat) => {
                alarm.statistic = Some(stat);
                alarm.extended_statistic = None;
            }
            None => errors
                .push(FieldError::new("Statistic", "Statistic must be SampleCount, Average, Sum, Minimum or Maximum")),
        }
        let mut numbers_ok = true;
        for (field, text, slot) in [
            ("Period", &self.period, &mut alarm.period),
            ("EvaluationPeriods", &self.evaluation_periods, &mut alarm.evaluation_periods),
        ] {
            match parse_count(field, text) {
                Ok(value) => *slot = value,
                Err(message) => {
                    numbers_ok = false;
                    errors.push(FieldError::new(field, message));
                }
            }
        }
        match parse_count("DatapointsToAlarm", &self.datapoints_to_alarm) {
            Ok(value) => alarm.datapoints_to_alarm = Some(value),
            Err(message) => {
                numbers_ok = false;
                errors.push(FieldError::new("DatapointsToAlarm", message));
            }
        }
        match TreatMissingData::ALL.into_iter().find(|tmd| tmd.as_str() == self.treat_missing_data.trim()) {
            Some(tmd) => alarm.treat_missing_data = tmd,
            None => errors.push(FieldError::new(
                "TreatMissingData",
                "TreatMissingData must be breaching, notBreaching, ignore or missing",
            )),
        }
        if let Err(config_errors) = alarm.validate() {
            for error in config_errors {
                let field = error.field();
                // The constraints between fields only mean something once each parses.
                let standalone = matches!(error, ConfigError::Period(_));
                if FIELDS.contains(&field) && (numbers_ok || standalone) && !errors.iter().any(|e| e.field == field) {
                    errors.push(FieldError::new(field, config_message(&error)));
                }
            }
        }
        if errors.is_empty() { Ok(alarm) } else { Err(errors) }
    }

    /// The message for `field`, if the form refuses it.
    pub fn error_for(&self, base: &MetricAlarm, field: &str) -> Option<String> {
        self.apply(base).err()?.into_iter().find(|e| e.field == field).map(|e| e.message)
    }
}

/// `Threshold` is a Double; AWS refuses what is not a finite number.
fn parse_threshold(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Threshold is required".to_owned());
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        // Echo a bounded part of the input: the message goes back to a page.
        _ => {
            let shown: String = text.chars().take(40).collect();
            let more = if text.chars().count() > 40 { "…" } else { "" };
            Err(format!("Threshold must be a finite number, not {shown:?}{more}"))
        }
    }
}

/// `Period`, `EvaluationPeriods` and `DatapointsToAlarm` are Integers with
/// "Valid Range: Minimum value of 1".
fn parse_count(field: &str, text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{field} is required"));
    }
    match text.parse::<u32>() {
        Ok(0) => Err(format!("{field} must be at least 1")),
        Ok(value) => Ok(value),
        Err(_) if text.parse::<i64>().is_ok_and(|v| v < 1) => Err(format!("{field} must be at least 1")),
        Err(_) => Err(format!("{field} must be a whole number")),
    }
}

/// The domain's messages, with the window limit spelled out for people.
fn config_message(error: &ConfigError) -> String {
    match error {
        ConfigError::WindowTooLong { window, limit } => format!(
            "Period × EvaluationPeriods is {window} seconds; AWS allows at most {limit} seconds ({}) for this period",
            if *limit == super::config::MAX_WINDOW_SECONDS_SHORT_PERIOD { "one day" } else { "seven days" }
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::config::tests::lab_alarm;

    fn form() -> ThresholdForm {
        ThresholdForm::of(&lab_alarm())
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_lab_alarm_round_trips_through_the_form() {
        let form = form();
        assert_eq!(form.threshold, "1");
        assert_eq!(form.datapoints_to_alarm, "1");
        assert_eq!(form.apply(&lab_alarm()), Ok(lab_alarm()));
    }

    #[test]
    fn a_valid_change_keeps_everything_else() {
        let changed = ThresholdForm { threshold: "5.5".into(), evaluation_periods: "3".into(), ..form() };
        let alarm = changed.apply(&lab_alarm()).unwrap();
        assert_eq!(alarm.threshold, 5.5);
        assert_eq!(alarm.evaluation_periods, 3);
        assert_eq!(alarm.alarm_name, lab_alarm().alarm_name);
        assert_eq!(alarm.alarm_actions, lab_alarm().alarm_actions);
    }

    // PutMetricAlarm, Threshold: "Type: Double"; not-a-number and infinities are no Double AWS accepts.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    #[test]
    fn thresholds_must_be_finite_numbers() {
        for bad in ["", "abc", "NaN", "inf", "-infinity", "1e400", "1,5"] {
            let errors = ThresholdForm { threshold: bad.into(), ..form() }.apply(&lab_alarm()).unwrap_err();
            assert_eq!(fields(&errors), ["Threshold"], "{bad}");
        }
        for ok in ["0", "-3", "2.5", "1e3"] {
            assert!(ThresholdForm { threshold: ok.into(), ..form() }.apply(&lab_alarm()).is_ok(), "{ok}");
        }
    }

    // PutMetricAlarm, Period: "Valid values are 10, 20, 30, and any multiple of 60." Valid Range: Minimum value of 1.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    #[test]
    fn periods_are_aws_periods() {
        for bad in ["0", "-10", "15", "45", "90", "ten", "10.5", ""] {
            let errors = ThresholdForm { period: bad.into(), ..form() }.apply(&lab_alarm()).unwrap_err();
            assert_eq!(fields(&errors), ["Period"], "{bad}");
        }
        for ok in ["10", "20", "30", "60", "300"] {
            assert!(ThresholdForm { period: ok.into(), ..form() }.apply(&lab_alarm()).is_ok(), "{ok}");
        }
    }

    // PutMetricAlarm, DatapointsToAlarm: "The number of data points that must be breaching to trigger
    // the alarm" — M of an M out of N alarm, at most EvaluationPeriods; Valid Range: Minimum value of 1.
    #[test]
    fn m_must_be_between_one_and_n() {
        let errors = ThresholdForm { datapoints_to_alarm: "2".into(), ..form() }.apply(&lab_alarm()).unwrap_err();
        assert_eq!(fields(&errors), ["DatapointsToAlarm"]);
        assert_eq!(errors[0].message, "DatapointsToAlarm must be less than or equal to EvaluationPeriods");
        let errors = ThresholdForm { datapoints_to_alarm: "0".into(), ..form() }.apply(&lab_alarm()).unwrap_err();
        assert_eq!(fields(&errors), ["DatapointsToAlarm"]);
        let ok = ThresholdForm { datapoints_to_alarm: "2".into(), evaluation_periods: "3".into(), ..form() };
        assert!(ok.apply(&lab_alarm()).is_ok());
        let errors = ThresholdForm { evaluation_periods: "0".into(), ..form() }.apply(&lab_alarm()).unwrap_err();
        assert_eq!(fields(&errors), ["EvaluationPeriods"]);
    }

    // PutMetricAlarm, Period: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds.
    // For alarms with a period of less than one hour (3,600 seconds), the total evaluation period can't
    // be longer than one day (86,400 seconds)." This holds for the high-resolution periods (10, 20, 30 s) too.
    #[test]
    fn the_evaluation_window_has_aws_limits() {
        let at = |period: &str, n: &str| ThresholdForm {
            period: period.into(),
            evaluation_periods: n.into(),
            datapoints_to_alarm: "1".into(),
            ..form()
        };
        assert!(at("10", "8640").apply(&lab_alarm()).is_ok());
        let errors = at("10", "8641").apply(&lab_alarm()).unwrap_err();
        assert_eq!(fields(&errors), ["EvaluationPeriods"]);
        assert!(errors[0].message.contains("86410 seconds"), "{}", errors[0].message);
        assert!(at("30", "2880").apply(&lab_alarm()).is_ok());
        assert!(at("30", "2881").apply(&lab_alarm()).is_err());
        assert!(at("60", "1440").apply(&lab_alarm()).is_ok());
        assert!(at("60", "1441").apply(&lab_alarm()).is_err());
        assert!(at("3600", "168").apply(&lab_alarm()).is_ok());
        assert!(at("3600", "169").apply(&lab_alarm()).is_err());
        // Beyond u32: refused as a number, never wrapped.
        assert_eq!(fields(&at("60", "99999999999").apply(&lab_alarm()).unwrap_err()), ["EvaluationPeriods"]);
    }

    // PutMetricAlarm: ComparisonOperator's and TreatMissingData's valid values, Statistic's five values.
    #[test]
    fn choices_are_aws_values() {
        let bad = ThresholdForm {
            comparison_operator: "GreaterThanUpperThreshold".into(),
            statistic: "p99".into(),
            treat_missing_data: "NotBreaching".into(),
            ..form()
        };
        assert_eq!(
            fields(&bad.apply(&lab_alarm()).unwrap_err()),
            ["ComparisonOperator", "Statistic", "TreatMissingData"]
        );
        let ok = ThresholdForm {
            comparison_operator: "LessThanOrEqualToThreshold".into(),
            statistic: "Maximum".into(),
            treat_missing_data: "notBreaching".into(),
            ..form()
        };
        let alarm = ok.apply(&lab_alarm()).unwrap();
        assert_eq!(
            alarm.describe_condition(),
            "Maximum of KMSSecurityError <= 1 for 1 of 1 periods of 10 s; missing data: notBreaching"
        );
    }

    #[test]
    fn every_field_is_reported_at_once() {
        let bad = ThresholdForm {
            threshold: "x".into(),
            comparison_operator: String::new(),
            statistic: String::new(),
            period: "7".into(),
            evaluation_periods: "0".into(),
            datapoints_to_alarm: "-1".into(),
            treat_missing_data: String::new(),
        };
        let errors = bad.apply(&lab_alarm()).unwrap_err();
        assert_eq!(fields(&errors).len(), 7, "{errors:?}");
        assert_eq!(
            bad.error_for(&lab_alarm(), "Period").as_deref(),
            Some("Period must be 10, 20, 30 or a multiple of 60 seconds, not 7")
        );
    }
}
