//! CloudWatch metric alarms with static thresholds, evaluated as AWS documents.
//!
//! This module owns alarm settings and their validation ([`config`]), period
//! statistics ([`statistics`]), the evaluator ([`evaluate`]), state reasons in
//! AWS's text and JSON ([`reason`]), history items ([`history`]), replays
//! over stored data ([`replay`]) and threshold sweeps ([`sweep`]). It is pure: time comes in as epoch
//! milliseconds and nothing here reads a clock, does I/O or spawns threads,
//! so the sandbox, the server and the browser (wasm32) share it.
//!
//! The sandbox calls [`evaluate`] every evaluation interval with the metric's
//! samples and the alarm's previous state; when [`Evaluation::changed`] it
//! records [`history::state_updated`] and runs the actions. A new alarm
//! starts as [`AlarmState::initial`]. The console validates forms with
//! [`MetricAlarm::validate`] and charts settings with [`replay()`].
//!
//! Primary source: "Using Amazon CloudWatch alarms",
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>.

pub mod composite;
pub mod config;
pub mod email;
pub mod evaluate;
pub mod form;
pub mod history;
pub mod preview;
pub mod reason;
pub mod replay;
pub mod statistics;
pub mod sweep;

#[cfg(test)]
mod tests;

pub use config::{
    ComparisonOperator, ConfigError, Dimension, ExtendedStatistic, MetricAlarm, Statistic, StatisticKind,
    TreatMissingData, describe_duration, is_valid_period, max_window_seconds,
};
pub use evaluate::{
    AlarmError, AlarmState, Datapoint, DatapointClass, Decision, DecisionRule, EVALUATION_RANGE_EXTRA_PERIODS,
    Evaluation, INITIAL_STATE_REASON, Outcome, StateValue, classify, collect_range, decide, evaluate,
    evaluate_datapoints, evaluation_cadence_seconds, evaluation_instant_ms, evaluation_range_len,
};
pub use form::{FieldError, ThresholdForm};
pub use history::{AlarmHistoryItem, HistoryItemType};
pub use preview::{ChartBucket, FetchWindow, Preview, SettingOutcome, fetch_period_seconds, fetch_plan, preview};
pub use reason::{EvaluatedDatapoint, StateReasonData};
pub use replay::{PreparedSeries, Replay, StateInterval, StateTransition, replay, replay_prepared};
pub use statistics::{MetricSample, PeriodAggregate};
pub use sweep::{Sweep, SweepPoint, candidate_thresholds, sweep_prepared, threshold_sweep};
