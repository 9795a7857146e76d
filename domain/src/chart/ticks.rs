//! Axis ticks: "nice" value steps (1, 2 or 5 × 10ⁿ) and calendar-aligned
//! time steps (seconds to weeks) with UTC labels that say only what
//! changes between ticks, as Grafana's and the CloudWatch console's do.

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Time steps a time axis may use, shortest first: each divides the
/// next larger unit, so ticks fall on round clock times.
const TIME_STEPS: [i64; 20] = [
    SECOND,
    2 * SECOND,
    5 * SECOND,
    10 * SECOND,
    15 * SECOND,
    30 * SECOND,
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
];

/// One tick of a value axis.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueTick {
    pub value: f64,
    pub label: String,
}

/// One tick of a time axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeTick {
    pub ms: i64,
    pub label: String,
}

/// The "nice" step (1, 2 or 5 × 10ⁿ) nearest above `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Decimals needed to print multiples of `step` exactly (0 for steps ≥ 1).
fn decimals(step: f64) -> usize {
    if step >= 1.0 || step <= 0.0 { 0 } else { (-step.log10().floor()) as usize }
}

/// `value` printed with at most `decimals` places and no trailing zeros.
pub fn format_value(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text };
    // "-0" reads as a mistake on an axis.
    if text == "-0" { "0".to_owned() } else { text }
}

/// About `target` ticks covering `[min, max]`, on multiples of a nice step;
/// the first tick is at or below `min`, the last at or above `max`, so the
/// ticks' ends make a good value-axis domain.
pub fn value_ticks(min: f64, max: f64, target: usize) -> Vec<ValueTick> {
    let (min, max) = if min.is_finite() && max.is_finite() { (min.min(max), min.max(max)) } else { (0.0, 1.0) };
    let (min, max) = if max > min { (min, max) } else { (min - 1.0, max + 1.0) };
    let step = nice_step((max - min) / target.max(1) as f64);
    let places = decimals(step);
    let first = (min / step).floor() as i64;
    let last = (max / step).ceil() as i64;
    (first..=last)
        .map(|i| {
            let value = i as f64 * step;
            ValueTick { value, label: format_value(value, places) }
        })
        .collect()
}

/// At most `target` ticks in `[from_ms, to_ms]`, on round UTC times; labels
/// carry seconds only when the step is under a minute and the date where
/// the day changes (and on the first tick).
pub fn time_ticks(from_ms: i64, to_ms: i64, target: usize) -> Vec<TimeTick> {
    let span = (to_ms - from_ms).max(1);
    let target = target.max(2) as i64;
    let step = TIME_STEPS.iter().copied().find(|step| span / step < target).unwrap_or_else(|| {
        // Longer than a few months: whole weeks.
        let weeks = span / (7 * DAY) / target + 1;
        weeks * 7 * DAY
    });
    let mut ticks = Vec::new();
    let mut at = from_ms.div_euclid(step) * step;
    if at < from_ms {
        at += step;
    }
    let mut previous_day = None;
    while at <= to_ms {
        let day = at.div_euclid(DAY);
        let label = if step >= DAY {
            date(at)
        } else {
            let time = if step < MINUTE { clock_seconds(at) } else { clock_minutes(at) };
            if previous_day != Some(day) && (previous_day.is_none() || at.rem_euclid(DAY) == 0 || step >= HOUR) {
                format!("{} {time}", date(at))
            } else {
                time
            }
        };
        previous_day = Some(day);
        ticks.push(TimeTick { ms: at, label });
        at += step;
    }
    ticks
}

/// `(year, month, day)` of epoch day `days` (Howard Hinnant's civil-from-days,
/// to keep a date crate out of the browser bundle).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `MM-DD` of `ms`, UTC.
fn date(ms: i64) -> String {
    let (_, month, day) = civil(ms.div_euclid(DAY));
    format!("{month:02}-{day:02}")
}

fn clock_minutes(ms: i64) -> String {
    let in_day = ms.rem_euclid(DAY) / SECOND;
    format!("{:02}:{:02}", in_day / 3600, in_day % 3600 / 60)
}

fn clock_seconds(ms: i64) -> String {
    let in_day = ms.rem_euclid(DAY) / SECOND;
    format!("{:02}:{:02}:{:02}", in_day / 3600, in_day % 3600 / 60, in_day % 60)
}

/// `HH:MM:SS UTC`, for instants within a day's view.
pub fn clock_time(ms: i64) -> String {
    format!("{} UTC", clock_seconds(ms))
}

/// `YYYY-MM-DD HH:MM:SS UTC`: a hover label that is right at any zoom.
pub fn date_time(ms: i64) -> String {
    let (year, month, day) = civil(ms.div_euclid(DAY));
    format!("{year:04}-{month:02}-{day:02} {} UTC", clock_seconds(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_751_378_123; // 2026-11-27 03:49:38.123 UTC

    #[test]
    fn nice_steps_are_one_two_or_five() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.013), 0.02);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn value_ticks_cover_the_data_with_clean_labels() {
        let ticks = value_ticks(0.0, 8.0, 5);
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "2", "4", "6", "8"]);
        let ticks = value_ticks(0.13, 0.31, 4);
        assert!(ticks.first().unwrap().value <= 0.13 && ticks.last().unwrap().value >= 0.31);
        assert_eq!(ticks[1].label, "0.15");
        // A flat series still gets an axis.
        assert!(value_ticks(3.0, 3.0, 5).len() >= 2);
        assert_eq!(format_value(-0.0001, 2), "0");
    }

    #[test]
    fn time_ticks_pick_minutes_hours_or_days() {
        // Seven minutes: one-minute ticks, the first with its date.
        let from = T - T % MINUTE;
        let ticks = time_ticks(from, from + 7 * MINUTE, 8);
        assert_eq!(ticks.len(), 8);
        assert_eq!(ticks[0].label, "11-27 03:49");
        assert_eq!(ticks[1].label, "03:50");
        // Under a minute: seconds.
        let ticks = time_ticks(from, from + 40 * SECOND, 6);
        assert_eq!(ticks[1].label, "03:49:10");
        // A day: hours, each carrying its date once the step is an hour or more.
        let ticks = time_ticks(T, T + DAY, 8);
        assert_eq!(ticks[0].label, "11-27 06:00");
        assert!(ticks.iter().all(|t| t.ms % (3 * HOUR) == 0), "{ticks:?}");
        // Fifteen days: whole days.
        let ticks = time_ticks(T, T + 15 * DAY, 8);
        assert!(ticks.iter().all(|t| t.ms % DAY == 0 && t.label.len() == 5), "{ticks:?}");
        assert!(ticks.len() <= 8);
    }

    #[test]
    fn ticks_stay_inside_the_range() {
        for span in [1, 999, 59_000, 3_600_000, 40 * DAY, 400 * DAY] {
            let ticks = time_ticks(T, T + span, 6);
            assert!(ticks.len() <= 6, "{span}: {}", ticks.len());
            assert!(ticks.iter().all(|t| (T..=T + span).contains(&t.ms)));
        }
    }

    #[test]
    fn labels_are_utc() {
        assert_eq!(clock_time(T), "03:49:38 UTC");
        assert_eq!(date_time(T), "2026-11-27 03:49:38 UTC");
        assert_eq!(date_time(0), "1970-01-01 00:00:00 UTC");
    }
}
