//! Unit tests of the alarm store and the evaluator tick, driven by time
//! passed in rather than slept.

use super::*;
use crate::metrics::Datapoint;

fn lab_alarm() -> MetricAlarm {
    serde_json::from_value(serde_json::json!({
        "AlarmName": "pattern1-logging-alarm",
        "Namespace": "Pattern1Application/KMSSecurity",
        "MetricName": "KMSSecurityError",
        "Statistic": "Sum",
        "Period": 10,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "ignore",
        "AlarmActions": ["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic"]
    }))
    .expect("alarm")
}

fn state_with_lab_alarm(now: i64) -> CloudWatchState {
    let mut state = CloudWatchState::default();
    let arn = alarm_arn("aws", "ap-southeast-2", "111122223333", "pattern1-logging-alarm");
    state.alarms.insert(
        arn.clone(),
        AlarmRecord {
            region: "ap-southeast-2".into(),
            arn,
            alarm: lab_alarm(),
            unit: None,
            state: AlarmState::initial(now),
            configuration_updated_ms: now,
            last_evaluated_ms: None,
        },
    );
    state
}

fn failure(at: i64) -> Datapoint {
    Datapoint {
        namespace: "Pattern1Application/KMSSecurity".into(),
        metric_name: "KMSSecurityError".into(),
        dimensions: vec![],
        timestamp: at,
        value: 1.0,
        unit: None,
    }
}

#[test]
fn two_failures_in_a_period_raise_the_alarm_once() {
    // The lab's alarm: Sum > 1 over 10 s, 1 of 1, missing data ignored.
    let start = 1_764_194_400_000;
    let mut state = state_with_lab_alarm(start);
    let mut metrics = MetricStore::default();
    assert!(state.evaluate_due(&metrics, start + 10_000).is_empty(), "no data: state retained");
    metrics.put(failure(start + 11_000), start + 11_000);
    metrics.put(failure(start + 12_000), start + 12_000);
    let changes = state.evaluate_due(&metrics, start + 20_500);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].record.state.state_value, StateValue::Alarm);
    assert_eq!(changes[0].old.state_value, StateValue::InsufficientData);
    assert_eq!(changes[0].actions(), lab_alarm().alarm_actions);
    // The same instant is not evaluated twice.
    assert!(state.evaluate_due(&metrics, start + 21_000).is_empty());
    assert_eq!(state.history.len(), 1);
    assert_eq!(state.history[0].item.history_summary, "Alarm updated from INSUFFICIENT_DATA to ALARM");
}

#[test]
fn disabled_actions_run_nothing() {
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html
    let mut state = state_with_lab_alarm(0);
    for record in state.alarms.values_mut() {
        record.alarm.actions_enabled = false;
    }
    let change = state
        .set_state("ap-southeast-2", "pattern1-logging-alarm", StateValue::Alarm, "testing", None, 5)
        .expect("alarm exists")
        .expect("a change");
    assert!(change.actions().is_empty());
}

#[test]
fn the_notification_is_cloudwatchs_message_and_subject() {
    // Subject and fields of the alarm notification, as in
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    let mut state = state_with_lab_alarm(0);
    let change = state
        .set_state("ap-southeast-2", "pattern1-logging-alarm", StateValue::Alarm, "testing", None, 1_000)
        .expect("alarm exists")
        .expect("a change");
    let AlarmNotification { subject, message, email_text } = notification(&change, "111122223333");
    assert_eq!(subject, "ALARM: \"pattern1-logging-alarm\" in Asia Pacific (Sydney)");
    // The e-mail text (keywatch_domain::alarm::email, after AWS's sample
    // e-mails) tells the same change.
    assert!(
        email_text.starts_with(
            "You are receiving this email because your Amazon CloudWatch Alarm \"pattern1-logging-alarm\" in the Asia Pacific (Sydney) region has entered the ALARM state, because \"testing\" at \"Thursday 01 January, 1970 00:00:01 UTC\"."
        ),
        "{email_text}"
    );
    assert!(email_text.contains("\n- State Change:               INSUFFICIENT_DATA -> ALARM\n"), "{email_text}");
    assert!(
        message.starts_with(
            "{\"AlarmName\":\"pattern1-logging-alarm\",\"AlarmDescription\":null,\"AWSAccountId\":\"111122223333\""
        ),
        "{message}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&message).expect("json");
    assert_eq!(parsed["NewStateValue"], "ALARM");
    assert_eq!(parsed["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(parsed["Region"], "Asia Pacific (Sydney)");
    assert_eq!(parsed["Trigger"]["Statistic"], "SUM");
    assert_eq!(parsed["Trigger"]["TreatMissingData"], "ignore");
    assert!(message.contains("\"Threshold\":1.0"), "{message}");
    assert_eq!(parsed["StateChangeTime"], "1970-01-01T00:00:01.000+0000");
}
