//! The console's time charts on the shared [`super::Chart`]: History's alarm
//! states over time, the Testing page's live metric, and the datapoints one
//! state change looked at.

use keywatch_domain::alarm::reason::parse_aws_timestamp;
use keywatch_domain::chart::{clock_time, date_time, state_bands};
use leptos::prelude::*;

use super::{
    BandRow, Chart, ChartSpec, ChartState, HoverPoint, PlotKind, PlotPoint, ThresholdMark, ValuePlot, value_text,
};
use crate::api::attack::MetricPoint;
use crate::api::history::{ReasonDatapoint, Timeline};

/// The fill for a CloudWatch state value.
fn state_class(state: &str) -> &'static str {
    match state {
        "ALARM" => "state-alarm",
        "OK" => "state-ok",
        _ => "state-insufficient",
    }
}

/// Datapoints as one bar per period from each start, with the threshold
/// labelled and bars above it marked breaching.
fn datapoint_bars(points: impl Iterator<Item = (i64, f64)>, period_ms: i64, threshold: Option<f64>) -> ValuePlot {
    ValuePlot {
        kind: PlotKind::Bars,
        points: points
            .map(|(at, value)| PlotPoint { start_ms: at, end_ms: at + period_ms, min: value, max: value })
            .collect(),
        caption: format!("Datapoints per {} s", period_ms / 1_000),
        thresholds: threshold
            .map(|t| ThresholdMark {
                value: t,
                label: format!("threshold {}", value_text(t)),
                class: "chart-threshold",
            })
            .into_iter()
            .collect(),
        breach_above: threshold,
    }
}

/// Each alarm's state over the timeline's range, one row per alarm, opened
/// on the stretch where states changed.
#[component]
pub fn TimelineChart(timeline: Timeline) -> impl IntoView {
    let (from, to) = (timeline.from_ms, timeline.to_ms);
    let mut hover: Vec<HoverPoint> = Vec::new();
    let rows: Vec<BandRow> = timeline
        .series
        .iter()
        .map(|series| {
            let bands = state_bands(series.initial_state.as_ref(), &series.changes, from, to);
            let mut previous = series.initial_state.clone().unwrap_or_else(|| "no data".to_owned());
            for (at, state) in &series.changes {
                hover.push(HoverPoint {
                    ms: *at,
                    text: format!("{} {}: {previous} → {state}", clock_time(*at), series.alarm_name),
                });
                previous = state.clone();
            }
            BandRow {
                label: series.alarm_name.clone(),
                bands: bands
                    .iter()
                    .filter(|b| b.state != "ALARM")
                    .map(|b| (b.start_ms, b.end_ms, state_class(&b.state)))
                    .collect(),
                alarms: bands.iter().filter(|b| b.state == "ALARM").map(|b| (b.start_ms, b.end_ms)).collect(),
            }
        })
        .collect();
    hover.sort_by_key(|h| h.ms);
    let changes: usize = timeline.series.iter().map(|s| s.changes.len()).sum();
    let alarms: usize =
        timeline.series.iter().map(|s| s.changes.iter().filter(|(_, state)| state == "ALARM").count()).sum();
    let summary = format!(
        "{} alarms, {changes} state changes ({alarms} into ALARM) between {} and {}.",
        timeline.series.len(),
        date_time(from),
        date_time(to)
    );
    let spec = ChartSpec {
        title: "Alarm states over time".to_owned(),
        summary,
        plot: None,
        rows,
        hover,
        full_range: (from, to),
        // Without a change in the range, a state held all along is the data.
        min_span_ms: if changes == 0 { to - from } else { 5 * 60_000 },
        empty_text: "No state changes in this range".to_owned(),
    };
    view! {
        <Chart spec testid="timeline-chart" />
        <p class="legend">
            <span class="swatch state-ok"></span>"OK "
            <span class="swatch state-alarm"></span>"ALARM "
            <span class="swatch state-insufficient"></span>"INSUFFICIENT_DATA"
            " — ALARM stretches stay at least 2 px wide at any zoom; point at a change for its time."
        </p>
    }
}

/// A metric's datapoints as bars, one per period, with the alarm's threshold
/// (the Testing page's live view). `state` keeps the chosen range and the
/// hovered datapoint while the page refreshes every second.
#[component]
pub fn MetricChart(
    points: Vec<MetricPoint>,
    threshold: Option<f64>,
    from_ms: i64,
    to_ms: i64,
    period_ms: i64,
    #[prop(optional)] state: Option<ChartState>,
) -> impl IntoView {
    let period_ms = period_ms.max(1);
    let mut points: Vec<MetricPoint> =
        points.into_iter().filter(|p| p.timestamp_ms >= from_ms && p.timestamp_ms <= to_ms).collect();
    points.sort_by_key(|p| p.timestamp_ms);
    let hover = points
        .iter()
        .map(|p| HoverPoint {
            ms: p.timestamp_ms,
            text: format!("{}: {}", clock_time(p.timestamp_ms), value_text(p.value)),
        })
        .collect();
    let breaching = threshold.map_or(0, |t| points.iter().filter(|p| p.value > t).count());
    let summary = format!(
        "{} datapoints between {} and {}{}.",
        points.len(),
        date_time(from_ms),
        date_time(to_ms),
        threshold.map(|t| format!("; {breaching} above the threshold {}", value_text(t))).unwrap_or_default()
    );
    let spec = ChartSpec {
        title: "Metric datapoints and threshold".to_owned(),
        summary,
        plot: Some(datapoint_bars(points.iter().map(|p| (p.timestamp_ms, p.value)), period_ms, threshold)),
        rows: Vec::new(),
        hover,
        full_range: (from_ms, to_ms),
        min_span_ms: 10 * period_ms,
        empty_text: "No datapoints yet".to_owned(),
    };
    match state {
        Some(state) => view! { <Chart spec state testid="metric-chart" /> }.into_any(),
        None => view! { <Chart spec testid="metric-chart" /> }.into_any(),
    }
}

/// The datapoints an evaluation looked at, as bars on a UTC time axis with
/// the threshold labelled. AWS lists only values under `recentDatapoints`
/// when no evaluated datapoint carries a timestamp; those are drawn in
/// evaluation order without a time axis.
#[component]
pub fn DatapointChart(
    datapoints: Vec<ReasonDatapoint>,
    threshold: Option<f64>,
    period_seconds: Option<i64>,
) -> impl IntoView {
    let timed: Option<Vec<(i64, f64)>> =
        datapoints.iter().map(|p| Some((parse_aws_timestamp(p.timestamp.as_deref()?)?, p.value))).collect();
    match timed {
        Some(timed) if !timed.is_empty() => {
            view! { <TimedDatapointChart datapoints=timed threshold period_seconds /> }.into_any()
        }
        _ => view! { <OrderedDatapointChart datapoints threshold /> }.into_any(),
    }
}

/// Datapoints with their period starts on the shared chart.
#[component]
fn TimedDatapointChart(
    mut datapoints: Vec<(i64, f64)>,
    threshold: Option<f64>,
    period_seconds: Option<i64>,
) -> impl IntoView {
    datapoints.sort_by_key(|(at, _)| *at);
    // Without the period in the reason data, the closest two datapoints
    // are one period apart at most; a lone one is drawn a minute wide.
    let gap = datapoints.windows(2).map(|pair| pair[1].0 - pair[0].0).filter(|gap| *gap > 0).min();
    let period_ms = period_seconds.filter(|s| *s > 0).map(|s| s * 1_000).or(gap).unwrap_or(60_000);
    let (first, last) = (datapoints.first().map_or(0, |p| p.0), datapoints.last().map_or(0, |p| p.0 + period_ms));
    let breaching = threshold.map_or(0, |t| datapoints.iter().filter(|(_, v)| *v > t).count());
    let summary = format!(
        "{} datapoints from {} to {}{}.",
        datapoints.len(),
        date_time(first),
        date_time(last),
        threshold.map(|t| format!("; {breaching} above the threshold {}", value_text(t))).unwrap_or_default()
    );
    let spec = ChartSpec {
        title: "Datapoints that caused the change".to_owned(),
        summary,
        plot: Some(datapoint_bars(datapoints.iter().copied(), period_ms, threshold)),
        rows: Vec::new(),
        hover: datapoints
            .iter()
            .map(|(at, value)| HoverPoint { ms: *at, text: format!("{}: {}", date_time(*at), value_text(*value)) })
            .collect(),
        // A period either side, so the first and last bars stand clear of the frame.
        full_range: (first - period_ms, last + period_ms),
        min_span_ms: 6 * period_ms,
        empty_text: "No datapoints".to_owned(),
    };
    view! { <Chart spec testid="datapoint-chart" /> }
}

/// Values without timestamps, in evaluation order, with the threshold dashed.
#[component]
fn OrderedDatapointChart(datapoints: Vec<ReasonDatapoint>, threshold: Option<f64>) -> impl IntoView {
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
