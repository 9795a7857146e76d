//! The console's one time chart, drawn as inline SVG on the server and again
//! in the browser (no JavaScript chart library: the CSP allows only the
//! console's own script). It has a UTC time axis with ticks at round
//! times, a value axis with ticks, thresholds drawn and labelled, rows of
//! state bands in which ALARM stays at least two pixels wide at any zoom,
//! range buttons (fit to data, the last 15 min … 15 days, all), and the
//! nearest datapoint's time and value under the pointer.
//!
//! Without JavaScript the server's SVG is the whole chart, opened on the
//! data's extent; the range buttons and the hover need hydration. Where
//! things go is decided by [`keywatch_domain::chart`]; this module only
//! turns it into SVG. [`views`] holds the three charts built on it.

pub mod views;

use keywatch_domain::chart::{
    LinearScale, data_extent, date_time, downsample, format_value, nearest_index, time_ticks, value_ticks,
    visible_bands,
};
use leptos::prelude::*;

pub use views::{DatapointChart, MetricChart, TimelineChart};

/// SVG user units; the SVG scales to its container's width.
const WIDTH: f64 = 800.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const PLOT_HEIGHT: f64 = 170.0;
const ROW_HEIGHT: f64 = 22.0;
const AXIS_HEIGHT: f64 = 34.0;
/// ALARM bands are never drawn narrower than this many user units.
const MIN_BAND_WIDTH: f64 = 2.0;
/// Datapoints are never drawn narrower (nor, as a range, shorter) than this.
const MIN_MARK: f64 = 3.0;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;
/// The range buttons: label and span, shown when shorter than the whole range.
const SPANS: [(&str, i64); 6] = [
    ("15 min", 15 * MINUTE),
    ("1 h", 60 * MINUTE),
    ("6 h", 360 * MINUTE),
    ("1 d", DAY),
    ("7 d", 7 * DAY),
    ("15 d", 15 * DAY),
];

/// How the value series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    /// A bar from zero to each column's maximum (counts per period).
    Bars,
    /// Each column's minimum-to-maximum range (buckets already summarised).
    Range,
}

/// The range a chart shows, resolved against its data at each render, so a
/// refreshing chart keeps following its data ("the last 15 min" of a live
/// window moves with it) and the pressed button stays pressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RangeChoice {
    /// The data's extent, padded.
    #[default]
    Fit,
    /// The last this many milliseconds of the whole range.
    Last(i64),
    /// The whole range the data was fetched for.
    All,
}

impl RangeChoice {
    /// The `(from, to)` this choice shows for a chart fitted at `fit` over `full`.
    pub fn resolve(self, fit: (i64, i64), full: (i64, i64)) -> (i64, i64) {
        match self {
            RangeChoice::Fit => fit,
            RangeChoice::Last(span) => (full.1 - span, full.1),
            RangeChoice::All => full,
        }
    }
}

/// What a reader chose on a chart that must outlive the chart itself: a
/// page refreshing every second draws a new chart each time, and the chosen
/// range and the hovered datapoint stay where the reader left them.
#[derive(Debug, Clone, Copy)]
pub struct ChartState {
    pub range: RwSignal<RangeChoice>,
    /// The time under the pointer; `None` while the pointer is elsewhere.
    pub pointer_ms: RwSignal<Option<i64>>,
}

impl ChartState {
    /// Fitted to the data, nothing hovered.
    pub fn new() -> Self {
        ChartState { range: RwSignal::new(RangeChoice::Fit), pointer_ms: RwSignal::new(None) }
    }
}

impl Default for ChartState {
    fn default() -> Self {
        ChartState::new()
    }
}

/// One datapoint or bucket: `[start_ms, end_ms)` with its value range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotPoint {
    pub start_ms: i64,
    pub end_ms: i64,
    pub min: f64,
    pub max: f64,
}

/// A labelled horizontal line across the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdMark {
    pub value: f64,
    pub label: String,
    /// `chart-threshold` (dashed) or `chart-threshold-proposed` (solid).
    pub class: &'static str,
}

/// The value part of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuePlot {
    pub kind: PlotKind,
    /// Sorted by start.
    pub points: Vec<PlotPoint>,
    /// What the values are, e.g. "Sum of KMSSecurityError per 10 s".
    pub caption: String,
    pub thresholds: Vec<ThresholdMark>,
    /// Bars above this value are drawn as breaching.
    pub breach_above: Option<f64>,
}

/// One row of state bands under the plot (or alone, for a timeline).
#[derive(Debug, Clone, PartialEq)]
pub struct BandRow {
    pub label: String,
    /// Non-ALARM stretches `[start, end)` with their CSS class, drawn as they are.
    pub bands: Vec<(i64, i64, &'static str)>,
    /// ALARM stretches, sorted: merged and widened to stay visible.
    pub alarms: Vec<(i64, i64)>,
}

/// What the hover says at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct HoverPoint {
    pub ms: i64,
    pub text: String,
}

/// Everything one chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// The accessible name, also the SVG's `<title>`.
    pub title: String,
    /// A one-sentence summary of what the data shows, the SVG's `<desc>`.
    pub summary: String,
    pub plot: Option<ValuePlot>,
    pub rows: Vec<BandRow>,
    /// Sorted by time.
    pub hover: Vec<HoverPoint>,
    /// The whole range the data was fetched for.
    pub full_range: (i64, i64),
    /// Fitting to the data never zooms in further than this.
    pub min_span_ms: i64,
    /// Shown in the plot when there is nothing to draw.
    pub empty_text: String,
}

impl ChartSpec {
    /// The data's extent (points, bands and hover instants), padded; the
    /// whole range without data.
    pub fn fit(&self) -> (i64, i64) {
        let points = self.plot.iter().flat_map(|p| p.points.iter().flat_map(|p| [p.start_ms, p.end_ms]));
        let alarms = self.rows.iter().flat_map(|r| r.alarms.iter().flat_map(|(s, e)| [*s, *e]));
        let hover = self.hover.iter().map(|h| h.ms);
        data_extent(points.chain(alarms).chain(hover), self.min_span_ms).unwrap_or(self.full_range)
    }

    fn label_width(&self) -> f64 {
        let longest = self.rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(0);
        // 12 px labels are about 6.5 units a character; long alarm names are cut.
        (longest as f64 * 6.5 + 12.0).clamp(if self.plot.is_some() { 56.0 } else { 0.0 }, 210.0).max(56.0)
    }

    fn height(&self) -> f64 {
        let plot = if self.plot.is_some() { PLOT_HEIGHT } else { 0.0 };
        TOP + plot + self.rows.len().max(usize::from(self.plot.is_none())) as f64 * ROW_HEIGHT + AXIS_HEIGHT
    }
}

/// A chart of `spec`. `state` keeps the chosen range and the hovered time
/// across re-renders of a refreshing page.
#[component]
pub fn Chart(
    spec: ChartSpec,
    #[prop(optional)] state: Option<ChartState>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let ChartState { range: chosen, pointer_ms } = state.unwrap_or_default();
    let fit = spec.fit();
    let full = spec.full_range;
    let view_range = Memo::new(move |_| chosen.get().resolve(fit, full));
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let left = spec.label_width();
    let height = spec.height();
    let times: Vec<i64> = spec.hover.iter().map(|h| h.ms).collect();
    // The datapoint nearest the pointer's time, within the shown range; a
    // memo, so moving within one datapoint's reach redraws nothing.
    let hover = Memo::new(move |_| {
        let (from, to) = view_range.get();
        let ms = pointer_ms.get()?;
        nearest_index(&times, ms).filter(|i| times.get(*i).is_some_and(|t| (from..=to).contains(t)))
    });

    let on_move = move |event: leptos::ev::PointerEvent| {
        let Some(svg) = svg_ref.get_untracked() else { return };
        let rect = svg.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let x = (f64::from(event.client_x()) - rect.left()) / rect.width() * WIDTH;
        let (from, to) = view_range.get_untracked();
        let scale = LinearScale::new((from as f64, to as f64), (left, WIDTH - RIGHT));
        pointer_ms.set(Some(scale.invert(x) as i64));
    };

    let spans: Vec<(&'static str, i64)> = SPANS.iter().copied().filter(|(_, span)| *span < full.1 - full.0).collect();
    let button = move |label: String, target: RangeChoice| {
        let pressed = move || (chosen.get() == target).to_string();
        view! {
            <button type="button" class="chart-range" aria-pressed=pressed on:click=move |_| chosen.set(target)>
                {label}
            </button>
        }
    };
    let title = spec.title.clone();
    let aria_title = spec.title.clone();
    let group_label = format!("Time range of {}", spec.title);
    let summary = spec.summary.clone();
    let body_spec = spec.clone();
    let hover_spec = spec.clone();

    view! {
        <div class="chart-box" data-testid=testid>
            <div class="chart-controls" role="group" aria-label=group_label>
                {button("Fit to data".to_owned(), RangeChoice::Fit)}
                {spans.into_iter().map(|(label, span)| button(label.to_owned(), RangeChoice::Last(span))).collect_view()}
                {button("All".to_owned(), RangeChoice::All)}
            </div>
            <svg
                node_ref=svg_ref
                class="chart"
                role="img"
                aria-label=aria_title
                viewBox=format!("0 0 {WIDTH} {height}")
                preserveAspectRatio="xMinYMin meet"
                on:pointermove=on_move
                on:pointerleave=move |_| pointer_ms.set(None)
            >
                <title>{title}</title>
                <desc>{summary}</desc>
                {move || body(&body_spec, view_range.get(), left)}
                {move || hover.get().and_then(|i| hover_spec.hover.get(i).cloned()).map(|point| {
                    hover_mark(&point, view_range.get(), left, height)
                })}
            </svg>
        </div>
    }
}

/// The chart's static part over `range`: axes, data, thresholds, bands.
fn body(spec: &ChartSpec, (from, to): (i64, i64), left: f64) -> impl IntoView + use<> {
    let x = LinearScale::new((from as f64, to as f64), (left, WIDTH - RIGHT));
    let plot_bottom = TOP + if spec.plot.is_some() { PLOT_HEIGHT } else { 0.0 };
    let rows_bottom = plot_bottom + spec.rows.len().max(usize::from(spec.plot.is_none())) as f64 * ROW_HEIGHT;
    let ms_per_unit = (to - from) as f64 / (WIDTH - RIGHT - left);

    let plot = spec.plot.as_ref().map(|plot| value_plot(plot, from, to, x, left, plot_bottom, &spec.empty_text));
    let rows = spec
        .rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let y = plot_bottom + index as f64 * ROW_HEIGHT + 3.0;
            let h = ROW_HEIGHT - 6.0;
            let plain = row
                .bands
                .iter()
                .filter(|(start, end, _)| *end > from && *start < to)
                .map(|(start, end, class)| {
                    let (x1, x2) = (x.map_clamped(*start as f64), x.map_clamped(*end as f64));
                    view! { <rect class=*class x=x1 y=y width=(x2 - x1).max(0.5) height=h></rect> }
                })
                .collect_view();
            let min_ms = (MIN_BAND_WIDTH * ms_per_unit).ceil() as i64;
            let alarms = visible_bands(&row.alarms, from, to, min_ms)
                .into_iter()
                .map(|band| {
                    let (x1, x2) = (x.map(band.draw_start_ms as f64), x.map(band.draw_end_ms as f64));
                    let what = if band.count > 1 { format!(" ({} ALARM periods)", band.count) } else { String::new() };
                    let text = format!(
                        "{}: ALARM from {} to {}{what}",
                        row.label,
                        date_time(band.start_ms),
                        date_time(band.end_ms)
                    );
                    view! { <rect class="state-alarm" x=x1 y=y width=(x2 - x1).max(MIN_BAND_WIDTH) height=h><title>{text}</title></rect> }
                })
                .collect_view();
            let label = truncate(&row.label, ((left - 12.0) / 6.5) as usize);
            view! {
                <g class="chart-row">
                    <text class="chart-label" x="0" y=y + h - 4.0><title>{row.label.clone()}</title>{label}</text>
                    {plain}
                    {alarms}
                </g>
            }
        })
        .collect_view();
    let empty_timeline = (spec.plot.is_none() && spec.rows.is_empty())
        .then(|| view! { <text class="chart-label" x=left y=TOP + 14.0>{spec.empty_text.clone()}</text> });
    let ticks = time_ticks(from, to, 8)
        .into_iter()
        .map(|tick| {
            let tx = x.map(tick.ms as f64);
            view! {
                <line class="chart-grid" x1=tx x2=tx y1=TOP y2=rows_bottom></line>
                <line class="chart-tick" x1=tx x2=tx y1=rows_bottom y2=rows_bottom + 4.0></line>
                <text class="chart-axis" x=tx y=rows_bottom + 16.0 text-anchor="middle">{tick.label}</text>
            }
        })
        .collect_view();
    view! {
        {plot}
        {rows}
        {empty_timeline}
        <g class="x-axis" data-from=from.to_string() data-to=to.to_string()>
            <line class="chart-frame" x1=left x2=WIDTH - RIGHT y1=rows_bottom y2=rows_bottom></line>
            {ticks}
            <text class="chart-axis chart-caption" x=WIDTH - RIGHT y=rows_bottom + 30.0 text-anchor="end">
                {format!("Time (UTC), {} to {}", date_time(from), date_time(to))}
            </text>
        </g>
    }
}

/// The value axis, gridlines, the downsampled series and the thresholds.
fn value_plot(
    plot: &ValuePlot,
    from: i64,
    to: i64,
    x: LinearScale,
    left: f64,
    bottom: f64,
    empty_text: &str,
) -> impl IntoView + use<> {
    let columns = downsample(
        plot.points.iter().map(|p| (p.start_ms, p.end_ms, p.min, p.max)),
        from,
        to,
        (WIDTH - RIGHT - left) as usize,
    );
    let low = columns.iter().map(|c| c.min).chain(plot.thresholds.iter().map(|t| t.value)).fold(0.0, f64::min);
    let high = columns.iter().map(|c| c.max).chain(plot.thresholds.iter().map(|t| t.value)).fold(1.0, f64::max);
    // Headroom so the highest bar or threshold never touches the frame.
    let ticks = value_ticks(low, high * 1.1, 5);
    let (y0, y1) = match (ticks.first(), ticks.last()) {
        (Some(first), Some(last)) => (first.value, last.value),
        _ => (low, high),
    };
    let y = LinearScale::new((y0, y1), (bottom, TOP));
    let axis = ticks
        .into_iter()
        .map(|tick| {
            let ty = y.map(tick.value);
            view! {
                <line class="chart-grid" x1=left x2=WIDTH - RIGHT y1=ty y2=ty></line>
                <text class="chart-axis" x=left - 6.0 y=ty + 4.0 text-anchor="end">{tick.label}</text>
            }
        })
        .collect_view();
    let marks = columns
        .iter()
        .map(|c| {
            let (x1, x2) = (x.map_clamped(c.start_ms as f64), x.map_clamped(c.end_ms as f64));
            // A lone datapoint over days is a fraction of a column: it is
            // drawn MIN_MARK wide (and a value range MIN_MARK tall) about
            // where it is, or the reader cannot find it.
            let width = (x2 - x1 - 0.3).max(MIN_MARK);
            let left_edge = (x1 + x2 - width) / 2.0;
            let (top, height) = match plot.kind {
                PlotKind::Bars => {
                    let (top, base) = (y.map(c.max), y.map(0.0_f64.max(y0)));
                    (top, (base - top).max(1.5))
                }
                PlotKind::Range => {
                    let (top, base) = (y.map(c.max), y.map(c.min));
                    let height = (base - top).max(MIN_MARK);
                    ((top + base - height) / 2.0, height)
                }
            };
            let breaching = plot.breach_above.is_some_and(|t| c.max > t);
            let class = if breaching { "chart-bar chart-bar-breaching" } else { "chart-bar" };
            view! { <rect class=class x=left_edge y=top width=width height=height></rect> }
        })
        .collect_view();
    // Labels sit above their line, top line first; one that would overlap
    // the label above it (thresholds close in value) goes below its line.
    let mut lines: Vec<(f64, &ThresholdMark)> = plot.thresholds.iter().map(|t| (y.map(t.value), t)).collect();
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut previous_label: Option<f64> = None;
    let thresholds = lines
        .into_iter()
        .map(|(ty, t)| {
            let label_y = match previous_label {
                Some(above) if ty - 4.0 - above < 12.0 => ty + 12.0,
                _ => ty - 4.0,
            };
            previous_label = Some(label_y);
            view! {
                <line class=t.class x1=left x2=WIDTH - RIGHT y1=ty y2=ty><title>{t.label.clone()}</title></line>
                <text class="chart-threshold-label" x=WIDTH - RIGHT - 4.0 y=label_y text-anchor="end">{t.label.clone()}</text>
            }
        })
        .collect_view();
    let empty = columns.is_empty().then(|| {
        view! { <text class="chart-label" x=left + 8.0 y=TOP + 24.0>{empty_text.to_owned()}</text> }
    });
    view! {
        <g class="y-axis">
            {axis}
            <line class="chart-frame" x1=left x2=left y1=TOP y2=bottom></line>
            <text class="chart-axis chart-caption" x=left + 4.0 y=TOP - 2.0>{plot.caption.clone()}</text>
        </g>
        <g class="chart-series">{marks}</g>
        {thresholds}
        {empty}
    }
}

/// The hover's cursor line and its label.
fn hover_mark(point: &HoverPoint, (from, to): (i64, i64), left: f64, height: f64) -> impl IntoView + use<> {
    let x = LinearScale::new((from as f64, to as f64), (left, WIDTH - RIGHT)).map(point.ms as f64);
    let text = point.text.clone();
    let width = text.chars().count() as f64 * 6.4 + 12.0;
    // The label sits right of the cursor unless it would leave the chart.
    let box_x = if x + 8.0 + width > WIDTH { (x - 8.0 - width).max(0.0) } else { x + 8.0 };
    view! {
        <g class="chart-hover" aria-hidden="true">
            <line class="chart-cursor" x1=x x2=x y1=TOP y2=height - AXIS_HEIGHT></line>
            <rect class="chart-hover-box" x=box_x y=TOP width=width height="20" rx="3"></rect>
            <text class="chart-hover-text" data-testid="chart-hover" x=box_x + 6.0 y=TOP + 14.0>{text}</text>
        </g>
    }
}

/// `text` cut to `max` characters with an ellipsis.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A value for hover text: at most three decimals, no trailing zeros.
pub fn value_text(value: f64) -> String {
    format_value(value, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(points: Vec<PlotPoint>) -> ChartSpec {
        ChartSpec {
            title: "t".into(),
            summary: "s".into(),
            plot: Some(ValuePlot {
                kind: PlotKind::Bars,
                points,
                caption: "c".into(),
                thresholds: Vec::new(),
                breach_above: None,
            }),
            rows: Vec::new(),
            hover: Vec::new(),
            full_range: (0, 15 * DAY),
            min_span_ms: 60_000,
            empty_text: "none".into(),
        }
    }

    #[test]
    fn the_chart_opens_on_the_data_not_the_whole_range() {
        let point = |at: i64| PlotPoint { start_ms: at, end_ms: at + 10_000, min: 1.0, max: 1.0 };
        let (from, to) = spec(vec![point(DAY), point(DAY + 400_000)]).fit();
        assert!(from < DAY && from > DAY - 60_000, "{from}");
        assert!(to > DAY + 410_000 && to < DAY + 500_000, "{to}");
        assert_eq!(spec(Vec::new()).fit(), (0, 15 * DAY));
    }

    #[test]
    fn long_labels_are_cut() {
        assert_eq!(truncate("pattern1-logging-alarm", 8), "pattern…");
        assert_eq!(truncate("OK", 8), "OK");
        assert_eq!(value_text(2.5), "2.5");
    }
}
