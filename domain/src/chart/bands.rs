//! Time bands: a state series cut into `[start, end)` stretches, and the
//! ALARM stretches made visible at any zoom.
//!
//! A ten-second ALARM on a fifteen-day axis is a thousandth of a pixel
//! wide. [`visible_bands`] merges stretches closer than the minimum width
//! and widens the rest to it, keeping the real times and how many
//! stretches each drawn band stands for, so the hover can tell the truth.

/// One stretch of a state series, `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band<S> {
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: S,
}

/// Cuts a series — the state at `from_ms` (if known) and `(at, new state)`
/// changes, oldest first — into bands over `[from_ms, to_ms]`. The time
/// before the first known state is left out.
pub fn state_bands<S: Clone>(initial: Option<&S>, changes: &[(i64, S)], from_ms: i64, to_ms: i64) -> Vec<Band<S>> {
    let mut bands = Vec::new();
    let mut current: Option<(i64, S)> = initial.map(|state| (from_ms, state.clone()));
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

/// A band as drawn: the real span it covers and the (possibly widened) span drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergedBand {
    /// Start of the first merged stretch.
    pub start_ms: i64,
    /// End of the last merged stretch.
    pub end_ms: i64,
    /// How many stretches it stands for.
    pub count: usize,
    /// What is drawn: at least `min_width_ms` wide, inside the view.
    pub draw_start_ms: i64,
    pub draw_end_ms: i64,
}

/// The `intervals` (sorted `[start, end)`) that overlap `[from_ms, to_ms]`,
/// merged when the gap between them is under `min_width_ms` and drawn at
/// least `min_width_ms` wide (one or two pixels' worth of time at the
/// current zoom), clipped to the view.
pub fn visible_bands(intervals: &[(i64, i64)], from_ms: i64, to_ms: i64, min_width_ms: i64) -> Vec<MergedBand> {
    let min_width_ms = min_width_ms.max(1);
    let mut merged: Vec<MergedBand> = Vec::new();
    for &(start, end) in intervals.iter().filter(|(start, end)| *end >= from_ms && *start <= to_ms) {
        match merged.last_mut() {
            Some(last) if start - last.end_ms < min_width_ms => {
                last.end_ms = last.end_ms.max(end);
                last.count += 1;
            }
            _ => merged.push(MergedBand { start_ms: start, end_ms: end, count: 1, draw_start_ms: 0, draw_end_ms: 0 }),
        }
    }
    for band in &mut merged {
        let (start, end) = (band.start_ms.max(from_ms), band.end_ms.min(to_ms));
        let missing = (min_width_ms - (end - start)).max(0);
        let mut draw_start = start - missing / 2;
        let mut draw_end = end + (missing - missing / 2);
        // Widened at an edge of the view: grow inwards instead.
        if draw_start < from_ms {
            draw_end += from_ms - draw_start;
            draw_start = from_ms;
        }
        if draw_end > to_ms {
            draw_start = (draw_start - (draw_end - to_ms)).max(from_ms);
            draw_end = to_ms;
        }
        band.draw_start_ms = draw_start;
        band.draw_end_ms = draw_end;
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_the_range_from_the_first_known_state() {
        let changes = vec![(150, "ALARM"), (180, "OK")];
        assert_eq!(
            state_bands(Some(&"OK"), &changes, 100, 200),
            vec![
                Band { start_ms: 100, end_ms: 150, state: "OK" },
                Band { start_ms: 150, end_ms: 180, state: "ALARM" },
                Band { start_ms: 180, end_ms: 200, state: "OK" },
            ]
        );
        assert_eq!(
            state_bands(None, &changes[..1], 100, 200),
            vec![Band { start_ms: 150, end_ms: 200, state: "ALARM" }]
        );
    }

    #[test]
    fn a_ten_second_alarm_stays_visible_on_fifteen_days() {
        let day = 86_400_000;
        // Two pixels of an 800-pixel plot over 15 days.
        let min_width = 15 * day / 400;
        let bands = visible_bands(&[(5 * day, 5 * day + 10_000)], 0, 15 * day, min_width);
        assert_eq!(bands.len(), 1);
        assert_eq!(bands[0].draw_end_ms - bands[0].draw_start_ms, min_width);
        assert_eq!((bands[0].start_ms, bands[0].end_ms), (5 * day, 5 * day + 10_000));
    }

    #[test]
    fn close_bands_merge_and_count() {
        let bands = visible_bands(&[(0, 10), (15, 20), (100, 200)], 0, 1_000, 10);
        assert_eq!(bands.len(), 2);
        assert_eq!((bands[0].start_ms, bands[0].end_ms, bands[0].count), (0, 20, 2));
        assert_eq!((bands[1].draw_start_ms, bands[1].draw_end_ms), (100, 200));
    }

    #[test]
    fn widened_bands_stay_inside_the_view() {
        let bands = visible_bands(&[(-50, 1), (998, 1_000)], 0, 1_000, 20);
        assert_eq!((bands[0].draw_start_ms, bands[0].draw_end_ms), (0, 20));
        assert_eq!((bands[1].draw_start_ms, bands[1].draw_end_ms), (980, 1_000));
        assert!(visible_bands(&[(2_000, 3_000)], 0, 1_000, 20).is_empty());
    }
}
