//! The readable e-mail CloudWatch sends an SNS `email` subscriber when an
//! alarm changes state (the `email-json`, SQS and HTTP(S) subscribers get
//! the JSON alarm message instead).
//!
//! AWS does not document the text; it is reproduced from e-mails AWS sent,
//! published with their full text:
//! - a 2025 CloudTrail lab write-up (`FailedLogins` in US East (N. Virginia),
//!   "INSUFFICIENT_DATA -> ALARM"), the newest and the layout followed here:
//!   the console link `https://<region>.console.aws.amazon.com/cloudwatch/deeplink.js?region=<region>#alarmsV2:alarm/<name>`,
//!   the threshold sentence "for at least N of the last M period(s) of P
//!   seconds", labels padded to fixed columns;
//! - a 2021 CIS 3.10 alarm e-mail (same intro, link and Alarm Details);
//! - a 2020 Lambda-log alarm e-mail in Asia Pacific (Tokyo) (same sections
//!   and the "State Change Actions" block).
//!
//! The subject is the SNS subject CloudWatch publishes with,
//! `ALARM: "<name>" in <Region name>`; SNS adds its unsubscribe footer.

use super::config::MetricAlarm;
use super::evaluate::{AlarmState, StateValue};
use super::reason::{civil_from_days, format_java_double};
use crate::region::{self, Partition};

/// What the e-mail describes: the alarm after the change and where it lives.
#[derive(Debug, Clone, Copy)]
pub struct AlarmEmail<'a> {
    pub alarm: &'a MetricAlarm,
    /// The Region code, e.g. `ap-southeast-2`.
    pub region: &'a str,
    pub alarm_arn: &'a str,
    pub account: &'a str,
    /// `Unit` as PutMetricAlarm gave it.
    pub unit: Option<&'a str>,
    pub old: StateValue,
    pub new: &'a AlarmState,
}

/// The Region's name as AWS prints it ("Asia Pacific (Sydney)"), or the code
/// for a Region Keywatch does not know.
pub fn region_name(code: &str) -> &str {
    region::find(code).map_or(code, |r| r.display_name)
}

/// The console link the e-mail carries, opening the alarm in its Region.
pub fn console_link(region_code: &str, alarm_name: &str) -> String {
    let host = match region::find(region_code).map(|r| r.partition) {
        // Other partitions have their own console hosts.
        Some(Partition::AwsCn) => "console.amazonaws.cn".to_owned(),
        Some(Partition::AwsUsGov) => "console.amazonaws-us-gov.com".to_owned(),
        Some(Partition::Aws) | None => format!("{region_code}.console.aws.amazon.com"),
    };
    format!(
        "https://{host}/cloudwatch/deeplink.js?region={}#alarmsV2:alarm/{}",
        percent_encode(region_code),
        percent_encode(alarm_name)
    )
}

/// The e-mail's timestamp: `Sunday 15 June, 2025 12:07:17 UTC`.
pub fn format_email_timestamp(ms: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4 from Sunday).
    let weekday = WEEKDAYS.get((days + 4).rem_euclid(7) as usize).copied().unwrap_or_default();
    let month = MONTHS.get(month.saturating_sub(1) as usize).copied().unwrap_or_default();
    format!(
        "{weekday} {day:02} {month}, {year} {:02}:{:02}:{:02} UTC",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1_000 % 60
    )
}

impl AlarmEmail<'_> {
    /// `ALARM: "<name>" in <Region name>`, cut to SNS's 100 characters.
    pub fn subject(&self) -> String {
        let subject =
            format!("{}: \"{}\" in {}", self.new.state_value.as_str(), self.alarm.alarm_name, region_name(self.region));
        subject.chars().take(100).collect()
    }

    /// The body, before SNS's footer.
    pub fn body(&self) -> String {
        let alarm = self.alarm;
        let name = &alarm.alarm_name;
        let state = self.new.state_value.as_str();
        let reason = &self.new.state_reason;
        let when = format_email_timestamp(self.new.state_updated_timestamp_ms);
        let details = |label: &str, value: &str| format!("- {:<28}{value}\n", format!("{label}:"));
        let metric = |label: &str, value: &str| format!("- {:<37}{value}\n", format!("{label}:"));
        let actions = |label: &str, arns: &[String]| {
            if arns.is_empty() { format!("- {label}:\n") } else { format!("- {label}: [{}]\n", arns.join(", ")) }
        };
        let statistic = match (&alarm.statistic, &alarm.extended_statistic) {
            (Some(statistic), _) => statistic.as_str().to_owned(),
            (None, Some(extended)) => extended.as_str().to_owned(),
            (None, None) => String::new(),
        };
        let dimensions = if alarm.dimensions.is_empty() {
            String::new()
        } else {
            let pairs: Vec<String> = alarm.dimensions.iter().map(|d| format!("{} = {}", d.name, d.value)).collect();
            format!("[{}]", pairs.join(", "))
        };

        let mut body = format!(
            "You are receiving this email because your Amazon CloudWatch Alarm \"{name}\" in the {} region has entered the {state} state, because \"{reason}\" at \"{when}\".\n\n",
            region_name(self.region)
        );
        body.push_str("View this alarm in the AWS Management Console:\n");
        body.push_str(&console_link(self.region, name));
        body.push_str("\n\nAlarm Details:\n");
        body.push_str(&details("Name", name));
        body.push_str(&details("Description", alarm.alarm_description.as_deref().unwrap_or("")));
        body.push_str(&details("State Change", &format!("{} -> {state}", self.old.as_str())));
        body.push_str(&details("Reason for State Change", reason));
        body.push_str(&details("Timestamp", &when));
        body.push_str(&details("AWS Account", self.account));
        body.push_str(&details("Alarm Arn", self.alarm_arn));
        body.push_str("\nThreshold:\n");
        body.push_str(&format!(
            "- The alarm is in the ALARM state when the metric is {} {} for at least {} of the last {} period(s) of {} seconds.\n",
            alarm.comparison_operator.as_str(),
            format_java_double(alarm.threshold),
            alarm.effective_datapoints_to_alarm(),
            alarm.evaluation_periods,
            alarm.period
        ));
        body.push_str("\nMonitored Metric:\n");
        body.push_str(&metric("MetricNamespace", &alarm.namespace));
        body.push_str(&metric("MetricName", &alarm.metric_name));
        body.push_str(&metric("Dimensions", &dimensions));
        body.push_str(&metric("Period", &format!("{} seconds", alarm.period)));
        body.push_str(&metric("Statistic", &statistic));
        body.push_str(&metric("Unit", self.unit.unwrap_or("not specified")));
        body.push_str(&metric("TreatMissingData", alarm.treat_missing_data.as_str()));
        body.push_str("\n\nState Change Actions:\n");
        body.push_str(&actions("OK", &alarm.ok_actions));
        body.push_str(&actions("ALARM", &alarm.alarm_actions));
        body.push_str(&actions("INSUFFICIENT_DATA", &alarm.insufficient_data_actions));
        body
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters, so an alarm
/// name with spaces or `/` stays one URL fragment.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::config::{ComparisonOperator, Statistic, TreatMissingData};

    /// 2025-06-15T12:07:17Z, the 2025 sample's state change.
    const SAMPLE_MS: i64 = 1_749_989_237_000;

    /// The alarm of the 2025 sample e-mail (module docs).
    fn sample_alarm() -> MetricAlarm {
        let mut alarm = MetricAlarm::lab();
        alarm.alarm_name = "FailedLogins".into();
        alarm.alarm_description = None;
        alarm.namespace = "CloudTrailMetrics".into();
        alarm.metric_name = "ConsoleLoginFailureCount".into();
        alarm.dimensions = Vec::new();
        alarm.statistic = Some(Statistic::Sum);
        alarm.extended_statistic = None;
        alarm.period = 300;
        alarm.evaluation_periods = 1;
        alarm.datapoints_to_alarm = Some(1);
        alarm.threshold = 3.0;
        alarm.comparison_operator = ComparisonOperator::GreaterThanOrEqualToThreshold;
        alarm.treat_missing_data = TreatMissingData::Missing;
        alarm.alarm_actions = vec!["arn:aws:sns:us-east-1:776520358045:MySNSTopic".into()];
        alarm.ok_actions = Vec::new();
        alarm.insufficient_data_actions = Vec::new();
        alarm
    }

    // The 2020 and 2021 samples' timestamps: "Monday 07 September, 2020
    // 04:01:21 UTC", "Wednesday 15 September, 2021 18:32:31 UTC".
    #[test]
    fn timestamps_read_as_in_aws_emails() {
        assert_eq!(format_email_timestamp(SAMPLE_MS), "Sunday 15 June, 2025 12:07:17 UTC");
        assert_eq!(format_email_timestamp(1_599_451_281_000), "Monday 07 September, 2020 04:01:21 UTC");
        assert_eq!(format_email_timestamp(1_631_730_751_000), "Wednesday 15 September, 2021 18:32:31 UTC");
    }

    // The 2025 sample e-mail, line for line (its trailing spaces after empty
    // values aside: AWS's own padding of those varies).
    #[test]
    fn the_2025_sample_email_is_reproduced() {
        let alarm = sample_alarm();
        let reason = "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (15/06/25 12:02:00)] was greater than or equal to the threshold (3.0) (minimum 1 datapoint for OK -> ALARM transition).";
        let new = AlarmState {
            state_value: StateValue::Alarm,
            state_reason: reason.into(),
            state_reason_data: None,
            state_updated_timestamp_ms: SAMPLE_MS,
        };
        let email = AlarmEmail {
            alarm: &alarm,
            region: "us-east-1",
            alarm_arn: "arn:aws:cloudwatch:us-east-1:776520358045:alarm:FailedLogins",
            account: "776520358045",
            unit: None,
            old: StateValue::InsufficientData,
            new: &new,
        };
        assert_eq!(email.subject(), "ALARM: \"FailedLogins\" in US East (N. Virginia)");
        let want = format!(
            "You are receiving this email because your Amazon CloudWatch Alarm \"FailedLogins\" in the US East (N. Virginia) region has entered the ALARM state, because \"{reason}\" at \"Sunday 15 June, 2025 12:07:17 UTC\".

View this alarm in the AWS Management Console:
https://us-east-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=us-east-1#alarmsV2:alarm/FailedLogins

Alarm Details:
- Name:                       FailedLogins
- Description:
- State Change:               INSUFFICIENT_DATA -> ALARM
- Reason for State Change:    {reason}
- Timestamp:                  Sunday 15 June, 2025 12:07:17 UTC
- AWS Account:                776520358045
- Alarm Arn:                  arn:aws:cloudwatch:us-east-1:776520358045:alarm:FailedLogins

Threshold:
- The alarm is in the ALARM state when the metric is GreaterThanOrEqualToThreshold 3.0 for at least 1 of the last 1 period(s) of 300 seconds.

Monitored Metric:
- MetricNamespace:                     CloudTrailMetrics
- MetricName:                          ConsoleLoginFailureCount
- Dimensions:
- Period:                              300 seconds
- Statistic:                           Sum
- Unit:                                not specified
- TreatMissingData:                    missing


State Change Actions:
- OK:
- ALARM: [arn:aws:sns:us-east-1:776520358045:MySNSTopic]
- INSUFFICIENT_DATA:
"
        );
        let body = email.body();
        let got: Vec<&str> = body.lines().map(str::trim_end).collect();
        assert_eq!(got, want.lines().collect::<Vec<_>>());
    }

    // The lab's Region: the subject and intro name it as AWS does, and the
    // link opens the Sydney console; names outside the URL's safe set are
    // escaped.
    #[test]
    fn the_region_is_named_and_linked() {
        assert_eq!(region_name("ap-southeast-2"), "Asia Pacific (Sydney)");
        assert_eq!(region_name("xx-nowhere-1"), "xx-nowhere-1");
        assert_eq!(
            console_link("ap-southeast-2", "pattern1 alarm/1"),
            "https://ap-southeast-2.console.aws.amazon.com/cloudwatch/deeplink.js?region=ap-southeast-2#alarmsV2:alarm/pattern1%20alarm%2F1"
        );
    }
}
