//! The alarm evaluator: from datapoints, time and previous state to a new state.
//!
//! Everything follows "Using Amazon CloudWatch alarms"
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>):
//!
//! - An alarm evaluates every 10 s when its period is 10, 20 or 30 s, every
//!   minute otherwise, and once an hour when `Period × EvaluationPeriods`
//!   exceeds a day ("considers data only up to" the hour). Each evaluation
//!   looks at periods ending at that instant.
//! - It retrieves more periods than `EvaluationPeriods`: the *evaluation
//!   range*. With at least N real datapoints in it, the N most recent real ones
//!   decide and `TreatMissingData` is not used; with fewer, the most recent
//!   missing periods are filled in "only as few times as possible", and every
//!   real datapoint in the range counts.
//! - "Avoiding premature transitions to alarm state": with `missing`, the
//!   alarm goes to ALARM when the oldest breaching datapoint is at least as old
//!   as `DatapointsToAlarm` periods and the newer ones are breaching or missing,
//!   but waits when that breach is too recent.
//!
//! Where the documentation is silent, the choice is written at the place it is made.

use serde::{Deserialize, Serialize};

use super::config::{ConfigError, MetricAlarm, TreatMissingData};
use super::reason;
use super::statistics::{MetricSample, PeriodAccumulator};

/// The reason AWS gives a newly created alarm.
pub const INITIAL_STATE_REASON: &str = "Unchecked: Initial alarm creation";

/// How many periods the evaluation range holds beyond `EvaluationPeriods`.
///
/// AWS does not document the size of the evaluation range (see the open
/// question in awsdocs/amazon-cloudwatch-user-guide#102); its only examples
/// have `EvaluationPeriods` 3 and a range of 5, so the range here is N + 2.
pub const EVALUATION_RANGE_EXTRA_PERIODS: u32 = 2;

/// An alarm state (`StateValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StateValue {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl StateValue {
    /// The API string: `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub fn as_str(self) -> &'static str {
        match self {
            StateValue::Ok => "OK",
            StateValue::Alarm => "ALARM",
            StateValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

impl std::fmt::Display for StateValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one period's datapoint compares with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DatapointClass {
    Breaching,
    NotBreaching,
    Missing,
}

/// What an evaluation does to the alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The alarm is set to this state (which may be the one it is in).
    Set(StateValue),
    /// `ignore` with too little data: "Retain current state".
    RetainCurrentState,
}

/// Which documented rule decided an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DecisionRule {
    /// At least N real datapoints in the range: the most recent N decided.
    RealDatapoints,
    /// Fewer than N real datapoints; missing ones filled as breaching or not breaching.
    FilledMissingData,
    /// Fewer than N real datapoints with `missing`/`ignore`, but the real ones settle it.
    AvailableDatapoints,
    /// The premature-transition rule: an aged breach with nothing newer but breaches or gaps.
    OldestBreachAged,
    /// Too little data: INSUFFICIENT_DATA (`missing`) or retain (`ignore`).
    NotEnoughData,
}

/// The result of the documented decision procedure on one evaluation range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The state to set, or retain.
    pub outcome: Outcome,
    /// The rule that decided.
    pub rule: DecisionRule,
    /// Real datapoints that took part.
    pub real_evaluated: u32,
    /// Missing periods filled with the `TreatMissingData` value (the tables'
    /// "# of data points that must be filled"); 0 when real data sufficed.
    pub filled: u32,
    /// Breaching datapoints among those evaluated, filled ones included.
    pub breaching: u32,
    /// Periods reported as unknown in an INSUFFICIENT_DATA reason.
    pub unknown: u32,
}

/// Decides the alarm state from one evaluation range.
///
/// `classes` runs oldest to newest; `evaluation_periods` is N and
/// `datapoints_to_alarm` is M (callers guarantee 1 <= M <= N). Pure and
/// allocation-free so that [`super::replay`] can call it for every period.
pub fn decide(
    classes: &[DatapointClass],
    evaluation_periods: u32,
    datapoints_to_alarm: u32,
    treat_missing_data: TreatMissingData,
) -> Decision {
    let n = evaluation_periods;
    let m = datapoints_to_alarm;
    let mut real_total = 0u32;
    let mut breaching_total = 0u32;
    let mut recent_breaching = 0u32; // among the N most recent real datapoints
    let mut oldest_real_age = 0usize; // 1 = the newest period
    for (age, class) in classes.iter().rev().enumerate() {
        if *class == DatapointClass::Missing {
            continue;
        }
        let breaching = *class == DatapointClass::Breaching;
        if real_total < n && breaching {
            recent_breaching += 1;
        }
        real_total += 1;
        breaching_total += u32::from(breaching);
        oldest_real_age = age + 1;
    }
    let set = |state: StateValue| Outcome::Set(state);
    let by_count = |breaching: u32| set(if breaching >= m { StateValue::Alarm } else { StateValue::Ok });

    if real_total >= n {
        return Decision {
            outcome: by_count(recent_breaching),
            rule: DecisionRule::RealDatapoints,
            real_evaluated: n,
            filled: 0,
            breaching: recent_breaching,
            unknown: 0,
        };
    }
    let fill = n - real_total;
    let base = Decision {
        outcome: Outcome::RetainCurrentState,
        rule: DecisionRule::FilledMissingData,
        real_evaluated: real_total,
        filled: fill,
        breaching: breaching_total,
        unknown: 0,
    };
    match treat_missing_data {
        TreatMissingData::Breaching => {
            let breaching = breaching_total + fill;
            Decision { outcome: by_count(breaching), breaching, ..base }
        }
        TreatMissingData::NotBreaching => Decision { outcome: by_count(breaching_total), ..base },
        TreatMissingData::Missing | TreatMissingData::Ignore => {
            let missing = treat_missing_data == TreatMissingData::Missing;
            let not_enough = Decision {
                outcome: if missing { set(StateValue::InsufficientData) } else { Outcome::RetainCurrentState },
                rule: DecisionRule::NotEnoughData,
                filled: 0,
                unknown: fill,
                ..base
            };
            if real_total == 0 {
                not_enough
            } else if breaching_total >= m {
                Decision { outcome: set(StateValue::Alarm), rule: DecisionRule::AvailableDatapoints, filled: 0, ..base }
            } else if breaching_total < real_total {
                // A real non-breaching datapoint and fewer than M breaches: the
                // tables' "0 - - - -", "- - - - 0" and "0 - X - -" rows are OK
                // for both `missing` and `ignore`.
                Decision { outcome: set(StateValue::Ok), rule: DecisionRule::AvailableDatapoints, filled: 0, ..base }
            } else if missing && oldest_real_age >= m as usize {
                // Premature-transition rule. The tables show `ignore` retaining
                // its state in the same rows, so it applies to `missing` only.
                Decision { outcome: set(StateValue::Alarm), rule: DecisionRule::OldestBreachAged, filled: 0, ..base }
            } else {
                not_enough
            }
        }
    }
}

/// One period's datapoint: the statistic over `[timestamp, timestamp + Period)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Datapoint {
    /// Start of the period, epoch milliseconds (AWS's datapoint timestamp).
    pub timestamp_ms: i64,
    /// The statistic's value over the period.
    pub value: f64,
    /// How many samples the period held.
    pub sample_count: f64,
}

/// Why an evaluation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlarmError {
    #[error("invalid alarm setting: {0}")]
    InvalidConfig(#[from] ConfigError),
    #[error("metric sample {index} has a non-finite value or an impossible statistic set")]
    InvalidSample { index: usize },
    #[error("time {0} ms is outside the range the evaluator supports")]
    TimeOutOfRange(i64),
    #[error("a replay over {buckets} buckets is larger than the supported maximum")]
    RangeTooLarge { buckets: usize },
    #[error("the prepared series was built for another period or statistic")]
    SeriesMismatch,
}

/// An alarm's current state, as `DescribeAlarms` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmState {
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: StateValue,
    /// AWS's human-readable explanation (`StateReason`).
    pub state_reason: String,
    /// The machine-readable explanation (`StateReasonData`), absent for a new alarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<reason::StateReasonData>,
    /// When the state last changed, epoch milliseconds.
    pub state_updated_timestamp_ms: i64,
}

impl AlarmState {
    /// A new alarm: INSUFFICIENT_DATA, "Unchecked: Initial alarm creation".
    pub fn initial(created_ms: i64) -> Self {
        AlarmState {
            state_value: StateValue::InsufficientData,
            state_reason: INITIAL_STATE_REASON.to_owned(),
            state_reason_data: None,
            state_updated_timestamp_ms: created_ms,
        }
    }
}

/// How often the alarm is evaluated, in seconds (see the module docs).
pub fn evaluation_cadence_seconds(alarm: &MetricAlarm) -> u32 {
    let window = u64::from(alarm.period) * u64::from(alarm.evaluation_periods);
    if window > 86_400 {
        3_600
    } else if alarm.period < 60 {
        10
    } else {
        60
    }
}

/// Times beyond ±2^50 ms (about 35,000 years) are refused, so that no
/// period arithmetic on them can overflow.
pub const MAX_ABS_TIME_MS: i64 = 1 << 50;

/// Checks that `ms` is a time the evaluator can do arithmetic on.
pub(crate) fn check_time(ms: i64) -> Result<i64, AlarmError> {
    if (-MAX_ABS_TIME_MS..=MAX_ABS_TIME_MS).contains(&ms) { Ok(ms) } else { Err(AlarmError::TimeOutOfRange(ms)) }
}

/// The instant the evaluation at `now_ms` considers data up to: `now_ms`
/// rounded down to the evaluation cadence. The newest period ends there.
pub fn evaluation_instant_ms(alarm: &MetricAlarm, now_ms: i64) -> Result<i64, AlarmError> {
    let now_ms = check_time(now_ms)?;
    let cadence_ms = i64::from(evaluation_cadence_seconds(alarm)) * 1_000;
    Ok(now_ms - now_ms.rem_euclid(cadence_ms))
}

/// Periods in the evaluation range: N + [`EVALUATION_RANGE_EXTRA_PERIODS`].
pub fn evaluation_range_len(alarm: &MetricAlarm) -> usize {
    alarm.evaluation_periods as usize + EVALUATION_RANGE_EXTRA_PERIODS as usize
}

/// Start of the oldest period of the range evaluated at `now_ms`.
fn range_start_ms(alarm: &MetricAlarm, now_ms: i64, len: usize) -> Result<i64, AlarmError> {
    let period_ms = i64::from(alarm.period) * 1_000;
    let instant = evaluation_instant_ms(alarm, now_ms)?;
    i64::try_from(len)
        .ok()
        .and_then(|len| len.checked_mul(period_ms))
        .and_then(|span| instant.checked_sub(span))
        .ok_or(AlarmError::TimeOutOfRange(now_ms))
}

/// Aggregates `samples` into the evaluation range at `now_ms`, oldest period
/// first; `None` marks a period without data. Samples outside the range are skipped.
pub fn collect_range(
    alarm: &MetricAlarm,
    samples: &[MetricSample],
    now_ms: i64,
) -> Result<Vec<Option<Datapoint>>, AlarmError> {
    alarm.check()?;
    let kind = alarm.statistic_kind()?;
    let keep_values = matches!(kind, super::config::StatisticKind::Percentile(_));
    let len = evaluation_range_len(alarm);
    let start = range_start_ms(alarm, now_ms, len)?;
    let period_ms = i64::from(alarm.period) * 1_000;
    let end = evaluation_instant_ms(alarm, now_ms)?;
    let mut periods = vec![PeriodAccumulator::default(); len];
    for (index, sample) in samples.iter().enumerate() {
        if !sample.is_valid() {
            return Err(AlarmError::InvalidSample { index });
        }
        let ts = sample.timestamp_ms();
        if ts < start || ts >= end {
            continue;
        }
        let slot = usize::try_from((ts - start) / period_ms).map_err(|_| AlarmError::TimeOutOfRange(ts))?;
        if let Some(period) = periods.get_mut(slot) {
            period.add(sample, keep_values);
        }
    }
    Ok(periods
        .iter_mut()
        .enumerate()
        .map(|(i, acc)| {
            acc.finish(kind).map(|(value, sample_count)| Datapoint {
                timestamp_ms: start + i as i64 * period_ms,
                value,
                sample_count,
            })
        })
        .collect())
}

/// Compares each datapoint with the threshold.
pub fn classify(alarm: &MetricAlarm, range: &[Option<Datapoint>]) -> Vec<DatapointClass> {
    range
        .iter()
        .map(|dp| match dp {
            None => DatapointClass::Missing,
            Some(dp) if alarm.comparison_operator.is_breaching(dp.value, alarm.threshold) => DatapointClass::Breaching,
            Some(_) => DatapointClass::NotBreaching,
        })
        .collect()
}

/// One evaluation: what was looked at, what was decided, and the state after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// When the evaluation ran (AWS's `queryDate`), epoch milliseconds.
    pub query_date_ms: i64,
    /// The evaluation range, oldest period first.
    pub range: Vec<Option<Datapoint>>,
    /// Each period of `range` compared with the threshold.
    pub classes: Vec<DatapointClass>,
    /// What the documented rules decided.
    pub decision: Decision,
    /// The state after the evaluation: the previous one unless `changed`.
    pub state: AlarmState,
    /// Whether the state value changed (a StateUpdate history item is due).
    pub changed: bool,
}

/// Evaluates an already aggregated range: `range[i]` is the period ending
/// `len - 1 - i` periods before the evaluation instant of `now_ms`.
///
/// A pure function of (alarm, datapoints, now, previous state), so the
/// console can replay history with it and get the sandbox's answers.
pub fn evaluate_datapoints(
    alarm: &MetricAlarm,
    range: &[Option<Datapoint>],
    now_ms: i64,
    previous: &AlarmState,
) -> Result<Evaluation, AlarmError> {
    alarm.check()?;
    let start = range_start_ms(alarm, now_ms, range.len())?;
    let classes = classify(alarm, range);
    let decision = decide(
        &classes,
        alarm.evaluation_periods,
        alarm.effective_datapoints_to_alarm(),
        alarm.effective_treat_missing_data(),
    );
    let new_value = match decision.outcome {
        Outcome::Set(value) if value != previous.state_value => value,
        // Same state or "retain": nothing changes, so the reason stays too.
        _ => {
            return Ok(Evaluation {
                query_date_ms: now_ms,
                range: range.to_vec(),
                classes,
                decision,
                state: previous.clone(),
                changed: false,
            });
        }
    };
    let slots = reason::evaluated_slots(&classes, &decision, alarm.evaluation_periods);
    let context = reason::ReasonContext { alarm, range, classes: &classes, range_start_ms: start, slots: &slots };
    let state = AlarmState {
        state_value: new_value,
        state_reason: reason::state_reason(&context, &decision, new_value),
        state_reason_data: Some(reason::state_reason_data(&context, now_ms)),
        state_updated_timestamp_ms: now_ms,
    };
    Ok(Evaluation { query_date_ms: now_ms, range: range.to_vec(), classes, decision, state, changed: true })
}

/// Evaluates the alarm at `now_ms` from raw samples: aggregates the
/// evaluation range with [`collect_range`], then [`evaluate_datapoints`].
pub fn evaluate(
    alarm: &MetricAlarm,
    samples: &[MetricSample],
    now_ms: i64,
    previous: &AlarmState,
) -> Result<Evaluation, AlarmError> {
    let range = collect_range(alarm, samples, now_ms)?;
    evaluate_datapoints(alarm, &range, now_ms, previous)
}
