//! State reasons and reason data in AWS's text and JSON formats.
//!
//! AWS does not document the reason grammar; it is reproduced from reasons
//! that real alarms wrote (quoted in the tests). The observed shapes:
//!
//! - `Threshold Crossed: 1 datapoint [3.0 (26/10/24 18:59:00)] was greater than
//!   or equal to the threshold (1.0).` — alarms without `DatapointsToAlarm`
//!   whose evaluated datapoints all agree with the new state.
//! - `Threshold Crossed: 2 out of the last 4 datapoints [10.7 (08/11/22 02:40:00), …]
//!   were greater than the threshold (10.7) (minimum 2 datapoints for OK -> ALARM
//!   transition).` — M-of-N alarms; for OK the minimum is N − M + 1.
//! - `… and 19 missing datapoints were treated as [NonBreaching] …` and
//!   `Threshold Crossed: no datapoints were received for 2 periods and 2 missing
//!   datapoints were treated as [Breaching].` — when missing data was filled.
//! - `Insufficient Data: 1 datapoint was unknown.`
//!
//! Listed datapoints are those that agree with the new state, newest first,
//! each with its period start as `dd/MM/yy HH:mm:ss` UTC. Numbers print the
//! way Java prints doubles (`1.0`, `10.708333333333332`), as AWS's do.
//!
//! `StateReasonData` is AWS's JSON: `version`, `queryDate`, `startDate`,
//! `statistic`, `period`, `recentDatapoints`, `threshold`, `evaluatedDatapoints`
//! (newest first; when no real datapoint was evaluated, the missing periods
//! are listed with only a timestamp).

use serde::{Deserialize, Serialize};

use super::config::MetricAlarm;
use super::config::TreatMissingData;
use super::evaluate::{Datapoint, DatapointClass, Decision, DecisionRule, StateValue};

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
/// Howard Hinnant's `civil_from_days`, so no date crate is needed on wasm.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

struct Utc {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
}

fn utc(ms: i64) -> Utc {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    Utc {
        year,
        month,
        day,
        hour: in_day / 3_600_000,
        minute: in_day / 60_000 % 60,
        second: in_day / 1_000 % 60,
        millis: in_day % 1_000,
    }
}

/// AWS's JSON timestamp: `2024-10-26T19:00:38.853+0000`.
pub fn format_aws_timestamp(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date; the inverse of
/// [`civil_from_days`] (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch of AWS's JSON timestamp
/// (`2024-10-26T19:00:38.853+0000`, as [`format_aws_timestamp`] writes it),
/// also with `Z`, `+hh:mm` or no fraction; `None` when it is not one.
/// History keeps `evaluatedDatapoints` timestamps as AWS wrote them, and
/// charting them needs the instant.
pub fn parse_aws_timestamp(text: &str) -> Option<i64> {
    fn number(text: &str, digits: usize) -> Option<i64> {
        (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
    }
    let (date, rest) = text.split_once('T')?;
    let mut date = date.splitn(3, '-');
    let year = number(date.next()?, 4)?;
    let month = u32::try_from(number(date.next()?, 2)?).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(number(date.next()?, 2)?).ok().filter(|d| (1..=31).contains(d))?;
    let (time, zone) = rest.split_at(rest.find(['Z', '+', '-']).unwrap_or(rest.len()));
    let (time, fraction) = time.split_once('.').unwrap_or((time, "000"));
    let mut time = time.splitn(3, ':');
    let hour = number(time.next()?, 2).filter(|h| *h < 24)?;
    let minute = number(time.next()?, 2).filter(|m| *m < 60)?;
    let second = number(time.next()?, 2).filter(|s| *s <= 60)?;
    let fraction = fraction.get(..fraction.len().min(3))?;
    let millis = number(fraction, fraction.len())? * 10_i64.pow(3 - fraction.len() as u32);
    let offset_minutes = match zone {
        "" | "Z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits = zone.get(1..)?.replace(':', "");
            let hours = number(digits.get(..2)?, 2)?;
            let minutes = number(digits.get(2..)?, 2)?;
            sign * (hours * 60 + minutes)
        }
    };
    let minutes = (days_from_civil(year, month, day) * 24 + hour) * 60 + minute - offset_minutes;
    Some(minutes * 60_000 + second * 1_000 + millis)
}

/// The datapoint time in state reasons: `26/10/24 18:59:00`.
pub fn format_reason_timestamp(ms: i64) -> String {
    let t = utc(ms);
    format!("{:02}/{:02}/{:02} {:02}:{:02}:{:02}", t.day, t.month, t.year.rem_euclid(100), t.hour, t.minute, t.second)
}

/// A double as Java's `Double.toString` prints it: `1.0`, `0.25`, `1.0E7`, `1.0E-4`.
pub fn format_java_double(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let magnitude = value.abs();
    if value == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = value.to_string();
        if text.contains('.') { text } else { format!("{text}.0") }
    } else {
        let text = format!("{value:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
        format!("{mantissa}E{exponent}")
    }
}

/// One entry of `evaluatedDatapoints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluatedDatapoint {
    /// Period start, `yyyy-MM-ddTHH:mm:ss.SSS+0000`.
    pub timestamp: String,
    /// Samples in the period; absent for a missing period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<f64>,
    /// The statistic's value; absent for a missing period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// `StateReasonData`, field for field and in AWS's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateReasonData {
    /// Always `1.0`.
    pub version: String,
    /// When the evaluation ran.
    pub query_date: String,
    /// Start of the oldest real datapoint evaluated; absent when there was none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// The simple statistic, e.g. `Sum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    /// Assumed key for percentile alarms: not confirmed against a real alarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    /// The alarm's period in seconds.
    pub period: u32,
    /// Values of the real datapoints evaluated, oldest first.
    pub recent_datapoints: Vec<f64>,
    /// The alarm's threshold.
    pub threshold: f64,
    /// The periods evaluated, newest first.
    pub evaluated_datapoints: Vec<EvaluatedDatapoint>,
}

impl StateReasonData {
    /// The JSON string `DescribeAlarms` returns as `StateReasonData`.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and finite numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// How one period took part in an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotUse {
    /// A real datapoint.
    Real,
    /// A missing period filled with the `TreatMissingData` value.
    Filled,
    /// A missing period reported as unknown.
    Unknown,
}

/// The periods an evaluation used, newest first, as (range index, use).
///
/// With N real datapoints the N most recent real ones; otherwise every real
/// datapoint in the range plus the most recent missing periods, as few as
/// make up N ("CloudWatch uses missing data points only as few times as possible").
pub fn evaluated_slots(
    classes: &[DatapointClass],
    decision: &Decision,
    evaluation_periods: u32,
) -> Vec<(usize, SlotUse)> {
    let missing_use = if decision.filled > 0 { SlotUse::Filled } else { SlotUse::Unknown };
    let missing_wanted = if decision.rule == DecisionRule::RealDatapoints {
        0
    } else {
        evaluation_periods.saturating_sub(decision.real_evaluated)
    };
    let mut real = 0u32;
    let mut missing = 0u32;
    let mut slots = Vec::new();
    for (index, class) in classes.iter().enumerate().rev() {
        if *class == DatapointClass::Missing {
            if missing < missing_wanted {
                missing += 1;
                slots.push((index, missing_use));
            }
        } else if real < decision.real_evaluated {
            real += 1;
            slots.push((index, SlotUse::Real));
        }
    }
    slots
}

/// What the reason builders read.
pub struct ReasonContext<'a> {
    pub alarm: &'a MetricAlarm,
    pub range: &'a [Option<Datapoint>],
    pub classes: &'a [DatapointClass],
    /// Start of the range's oldest period, epoch milliseconds.
    pub range_start_ms: i64,
    pub slots: &'a [(usize, SlotUse)],
}

impl ReasonContext<'_> {
    fn slot_timestamp(&self, index: usize) -> i64 {
        self.range_start_ms + index as i64 * i64::from(self.alarm.period) * 1_000
    }

    fn real(&self) -> impl Iterator<Item = (usize, &Datapoint)> + '_ {
        self.slots.iter().filter_map(|(index, use_)| match (use_, self.range.get(*index)) {
            (SlotUse::Real, Some(Some(dp))) => Some((*index, dp)),
            _ => None,
        })
    }
}

fn plural(count: u32) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn was(count: u32) -> &'static str {
    if count == 1 { "was" } else { "were" }
}

/// The `StateReason` text for a transition to `new_state`.
pub fn state_reason(ctx: &ReasonContext<'_>, decision: &Decision, new_state: StateValue) -> String {
    let n = ctx.alarm.evaluation_periods;
    let m = ctx.alarm.effective_datapoints_to_alarm();
    if new_state == StateValue::InsufficientData {
        let u = decision.unknown;
        return format!("Insufficient Data: {u} datapoint{} {} unknown.", plural(u), was(u));
    }
    let alarm = new_state == StateValue::Alarm;
    let wanted = if alarm { DatapointClass::Breaching } else { DatapointClass::NotBreaching };
    let agreeing: Vec<String> = ctx
        .real()
        .filter(|(index, _)| ctx.classes.get(*index) == Some(&wanted))
        .map(|(_, dp)| format!("{} ({})", format_java_double(dp.value), format_reason_timestamp(dp.timestamp_ms)))
        .collect();
    let k = agreeing.len() as u32;
    let not = if alarm { "" } else { "not " };
    let words = ctx.alarm.comparison_operator.reason_words();
    let threshold = format_java_double(ctx.alarm.threshold);
    let f = decision.filled;
    let treated = match ctx.alarm.effective_treat_missing_data() {
        TreatMissingData::Breaching => "Breaching",
        _ => "NonBreaching",
    };
    let minimum = if alarm {
        format!(" (minimum {m} datapoint{} for OK -> ALARM transition)", plural(m))
    } else {
        let x = (n + 1).saturating_sub(m);
        format!(" (minimum {x} datapoint{} for ALARM -> OK transition)", plural(x))
    };
    if decision.real_evaluated == 0 && f > 0 {
        return format!(
            "Threshold Crossed: no datapoints were received for {f} period{} and {f} missing datapoint{} {} treated as [{treated}].",
            plural(f),
            plural(f),
            was(f)
        );
    }
    let missing_clause = if f > 0 {
        format!(" and {f} missing datapoint{} {} treated as [{treated}]", plural(f), was(f))
    } else {
        String::new()
    };
    if k == 0 {
        // Only the filled periods agree with the new state. No real reason of
        // this shape has been seen; this wording is Keywatch's.
        return format!(
            "Threshold Crossed: {f} missing datapoint{} {} treated as [{treated}]{minimum}.",
            plural(f),
            was(f)
        );
    }
    let list = agreeing.join(", ");
    let plain = ctx.alarm.datapoints_to_alarm.is_none()
        && decision.rule != DecisionRule::OldestBreachAged
        && k == decision.real_evaluated;
    if plain {
        format!(
            "Threshold Crossed: {k} datapoint{} [{list}] {} {not}{words} the threshold ({threshold}){missing_clause}.",
            plural(k),
            was(k)
        )
    } else {
        format!(
            "Threshold Crossed: {k} out of the last {n} datapoints [{list}] {} {not}{words} the threshold ({threshold}){missing_clause}{minimum}.",
            was(k)
        )
    }
}

/// The `StateReasonData` for an evaluation run at `query_ms`.
pub fn state_reason_data(ctx: &ReasonContext<'_>, query_ms: i64) -> StateReasonData {
    let mut real: Vec<&Datapoint> = ctx.real().map(|(_, dp)| dp).collect();
    real.sort_by_key(|dp| dp.timestamp_ms);
    // Real alarms list only the real datapoints when there are any, and the
    // filled or unknown periods' timestamps when there are none.
    let any_real = !real.is_empty();
    let evaluated = ctx
        .slots
        .iter()
        .filter(|(_, use_)| !any_real || *use_ == SlotUse::Real)
        .map(|(index, use_)| match (use_, ctx.range.get(*index)) {
            (SlotUse::Real, Some(Some(dp))) => EvaluatedDatapoint {
                timestamp: format_aws_timestamp(dp.timestamp_ms),
                sample_count: Some(dp.sample_count),
                value: Some(dp.value),
            },
            _ => EvaluatedDatapoint {
                timestamp: format_aws_timestamp(ctx.slot_timestamp(*index)),
                sample_count: None,
                value: None,
            },
        })
        .collect();
    StateReasonData {
        version: "1.0".to_owned(),
        query_date: format_aws_timestamp(query_ms),
        start_date: real.first().map(|dp| format_aws_timestamp(dp.timestamp_ms)),
        statistic: ctx.alarm.statistic.map(|s| s.as_str().to_owned()),
        extended_statistic: ctx.alarm.extended_statistic.as_ref().map(|s| s.as_str().to_owned()),
        period: ctx.alarm.period,
        // Oldest first, the order of AWS's older "The most recent datapoints: [...]".
        recent_datapoints: real.iter().map(|dp| dp.value).collect(),
        threshold: ctx.alarm.threshold,
        evaluated_datapoints: evaluated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_752), (2026, 10, 26));
    }

    // Timestamps as in a real alarm event: queryDate "2024-10-26T19:00:38.853+0000",
    // reason "[3.0 (26/10/24 18:59:00)]".
    #[test]
    fn timestamps_use_aws_formats() {
        let query = 1_729_969_238_853; // 2024-10-26T19:00:38.853Z
        assert_eq!(format_aws_timestamp(query), "2024-10-26T19:00:38.853+0000");
        assert_eq!(format_reason_timestamp(1_729_969_140_000), "26/10/24 18:59:00");
        assert_eq!(format_aws_timestamp(-1), "1969-12-31T23:59:59.999+0000");
    }

    #[test]
    fn aws_timestamps_parse_back_to_their_instant() {
        for ms in [0, -1, 1_729_969_238_853, 951_782_400_000, 1_796_649_650_000] {
            assert_eq!(parse_aws_timestamp(&format_aws_timestamp(ms)), Some(ms), "{ms}");
        }
        for day in [-719_468, -1, 0, 11_016, 20_752] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        // (text, instant): other spellings of the same zone, and offsets applied.
        for (text, ms) in [
            ("2024-10-26T19:00:38.853Z", Some(1_729_969_238_853)),
            ("2024-10-26T19:00:38Z", Some(1_729_969_238_000)),
            ("2024-10-26T19:00:38.8+0000", Some(1_729_969_238_800)),
            ("2024-10-27T05:00:38.853+10:00", Some(1_729_969_238_853)),
            ("2024-10-26T18:00:38.853-0100", Some(1_729_969_238_853)),
            ("26/10/24 18:59:00", None),
            ("2024-13-26T19:00:38Z", None),
            ("2024-10-26T25:00:38Z", None),
            ("2024-10-26T19:00:38.85x3Z", None),
            ("", None),
        ] {
            assert_eq!(parse_aws_timestamp(text), ms, "{text}");
        }
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(format_java_double(1.0), "1.0");
        assert_eq!(format_java_double(0.0), "0.0");
        assert_eq!(format_java_double(-2.5), "-2.5");
        assert_eq!(format_java_double(10.708333333333332), "10.708333333333332");
        assert_eq!(format_java_double(613.0), "613.0");
        assert_eq!(format_java_double(400000.0), "400000.0");
        assert_eq!(format_java_double(1.0e7), "1.0E7");
        assert_eq!(format_java_double(1.5e-4), "1.5E-4");
    }
}
