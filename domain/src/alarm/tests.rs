//! Table tests of the documented evaluation rules, state reasons, history
//! items and replays. Each test cites the page or the real alarm output it
//! reproduces.

use super::config::tests::lab_alarm;
use super::*;

/// Expected cell of a missing-data table.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Ok,
    Alarm,
    Insufficient,
    Retain,
}

fn classes(row: &str) -> Vec<DatapointClass> {
    row.split_whitespace()
        .map(|c| match c {
            "X" => DatapointClass::Breaching,
            "0" => DatapointClass::NotBreaching,
            "-" => DatapointClass::Missing,
            other => panic!("bad cell {other:?}"),
        })
        .collect()
}

fn cell(outcome: Outcome) -> Cell {
    match outcome {
        Outcome::Set(StateValue::Ok) => Cell::Ok,
        Outcome::Set(StateValue::Alarm) => Cell::Alarm,
        Outcome::Set(StateValue::InsufficientData) => Cell::Insufficient,
        Outcome::RetainCurrentState => Cell::Retain,
    }
}

/// Checks one table row: data points (oldest first, as printed), the "# of
/// data points that must be filled" column, then MISSING, IGNORE, BREACHING,
/// NOT BREACHING.
fn check_row(n: u32, m: u32, row: &str, filled: u32, expected: [Cell; 4]) {
    let cls = classes(row);
    assert_eq!(cls.len(), 5, "the documented evaluation range is 5: {row}");
    for (tmd, want) in TreatMissingData::ALL.into_iter().zip(expected) {
        let decision = decide(&cls, n, m, tmd);
        assert_eq!(cell(decision.outcome), want, "{m} of {n}, row `{row}`, {tmd}");
        // The fill count is only meaningful where missing data gets filled.
        if matches!(tmd, TreatMissingData::Breaching | TreatMissingData::NotBreaching) {
            assert_eq!(decision.filled, filled, "filled, row `{row}`, {tmd}");
        }
    }
}

// "How alarm state is evaluated when data is missing", first table: Datapoints to
// Alarm and Evaluation Periods both 3, evaluation range 5.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
#[test]
fn documented_table_3_of_3() {
    use Cell::*;
    check_row(3, 3, "0 - X - X", 0, [Ok, Ok, Ok, Ok]);
    check_row(3, 3, "0 - - - -", 2, [Ok, Ok, Ok, Ok]);
    check_row(3, 3, "- - - - -", 3, [Insufficient, Retain, Alarm, Ok]);
    check_row(3, 3, "0 X X - X", 0, [Alarm, Alarm, Alarm, Alarm]);
    check_row(3, 3, "- - X - -", 2, [Alarm, Retain, Alarm, Ok]);
}

// Same section, second table: a 2 out of 3 alarm, evaluation range 5.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
#[test]
fn documented_table_2_of_3() {
    use Cell::*;
    check_row(3, 2, "0 - X - X", 0, [Alarm, Alarm, Alarm, Alarm]);
    check_row(3, 2, "0 0 X 0 X", 0, [Alarm, Alarm, Alarm, Alarm]);
    check_row(3, 2, "0 - X - -", 1, [Ok, Ok, Alarm, Ok]);
    check_row(3, 2, "- - - - 0", 2, [Ok, Ok, Alarm, Ok]);
    check_row(3, 2, "- - - X -", 2, [Alarm, Retain, Alarm, Ok]);
}

// Rows earlier versions of the same page carried and the current one dropped
// (awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md):
// "- - - - X" was "Insufficient data | Retain current state | ALARM | OK" in both
// tables, and "X - - - -" (3 of 3) went to ALARM "even if missing data is treated as
// missing, because the oldest evaluated data point is breaching and there aren't any
// non-breaching data points". The current page still says a breach this recent must
// not cause ALARM ("- - - - X" below). Fill counts here are this module's, as
// those versions counted missing points differently.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#CloudWatch-alarms-avoiding-premature-transition
#[test]
fn rows_from_earlier_versions_of_the_page() {
    use Cell::*;
    check_row(3, 3, "- - - - X", 2, [Insufficient, Retain, Alarm, Ok]);
    check_row(3, 3, "X - - - -", 2, [Alarm, Retain, Alarm, Ok]);
    check_row(3, 2, "- - - - X", 2, [Insufficient, Retain, Alarm, Ok]);
}

// "Avoiding premature transitions to alarm state": with Datapoints to Alarm 3 the
// alarm does not go to ALARM on "- - - - X" or "- - - X -", but does on "- - X - -",
// even when missing data is treated as missing.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#CloudWatch-alarms-avoiding-premature-transition
#[test]
fn premature_transitions_are_avoided() {
    let missing = TreatMissingData::Missing;
    for row in ["- - - - X", "- - - X -"] {
        let d = decide(&classes(row), 3, 3, missing);
        assert_ne!(d.outcome, Outcome::Set(StateValue::Alarm), "{row}");
        assert_eq!(d.rule, DecisionRule::NotEnoughData);
    }
    let d = decide(&classes("- - X - -"), 3, 3, missing);
    assert_eq!(d.outcome, Outcome::Set(StateValue::Alarm));
    assert_eq!(d.rule, DecisionRule::OldestBreachAged);
    // "The next data point may be non-breaching ... - - - X O": then OK.
    let d = decide(&classes("- - - X 0"), 3, 3, missing);
    assert_eq!(d.outcome, Outcome::Set(StateValue::Ok));
}

// "Evaluating an alarm": threshold 3, Evaluation Periods and Datapoints to Alarm 3.
// ALARM once periods 3-5 breach; OK at period 6; a lone breach at period 9 keeps OK.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
#[test]
fn documented_figure_three_of_three() {
    let values = [1.0, 2.0, 4.0, 5.0, 4.0, 2.0, 1.0, 2.0, 4.0, 1.0];
    let mut states = Vec::new();
    let mut state = StateValue::InsufficientData;
    for end in 1..=values.len() {
        let cls: Vec<DatapointClass> = values[..end]
            .iter()
            .map(|v| if *v > 3.0 { DatapointClass::Breaching } else { DatapointClass::NotBreaching })
            .collect();
        let window = &cls[cls.len().saturating_sub(5)..];
        if let Outcome::Set(next) = decide(window, 3, 3, TreatMissingData::Missing).outcome {
            state = next;
        }
        states.push(state);
    }
    use StateValue::{Alarm, Ok};
    assert_eq!(states[4], Alarm, "period 5");
    assert_eq!(states[5], Ok, "period 6");
    assert_eq!(&states[6..], &[Ok, Ok, Ok, Ok], "periods 7-10");
    assert!(states[..4].iter().all(|s| *s != Alarm));
}

// "If fewer than the value of Datapoints to Alarm are breaching, the alarm state is
// set to OK. Otherwise, the state is set to ALARM." — with full data, for every operator.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
#[test]
fn every_operator_compares_statistic_first() {
    use ComparisonOperator::*;
    let cases = [
        (GreaterThanOrEqualToThreshold, [false, true, true]),
        (GreaterThanThreshold, [false, false, true]),
        (LessThanThreshold, [true, false, false]),
        (LessThanOrEqualToThreshold, [true, true, false]),
    ];
    for (op, expected) in cases {
        let got: Vec<bool> = [0.5, 1.0, 1.5].iter().map(|v| op.is_breaching(*v, 1.0)).collect();
        assert_eq!(got, expected, "{op}");
    }
}

// A new alarm is INSUFFICIENT_DATA with reason "Unchecked: Initial alarm creation".
#[test]
fn new_alarms_start_insufficient() {
    let state = AlarmState::initial(5);
    assert_eq!(state.state_value, StateValue::InsufficientData);
    assert_eq!(state.state_reason, "Unchecked: Initial alarm creation");
    let json = serde_json::to_value(&state).unwrap();
    assert_eq!(json["StateValue"], "INSUFFICIENT_DATA");
}

// Evaluation cadence: "If the alarm period is 10 seconds, 20 seconds, or 30 seconds,
// the alarm is evaluated every 10 seconds"; periods of a minute or more every minute;
// multi-day alarms once per hour, "only up to the current hour at the :00 minute".
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
#[test]
fn evaluation_cadence_follows_the_period() {
    let mut alarm = lab_alarm();
    for (period, n, cadence) in [(10, 1, 10), (20, 3, 10), (30, 2, 10), (60, 5, 60), (300, 1, 60), (3_600, 25, 3_600)] {
        alarm.period = period;
        alarm.evaluation_periods = n;
        alarm.datapoints_to_alarm = None;
        assert_eq!(evaluation_cadence_seconds(&alarm), cadence, "{period} × {n}");
    }
    alarm.period = 300;
    alarm.evaluation_periods = 1;
    // 10:05:37 evaluates the 5 minutes ending 10:05:00.
    assert_eq!(evaluation_instant_ms(&alarm, 36_337_000), Ok(36_300_000));
}

const T_2024_10_26_1859: i64 = 1_729_969_140_000;

fn sum_alarm(
    op: ComparisonOperator,
    threshold: f64,
    period: u32,
    n: u32,
    m: Option<u32>,
    tmd: TreatMissingData,
) -> MetricAlarm {
    MetricAlarm {
        period,
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold,
        comparison_operator: op,
        treat_missing_data: tmd,
        ..lab_alarm()
    }
}

fn value_at(timestamp_ms: i64, value: f64) -> MetricSample {
    MetricSample::Value { timestamp_ms, value }
}

// Reproduces a real alarm event: Sum, period 60, GreaterThanOrEqualToThreshold 1,
// three errors in the 18:59 minute, evaluated at 19:00:38.853. AWS wrote
// "Threshold Crossed: 1 datapoint [3.0 (26/10/24 18:59:00)] was greater than or equal
// to the threshold (1.0)." and the reasonData below (event quoted in a public
// repository; field order as AWS sent it).
#[test]
fn reason_matches_a_real_single_datapoint_alarm() {
    let alarm =
        sum_alarm(ComparisonOperator::GreaterThanOrEqualToThreshold, 1.0, 60, 1, None, TreatMissingData::Missing);
    let samples: Vec<MetricSample> =
        [5_000, 20_000, 41_000].iter().map(|s| value_at(T_2024_10_26_1859 + s, 1.0)).collect();
    let now = 1_729_969_238_853;
    let previous = AlarmState::initial(0);
    let eval = evaluate(&alarm, &samples, now, &previous).unwrap();
    assert!(eval.changed);
    assert_eq!(eval.state.state_value, StateValue::Alarm);
    assert_eq!(
        eval.state.state_reason,
        "Threshold Crossed: 1 datapoint [3.0 (26/10/24 18:59:00)] was greater than or equal to the threshold (1.0)."
    );
    assert_eq!(
        eval.state.state_reason_data.unwrap().to_json(),
        r#"{"version":"1.0","queryDate":"2024-10-26T19:00:38.853+0000","startDate":"2024-10-26T18:59:00.000+0000","statistic":"Sum","period":60,"recentDatapoints":[3.0],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2024-10-26T18:59:00.000+0000","sampleCount":3.0,"value":3.0}]}"#
    );
}

// The same event's previous state, at 18:38:52.499: "Insufficient Data: 1 datapoint
// was unknown." with reasonData listing the unknown period 18:37 and no startDate.
#[test]
fn reason_matches_a_real_insufficient_data_state() {
    let alarm =
        sum_alarm(ComparisonOperator::GreaterThanOrEqualToThreshold, 1.0, 60, 1, None, TreatMissingData::Missing);
    let previous = AlarmState { state_value: StateValue::Ok, ..AlarmState::initial(0) };
    let eval = evaluate(&alarm, &[], 1_729_967_932_499, &previous).unwrap();
    assert_eq!(eval.state.state_value, StateValue::InsufficientData);
    assert_eq!(eval.state.state_reason, "Insufficient Data: 1 datapoint was unknown.");
    assert_eq!(
        eval.state.state_reason_data.unwrap().to_json(),
        r#"{"version":"1.0","queryDate":"2024-10-26T18:38:52.499+0000","statistic":"Sum","period":60,"recentDatapoints":[],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2024-10-26T18:37:00.000+0000"}]}"#
    );
}

// Reproduces two real transitions of a 15-minute, 2-period LessThanThreshold 1
// alarm treating missing data as breaching (history quoted in a public repository):
// at 22:01:48 "Threshold Crossed: no datapoints were received for 2 periods and 2
// missing datapoints were treated as [Breaching]." with evaluated timestamps 21:46 and
// 21:31; at 22:06:48 "Threshold Crossed: 1 datapoint [1.0 (25/09/26 21:51:00)] was not
// less than the threshold (1.0) and 1 missing datapoint was treated as [Breaching]."
#[test]
fn reasons_match_real_filled_missing_data() {
    let alarm = sum_alarm(ComparisonOperator::LessThanThreshold, 1.0, 900, 2, None, TreatMissingData::Breaching);
    let t_2201 = 1_790_373_660_000; // 2026-09-25T22:01:00Z
    let previous = AlarmState { state_value: StateValue::Ok, ..AlarmState::initial(0) };
    let first = evaluate(&alarm, &[], t_2201 + 48_919, &previous).unwrap();
    assert_eq!(first.state.state_value, StateValue::Alarm);
    assert_eq!(
        first.state.state_reason,
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."
    );
    let data = first.state.state_reason_data.clone().unwrap();
    let stamps: Vec<&str> = data.evaluated_datapoints.iter().map(|d| d.timestamp.as_str()).collect();
    assert_eq!(stamps, ["2026-09-25T21:46:00.000+0000", "2026-09-25T21:31:00.000+0000"]);

    let samples = [value_at(t_2201 - 600_000 + 30_000, 1.0)]; // in 21:51-22:06
    let second = evaluate(&alarm, &samples, t_2201 + 300_000 + 48_920, &first.state).unwrap();
    assert_eq!(second.state.state_value, StateValue::Ok);
    assert_eq!(
        second.state.state_reason,
        "Threshold Crossed: 1 datapoint [1.0 (25/09/26 21:51:00)] was not less than the threshold (1.0) and 1 missing datapoint was treated as [Breaching]."
    );
    let data = second.state.state_reason_data.unwrap();
    assert_eq!(data.evaluated_datapoints.len(), 1);
    assert_eq!(data.evaluated_datapoints[0].value, Some(1.0));
}

// M-of-N reasons, in the shape real alarms wrote, e.g. "Threshold Crossed: 2 out of the
// last 4 datapoints [10.708333333333332 (08/11/22 02:40:00), 10.791661891275925
// (08/11/22 02:30:00)] were greater than the threshold (10.7) (minimum 2 datapoints for
// OK -> ALARM transition)." and "3 out of the last 5 datapoints [...] were not greater
// than the threshold (0.0) (minimum 3 datapoints for ALARM -> OK transition)."
#[test]
fn m_of_n_reasons_follow_real_alarms() {
    let alarm = sum_alarm(ComparisonOperator::GreaterThanThreshold, 10.7, 600, 4, Some(2), TreatMissingData::Missing);
    let t0 = 1_667_872_800_000; // 2022-11-08T02:00:00Z
    let minute = 60_000;
    // Periods start 02:10, 02:20, 02:30, 02:40 when evaluated at 02:50.
    let samples = [
        value_at(t0 + 10 * minute, 3.0),
        value_at(t0 + 20 * minute, 4.0),
        value_at(t0 + 30 * minute, 10.791661891275925),
        value_at(t0 + 40 * minute, 10.708333333333332),
    ];
    let ok = AlarmState { state_value: StateValue::Ok, ..AlarmState::initial(0) };
    let eval = evaluate(&alarm, &samples, t0 + 50 * minute + 5_000, &ok).unwrap();
    assert_eq!(
        eval.state.state_reason,
        "Threshold Crossed: 2 out of the last 4 datapoints [10.708333333333332 (08/11/22 02:40:00), 10.791661891275925 (08/11/22 02:30:00)] were greater than the threshold (10.7) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    let data = eval.state.state_reason_data.clone().unwrap();
    assert_eq!(data.recent_datapoints, vec![3.0, 4.0, 10.791661891275925, 10.708333333333332]);
    assert_eq!(data.start_date.as_deref(), Some("2022-11-08T02:10:00.000+0000"));

    let recovery = [value_at(t0 + 50 * minute, 1.0), value_at(t0 + 60 * minute, 2.0), value_at(t0 + 70 * minute, 0.0)];
    let all: Vec<MetricSample> = samples.iter().chain(&recovery).copied().collect();
    let back = evaluate(&alarm, &all, t0 + 80 * minute, &eval.state).unwrap();
    assert_eq!(back.state.state_value, StateValue::Ok);
    assert_eq!(
        back.state.state_reason,
        "Threshold Crossed: 3 out of the last 4 datapoints [0.0 (08/11/22 03:10:00), 2.0 (08/11/22 03:00:00), 1.0 (08/11/22 02:50:00)] were not greater than the threshold (10.7) (minimum 3 datapoints for ALARM -> OK transition)."
    );
}

// A notBreaching M-of-N alarm with one real breach, as in the real reason "Threshold
// Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was greater than
// or equal to the threshold (1.0) and 19 missing datapoints were treated as
// [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition)."
#[test]
fn m_of_n_reason_with_non_breaching_fill() {
    let alarm = sum_alarm(
        ComparisonOperator::GreaterThanOrEqualToThreshold,
        1.0,
        60,
        20,
        Some(1),
        TreatMissingData::NotBreaching,
    );
    let t_1215 = 1_710_591_300_000; // 2024-03-16T12:15:00Z
    let eval = evaluate(&alarm, &[value_at(t_1215 + 1_000, 613.0)], t_1215 + 60_000 + 45_770, &AlarmState::initial(0))
        .unwrap();
    assert_eq!(
        eval.state.state_reason,
        "Threshold Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was greater than or equal to the threshold (1.0) and 19 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition)."
    );
}

// The lab's alarm (Sum > 1 over 10 s, 1 of 1, ignore), through the lab's test: one
// failed decrypt gives Sum 1 (OK), several in one period ALARM, silence keeps ALARM
// ("ignore – The current alarm state is maintained"), one failure later returns to OK.
// The history shows INSUFFICIENT_DATA -> OK -> ALARM, the SNS action, then ALARM -> OK.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
#[test]
fn lab_scenario_with_history() {
    let alarm = lab_alarm();
    let t0 = 1_795_687_500_000; // 2026-11-26T10:05:00Z
    let s = 1_000;
    let arn = "arn:aws:cloudwatch:ap-southeast-2:111122223333:alarm:Pattern1ApplicationKMSSecurityAlarm";
    let mut history = vec![history::alarm_created(&alarm, arn, t0 - 60 * s)];
    let mut samples = vec![value_at(t0 - 8 * s, 1.0)];
    let mut state = AlarmState::initial(t0 - 60 * s);

    let eval = evaluate(&alarm, &samples, t0 + 400, &state).unwrap();
    assert_eq!(eval.state.state_value, StateValue::Ok);
    assert_eq!(
        eval.state.state_reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (26/11/26 10:04:50)] was not greater than the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition)."
    );
    history.push(history::state_updated(&alarm.alarm_name, &state, &eval.state));
    state = eval.state;

    samples.extend((1..=3).map(|i| value_at(t0 + i * 2 * s, 1.0)));
    let eval = evaluate(&alarm, &samples, t0 + 10 * s + 700, &state).unwrap();
    assert_eq!(eval.state.state_value, StateValue::Alarm);
    assert_eq!(
        eval.state.state_reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (26/11/26 10:05:00)] was greater than the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
    );
    history.push(history::state_updated(&alarm.alarm_name, &state, &eval.state));
    history.push(history::action_executed(
        &alarm.alarm_name,
        &alarm.alarm_actions[0],
        true,
        eval.state.state_updated_timestamp_ms,
        None,
        t0 + 10 * s + 900,
    ));
    state = eval.state;

    // Silence for a minute: the breach ages out of the range, then all is missing.
    for k in 2..8 {
        let eval = evaluate(&alarm, &samples, t0 + k * 10 * s, &state).unwrap();
        assert!(!eval.changed, "evaluation {k}");
        assert_eq!(eval.state, state);
    }
    samples.push(value_at(t0 + 83 * s, 1.0));
    let eval = evaluate(&alarm, &samples, t0 + 90 * s, &state).unwrap();
    assert_eq!(eval.state.state_value, StateValue::Ok);
    history.push(history::state_updated(&alarm.alarm_name, &state, &eval.state));

    let summaries: Vec<&str> = history.iter().map(|h| h.history_summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Alarm \"Pattern1ApplicationKMSSecurityAlarm\" created",
            "Alarm updated from INSUFFICIENT_DATA to OK",
            "Alarm updated from OK to ALARM",
            "Successfully executed action arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic",
            "Alarm updated from ALARM to OK",
        ]
    );
    let types: Vec<HistoryItemType> = history.iter().map(|h| h.history_item_type).collect();
    use HistoryItemType::*;
    assert_eq!(types, [ConfigurationUpdate, StateUpdate, StateUpdate, Action, StateUpdate]);
}

// HistoryData documents as DescribeAlarmHistory returns them (examples quoted in
// public repositories): `{"version":"1.0","oldState":{...},"newState":{...}}`,
// `{"version":"1.0","type":"Create","createdAlarm":{...}}` and
// `{"actionState":"Succeeded","stateUpdateTimestamp":...,"notificationResource":...}`.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html
#[test]
fn history_data_has_aws_shape() {
    let alarm = lab_alarm();
    let initial = AlarmState::initial(0);
    let ok = AlarmState {
        state_value: StateValue::Ok,
        state_reason: "Threshold Crossed".into(),
        state_reason_data: None,
        state_updated_timestamp_ms: 1_000,
    };
    let update = history::state_updated("a", &initial, &ok);
    assert_eq!(update.timestamp_ms, 1_000);
    assert_eq!(
        update.history_data,
        r#"{"version":"1.0","oldState":{"stateValue":"INSUFFICIENT_DATA","stateReason":"Unchecked: Initial alarm creation"},"newState":{"stateValue":"OK","stateReason":"Threshold Crossed"}}"#
    );
    let created = history::alarm_created(&alarm, "arn:x", 0);
    let data: serde_json::Value = serde_json::from_str(&created.history_data).unwrap();
    assert_eq!(data["type"], "Create");
    assert_eq!(data["createdAlarm"]["alarmName"], "Pattern1ApplicationKMSSecurityAlarm");
    assert_eq!(data["createdAlarm"]["period"], 10);
    assert_eq!(data["createdAlarm"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(data["createdAlarm"]["alarmConfigurationUpdatedTimestamp"], "1970-01-01T00:00:00.000+0000");
    assert!(created.history_data.contains(r#""okactions":[]"#));
    let mut changed = alarm.clone();
    changed.threshold = 5.0;
    let updated = history::alarm_updated(&alarm, &changed, "arn:x", StateValue::Ok, 0, 9);
    assert_eq!(updated.history_summary, "Alarm \"Pattern1ApplicationKMSSecurityAlarm\" updated");
    let action = history::action_executed("a", "arn:aws:sns:r:1:t", true, 1_667_756_633_496, Some("{}"), 2);
    assert_eq!(
        action.history_data,
        r#"{"actionState":"Succeeded","stateUpdateTimestamp":1667756633496,"notificationResource":"arn:aws:sns:r:1:t","publishedMessage":"{}"}"#
    );
    let json = serde_json::to_value(&action).unwrap();
    assert_eq!(json["HistoryItemType"], "Action");
    assert_eq!(json["AlarmType"], "MetricAlarm");
}

// "ignore – The current alarm state is maintained": all missing keeps ALARM and its reason.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
#[test]
fn ignore_retains_state_and_reason() {
    let alarm = lab_alarm();
    let previous = AlarmState {
        state_value: StateValue::Alarm,
        state_reason: "before".into(),
        state_reason_data: None,
        state_updated_timestamp_ms: 7,
    };
    let eval = evaluate(&alarm, &[], 1_000_000, &previous).unwrap();
    assert_eq!(eval.decision.outcome, Outcome::RetainCurrentState);
    assert!(!eval.changed);
    assert_eq!(eval.state, previous);
}

#[test]
fn untrusted_inputs_give_errors() {
    let mut alarm = lab_alarm();
    alarm.period = 0;
    assert!(matches!(
        evaluate(&alarm, &[], 0, &AlarmState::initial(0)),
        Err(AlarmError::InvalidConfig(ConfigError::Period(0)))
    ));
    let alarm = lab_alarm();
    let bad = [value_at(0, f64::NAN)];
    assert_eq!(evaluate(&alarm, &bad, 10_000, &AlarmState::initial(0)), Err(AlarmError::InvalidSample { index: 0 }));
    assert_eq!(evaluate(&alarm, &[], i64::MIN, &AlarmState::initial(0)), Err(AlarmError::TimeOutOfRange(i64::MIN)));
    assert!(replay(&alarm, &[], 0, i64::MAX, StateValue::Ok).is_err());
    assert!(replay(&alarm, &[], 10, 0, StateValue::Ok).is_err());
}

// Statistic sets from PutMetricData feed the same statistics as single values.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html
#[test]
fn average_over_statistic_sets() {
    let mut alarm = lab_alarm();
    alarm.statistic = Some(Statistic::Average);
    alarm.threshold = 2.0;
    let samples = [
        MetricSample::StatisticSet { timestamp_ms: 1_000, sample_count: 4.0, sum: 10.0, minimum: 1.0, maximum: 4.0 },
        value_at(2_000, 5.0),
    ];
    let eval = evaluate(&alarm, &samples, 10_000, &AlarmState::initial(0)).unwrap();
    let dp = eval.range.last().copied().flatten().unwrap();
    assert_eq!((dp.value, dp.sample_count), (3.0, 5.0));
    assert_eq!(eval.state.state_value, StateValue::Alarm);
}

#[test]
fn percentile_alarms_evaluate_and_name_the_statistic() {
    let mut alarm = lab_alarm();
    alarm.statistic = None;
    alarm.extended_statistic = Some(ExtendedStatistic::parse("p90").unwrap());
    alarm.threshold = 8.0;
    let samples: Vec<MetricSample> = (1..=10).map(|i| value_at(i * 500, f64::from(i as u32))).collect();
    let eval = evaluate(&alarm, &samples, 10_000, &AlarmState::initial(0)).unwrap();
    assert_eq!(eval.state.state_value, StateValue::Alarm); // p90 of 1..=10 is 9
    let data = eval.state.state_reason_data.unwrap();
    assert_eq!(data.extended_statistic.as_deref(), Some("p90"));
    assert_eq!(data.statistic, None);
}

fn lab_series(days: i64) -> Vec<MetricSample> {
    // A deterministic mix: most 10 s periods silent, some with 1 failure, bursts of 2-4.
    let periods = days * 8_640;
    let mut samples = Vec::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for p in 0..periods {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let count = match x % 100 {
            0..=84 => 0,
            85..=94 => 1,
            95..=97 => 2,
            _ => 4,
        };
        for c in 0..count {
            samples.push(value_at(p * 10_000 + 1_000 + c * 1_000, 1.0));
        }
    }
    samples
}

// Replay must agree with the live evaluator at every evaluation instant.
#[test]
fn replay_agrees_with_the_evaluator() {
    let samples = lab_series(1);
    let to = 8_640 * 10_000 / 8; // three hours
    for (tmd, n, m) in [
        (TreatMissingData::Ignore, 1, Some(1)),
        (TreatMissingData::Missing, 3, Some(2)),
        (TreatMissingData::Breaching, 2, None),
        (TreatMissingData::NotBreaching, 3, Some(1)),
    ] {
        let alarm =
            MetricAlarm { treat_missing_data: tmd, evaluation_periods: n, datapoints_to_alarm: m, ..lab_alarm() };
        let replayed = replay(&alarm, &samples, 0, to, StateValue::InsufficientData).unwrap();
        let mut state = AlarmState::initial(0);
        let mut transitions = Vec::new();
        let mut now = 10_000;
        while now <= to {
            let eval = evaluate(&alarm, &samples, now, &state).unwrap();
            if eval.changed {
                transitions.push(StateTransition {
                    timestamp_ms: now,
                    old_state: state.state_value,
                    new_state: eval.state.state_value,
                });
            }
            state = eval.state;
            now += 10_000;
        }
        assert_eq!(replayed.transitions, transitions, "{tmd} {m:?} of {n}");
        assert!(!transitions.is_empty());
        let covered: i64 = replayed.intervals.iter().map(|i| i.end_ms - i.start_ms).sum();
        assert_eq!(covered, to);
    }
}

// Replays with 60-second periods slide every minute: at the end of minute 6 a
// 5-minute period covers minutes 2 to 6.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
#[test]
fn replay_of_minute_periods_agrees_with_the_evaluator() {
    let samples = lab_series(1);
    let alarm =
        MetricAlarm { period: 300, threshold: 8.0, evaluation_periods: 2, datapoints_to_alarm: Some(1), ..lab_alarm() };
    let to = 6 * 3_600_000;
    let replayed = replay(&alarm, &samples, 0, to, StateValue::InsufficientData).unwrap();
    let mut state = AlarmState::initial(0);
    let mut count = 0;
    let mut now = 60_000;
    while now <= to {
        let eval = evaluate(&alarm, &samples, now, &state).unwrap();
        count += u32::from(eval.changed && eval.state.state_value == StateValue::Alarm);
        state = eval.state;
        now += 60_000;
    }
    assert_eq!(replayed.alarm_count, count);
    assert_eq!(replayed.evaluations, 360);
}

// The console's workload: 15 days of 10-second data, one prepared series, many
// thresholds. Kept to 10 thresholds in the unit suite; see `replay_bench`.
#[test]
fn replay_of_fifteen_days() {
    let samples = lab_series(15);
    let base = lab_alarm();
    let series = PreparedSeries::prepare(&base, &samples, 0, 15 * 86_400_000).unwrap();
    // With 1 of 1 and `ignore` the newest real datapoint decides, so a higher
    // threshold can only shorten the time in ALARM (the count of alarms need not fall).
    let mut previous_time = i64::MAX;
    for threshold in 0..10 {
        let alarm = MetricAlarm { threshold: f64::from(threshold), ..base.clone() };
        let r = replay_prepared(&series, &alarm, StateValue::InsufficientData).unwrap();
        assert_eq!(r.evaluations, 129_600);
        assert!(r.time_in_alarm_ms <= previous_time, "threshold {threshold}");
        previous_time = r.time_in_alarm_ms;
    }
    assert!(previous_time < 15 * 86_400_000);
    let mismatched = MetricAlarm { period: 60, ..base };
    assert_eq!(replay_prepared(&series, &mismatched, StateValue::Ok), Err(AlarmError::SeriesMismatch));
}

/// `cargo test --release -p keywatch-domain replay_bench -- --ignored --nocapture`
#[test]
#[ignore = "timing only"]
fn replay_bench() {
    let samples = lab_series(15);
    let base = lab_alarm();
    let started = std::time::Instant::now();
    let series = PreparedSeries::prepare(&base, &samples, 0, 15 * 86_400_000).unwrap();
    let prepared = started.elapsed();
    let mut total = 0;
    for threshold in 0..100 {
        let alarm = MetricAlarm { threshold: f64::from(threshold) / 10.0, ..base.clone() };
        total += replay_prepared(&series, &alarm, StateValue::InsufficientData).unwrap().alarm_count;
    }
    println!("prepare {prepared:?}, 100 replays {:?} ({total} alarms)", started.elapsed() - prepared);
}

// The premature-transition case "- - X - -" reaches ALARM with fewer than M
// datapoints; a real reason of that shape: "1 out of the last 3 datapoints [0.0] was
// less than the threshold (minimum 3 datapoints for OK -> ALARM transition)".
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#CloudWatch-alarms-avoiding-premature-transition
#[test]
fn premature_alarm_reason_names_the_minimum() {
    let alarm = sum_alarm(ComparisonOperator::GreaterThanThreshold, 1.0, 60, 3, None, TreatMissingData::Missing);
    let now = 1_000 * 60_000; // range periods start at minutes 995..=999
    let breach = Datapoint { timestamp_ms: 997 * 60_000, value: 2.0, sample_count: 2.0 };
    let range = [None, None, Some(breach), None, None];
    let ok = AlarmState { state_value: StateValue::Ok, ..AlarmState::initial(0) };
    let eval = evaluate_datapoints(&alarm, &range, now, &ok).unwrap();
    assert_eq!(eval.decision.rule, DecisionRule::OldestBreachAged);
    assert_eq!(
        eval.state.state_reason,
        "Threshold Crossed: 1 out of the last 3 datapoints [2.0 (01/01/70 16:37:00)] was greater than the threshold (1.0) (minimum 3 datapoints for OK -> ALARM transition)."
    );
    // One period earlier the breach was too recent: INSUFFICIENT_DATA, 2 unknown.
    let earlier = [None, None, None, Some(breach), None];
    let eval = evaluate_datapoints(&alarm, &earlier, now - 60_000, &ok).unwrap();
    assert_eq!(eval.state.state_reason, "Insufficient Data: 2 datapoints were unknown.");
}
