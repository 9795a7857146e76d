//! Fitting a series to the pixels it is drawn on: the range the data
//! occupies, min/max per pixel column, and the datapoint under the pointer.
//!
//! Fifteen days of 10-second datapoints are 129,600 values; drawn one SVG
//! node each they make a page the browser chokes on and that reads no
//! better. One column per pixel keeping the minimum and the maximum draws
//! the same picture (a one-period spike stays visible) with at most one
//! node per pixel.

/// The datapoints that fall into one pixel column of the plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// The first datapoint's time in the column.
    pub start_ms: i64,
    /// The last datapoint's time (or bucket end) in the column.
    pub end_ms: i64,
    pub min: f64,
    pub max: f64,
    /// How many datapoints it merges.
    pub count: usize,
}

/// Merges `points` — `(start_ms, end_ms, min, max)`, sorted by start — that
/// overlap `[from_ms, to_ms]` into at most `columns` columns of equal time width.
/// Points outside the range and non-finite values are left out.
pub fn downsample(
    points: impl IntoIterator<Item = (i64, i64, f64, f64)>,
    from_ms: i64,
    to_ms: i64,
    columns: usize,
) -> Vec<Column> {
    let span = (to_ms - from_ms).max(1) as f64;
    let columns = columns.max(1);
    let mut out: Vec<(usize, Column)> = Vec::new();
    for (start, end, min, max) in points {
        if end < from_ms || start > to_ms || !min.is_finite() || !max.is_finite() {
            continue;
        }
        let at = start.max(from_ms);
        let slot = (((at - from_ms) as f64 / span * columns as f64) as usize).min(columns - 1);
        match out.last_mut() {
            Some((last_slot, column)) if *last_slot == slot => {
                column.end_ms = column.end_ms.max(end);
                column.min = column.min.min(min);
                column.max = column.max.max(max);
                column.count += 1;
            }
            _ => out.push((slot, Column { start_ms: start, end_ms: end, min, max, count: 1 })),
        }
    }
    out.into_iter().map(|(_, column)| column).collect()
}

/// The range `[first, last]` of `times`, widened to at least `min_span_ms`
/// and padded by a twentieth on each side so no mark sits on the frame.
/// `None` without any time.
pub fn data_extent(times: impl IntoIterator<Item = i64>, min_span_ms: i64) -> Option<(i64, i64)> {
    let (first, last) = times
        .into_iter()
        .fold(None, |acc: Option<(i64, i64)>, t| Some(acc.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t)))))?;
    let missing = (min_span_ms - (last - first)).max(0);
    let (first, last) = (first - missing / 2, last + (missing - missing / 2));
    let pad = (last - first) / 20;
    Some((first - pad, last + pad))
}

/// The index of the time in sorted `times` nearest to `ms` (the earlier on a tie).
pub fn nearest_index(times: &[i64], ms: i64) -> Option<usize> {
    let after = times.partition_point(|t| *t < ms);
    match (after.checked_sub(1), times.get(after)) {
        (Some(before), Some(next)) => {
            let before_gap = ms - times.get(before).copied().unwrap_or(ms);
            Some(if next - ms < before_gap { after } else { before })
        }
        (Some(before), None) => Some(before),
        (None, Some(_)) => Some(after),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_days_of_ten_second_data_fit_in_the_columns() {
        let day = 86_400_000;
        let points = (0..129_600i64).map(|i| (i * 10_000, i * 10_000 + 10_000, (i % 7) as f64, (i % 7) as f64));
        let columns = downsample(points, 0, 15 * day, 600);
        assert_eq!(columns.len(), 600);
        assert_eq!(columns.iter().map(|c| c.count).sum::<usize>(), 129_600);
        assert!(columns.iter().all(|c| c.min == 0.0 && c.max == 6.0));
    }

    #[test]
    fn a_single_spike_survives_downsampling() {
        let points = (0..1_000i64).map(|i| {
            let v = if i == 517 { 9.0 } else { 1.0 };
            (i, i + 1, v, v)
        });
        let columns = downsample(points, 0, 1_000, 10);
        assert_eq!(columns.iter().filter(|c| c.max == 9.0).count(), 1);
        assert_eq!(columns.iter().map(|c| c.max).fold(0.0, f64::max), 9.0);
    }

    #[test]
    fn points_outside_the_view_are_left_out() {
        let points = [(0, 10, 1.0, 1.0), (50, 60, 2.0, 2.0), (200, 210, 3.0, 3.0), (70, 80, f64::NAN, f64::NAN)];
        let columns = downsample(points, 40, 100, 100);
        assert_eq!(columns.len(), 1);
        assert_eq!(columns[0].max, 2.0);
    }

    #[test]
    fn the_extent_is_padded_and_never_empty() {
        assert_eq!(data_extent([100, 300, 200], 0), Some((90, 310)));
        assert_eq!(data_extent([1_000], 200), Some((890, 1_110)));
        assert_eq!(data_extent([], 10), None);
    }

    #[test]
    fn the_nearest_time_wins() {
        let times = [10, 20, 40];
        assert_eq!(nearest_index(&times, 0), Some(0));
        assert_eq!(nearest_index(&times, 15), Some(0));
        assert_eq!(nearest_index(&times, 16), Some(1));
        assert_eq!(nearest_index(&times, 31), Some(2));
        assert_eq!(nearest_index(&times, 99), Some(2));
        assert_eq!(nearest_index(&[], 5), None);
    }
}
