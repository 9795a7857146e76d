//! Inline SVG charts, drawn on the server and in the browser alike (no
//! JavaScript chart library): the alarm-state timeline and the small
//! datapoint chart of a state change, and the Testing page's live metric.

use leptos::prelude::*;

use crate::api::history::{ReasonDatapoint, Timeline};
use crate::api::testing::MetricPoint;

/// The fill for a CloudWatch state value.
fn state_class(state: &str) -> &'static str {
    match state {
        "ALARM" => "state-alarm",
        "OK" => "state-ok",
        _ => "state-insufficient",
    }
}

/// One coloured band of a timeline row: [start, end) in ms and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: String,
}

/// Splits a series into bands over [from_ms, to_ms]; the time before the
/// first known state is left out.
pub fn bands(initial: Option<&str>, changes: &[(i64, String)], from_ms: i64, to_ms: i64) -> Vec<Band> {
    let mut bands = Vec::new();
    let mut current: Option<(i64, String)> = initial.map(|state| (from_ms, state.to_owned()));
    for (at, state) in changes {
        let at = (*at).clamp(from_ms, to_ms);
        if let Some((start, previous)) = current.take()
            && at > start
        {
            bands.push(Band { start_ms: start, end_ms: at, state: previous });
        }
        current = Some((at, state.clone()));
    }
    if let Some((start, state)) = current
        && to_ms > start
    {
        bands.push(Band { start_ms: start, end_ms: to_ms, state });
    }
    bands
}

const WIDTH: f64 = 800.0;
const LABEL: f64 = 200.0;
const ROW: f64 = 26.0;

/// Each alarm's state over the timeline's range, one row per alarm.
#[component]
pub fn TimelineChart(timeline: Timeline) -> impl IntoView {
    let span = (timeline.to_ms - timeline.from_ms).max(1) as f64;
    let x = move |ms: i64| LABEL + (ms - timeline.from_ms) as f64 / span * (WIDTH - LABEL);
    let height = ROW * timeline.series.len().max(1) as f64 + 24.0;
    let rows = timeline
        .series
        .iter()
        .enumerate()
        .map(|(row, series)| {
            let y = row as f64 * ROW;
            let bands = bands(series.initial_state.as_deref(), &series.changes, timeline.from_ms, timeline.to_ms)
                .into_iter()
                .map(|band| {
                    let left = x(band.start_ms);
                    let width = (x(band.end_ms) - left).max(1.0);
                    view! {
                        <rect class=state_class(&band.state) x=left y=y + 4.0 width=width height=ROW - 8.0>
                            <title>{format!("{}: {}", series.alarm_name, band.state)}</title>
                        </rect>
                    }
                })
                .collect_view();
            view! {
                <g>
                    <text class="chart-label" x="0" y=y + ROW / 2.0 + 4.0>{series.alarm_name.clone()}</text>
                    {bands}
                </g>
            }
        })
        .collect_view();
    let axis_y = height - 6.0;
    let from = short_time(timeline.from_ms);
    let to = short_time(timeline.to_ms);
    let empty = timeline.series.is_empty();
    view! {
        <svg
            class="chart timeline"
            role="img"
            aria-label="Alarm states over time"
            viewBox=format!("0 0 {WIDTH} {height}")
            preserveAspectRatio="xMinYMin meet"
        >
            {rows}
            {empty.then(|| view! { <text class="chart-label" x=LABEL y="16">"No state changes in this range"</text> })}
            <text class="chart-axis" x=LABEL y=axis_y>{from}</text>
            <text class="chart-axis" x=WIDTH y=axis_y text-anchor="end">{to}</text>
        </svg>
        <p class="legend">
            <span class="swatch state-ok"></span>"OK "
            <span class="swatch state-alarm"></span>"ALARM "
            <span class="swatch state-insufficient"></span>"INSUFFICIENT_DATA"
        </p>
    }
}

/// The datapoints an evaluation looked at, with the threshold as a dashed line.
#[component]
pub fn DatapointChart(datapoints: Vec<ReasonDatapoint>, threshold: Option<f64>) -> impl IntoView {
    const W: f64 = 400.0;
    const H: f64 = 120.0;
    const PAD: f64 = 10.0;
    let values: Vec<f64> = datapoints.iter().map(|p| p.value).chain(threshold).collect();
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min).min(0.0);
    let range = if max > min { max - min } else { 1.0 };
    let y = move |value: f64| H - PAD - (value - min) / range * (H - 2.0 * PAD);
    let count = datapoints.len();
    let x = move |index: usize| {
        if count <= 1 { W / 2.0 } else { PAD + index as f64 / (count - 1) as f64 * (W - 2.0 * PAD) }
    };
    let points: String = datapoints
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.value)))
        .collect::<Vec<_>>()
        .join(" ");
    let dots = datapoints
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let label =
                format!("{}{}", p.value, p.timestamp.as_deref().map(|t| format!(" at {t}")).unwrap_or_default());
            view! { <circle class="chart-point" cx=x(i) cy=y(p.value) r="4"><title>{label}</title></circle> }
        })
        .collect_view();
    view! {
        <svg class="chart datapoints" role="img" aria-label="Datapoints that caused the change" viewBox=format!("0 0 {W} {H}")>
            {threshold.map(|t| view! {
                <line class="chart-threshold" x1="0" x2=W y1=y(t) y2=y(t)><title>{format!("Threshold {t}")}</title></line>
            })}
            <polyline class="chart-line" points=points></polyline>
            {dots}
        </svg>
    }
}

/// A metric's datapoints over [from_ms, to_ms] as bars, one per period,
/// with the alarm's threshold as a dashed line (the Testing page's live view).
#[component]
pub fn MetricChart(
    points: Vec<MetricPoint>,
    threshold: Option<f64>,
    from_ms: i64,
    to_ms: i64,
    period_ms: i64,
) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 20.0;
    let span = (to_ms - from_ms).max(1) as f64;
    let x = move |ms: i64| (ms - from_ms) as f64 / span * W;
    // Headroom above the threshold so the line never sits on the frame.
    let max = points.iter().map(|p| p.value).chain(threshold.map(|t| t * 1.5 + 1.0)).fold(1.0_f64, f64::max);
    let y = move |value: f64| H - BOTTOM - value / max * (H - TOP - BOTTOM);
    let bar_width = (period_ms.max(1) as f64 / span * W).max(2.0);
    let bars = points
        .iter()
        .filter(|p| p.timestamp_ms >= from_ms && p.timestamp_ms <= to_ms)
        .map(|p| {
            let breaching = threshold.is_some_and(|t| p.value > t);
            let class = if breaching { "chart-bar chart-bar-breaching" } else { "chart-bar" };
            let top = y(p.value);
            view! {
                <rect class=class x=x(p.timestamp_ms) y=top width=bar_width height=(H - BOTTOM - top).max(0.0)>
                    <title>{format!("{} at {}", p.value, clock_time(p.timestamp_ms))}</title>
                </rect>
            }
        })
        .collect_view();
    let empty = points.is_empty();
    view! {
        <svg class="chart metric" role="img" aria-label="Metric datapoints and threshold" viewBox=format!("0 0 {W} {H}")>
            {bars}
            {threshold.map(|t| view! {
                <line class="chart-threshold" x1="0" x2=W y1=y(t) y2=y(t)><title>{format!("Threshold {t}")}</title></line>
                <text class="chart-axis" x=W - 4.0 y=y(t) - 4.0 text-anchor="end">{format!("threshold {t}")}</text>
            })}
            {empty.then(|| view! { <text class="chart-label" x="8" y="24">"No datapoints yet"</text> })}
            <text class="chart-axis" x="0" y=H - 4.0>{clock_time(from_ms)}</text>
            <text class="chart-axis" x=W y=H - 4.0 text-anchor="end">{clock_time(to_ms)}</text>
        </svg>
    }
}

/// Epoch ms as `HH:MM:SS` UTC, for charts spanning minutes.
pub fn clock_time(ms: i64) -> String {
    let in_day = ms.rem_euclid(86_400_000) / 1000;
    format!("{:02}:{:02}:{:02} UTC", in_day / 3600, in_day % 3600 / 60, in_day % 60)
}

/// Epoch ms as `MM-DD HH:MM` UTC, for axis labels.
fn short_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000) / 1000;
    // Civil-from-days (Howard Hinnant's algorithm), to avoid a date crate in the browser bundle.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{month:02}-{day:02} {:02}:{:02} UTC", in_day / 3600, in_day % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_the_range_from_the_first_known_state() {
        let changes = vec![(150, "ALARM".to_owned()), (180, "OK".to_owned())];
        assert_eq!(
            bands(Some("OK"), &changes, 100, 200),
            vec![
                Band { start_ms: 100, end_ms: 150, state: "OK".into() },
                Band { start_ms: 150, end_ms: 180, state: "ALARM".into() },
                Band { start_ms: 180, end_ms: 200, state: "OK".into() },
            ]
        );
        assert_eq!(
            bands(None, &changes[..1], 100, 200),
            vec![Band { start_ms: 150, end_ms: 200, state: "ALARM".into() }]
        );
    }

    #[test]
    fn axis_times_are_utc() {
        assert_eq!(short_time(1_795_751_378_123), "11-27 03:49 UTC");
        assert_eq!(clock_time(1_795_751_378_123), "03:49:38 UTC");
    }
}
