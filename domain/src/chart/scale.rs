//! Linear maps from data (milliseconds or values) to SVG user units.

/// Maps `[d0, d1]` onto `[r0, r1]`; a degenerate domain maps to the middle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl LinearScale {
    /// A scale from the data interval `domain` to the drawing interval `range`.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        LinearScale { d0: domain.0, d1: domain.1, r0: range.0, r1: range.1 }
    }

    /// Where `value` is drawn; values outside the domain land outside the range.
    pub fn map(&self, value: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span == 0.0 || !span.is_finite() {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (value - self.d0) / span * (self.r1 - self.r0)
    }

    /// The data value drawn at `position`: the inverse of [`LinearScale::map`].
    pub fn invert(&self, position: f64) -> f64 {
        let span = self.r1 - self.r0;
        if span == 0.0 {
            return self.d0;
        }
        self.d0 + (position - self.r0) / span * (self.d1 - self.d0)
    }

    /// Like [`LinearScale::map`], clamped to the drawing interval, so a band
    /// that starts before the visible range starts at the plot's edge.
    pub fn map_clamped(&self, value: f64) -> f64 {
        let (lo, hi) = if self.r0 <= self.r1 { (self.r0, self.r1) } else { (self.r1, self.r0) };
        self.map(value).clamp(lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_inverts() {
        let scale = LinearScale::new((100.0, 200.0), (0.0, 50.0));
        assert_eq!(scale.map(150.0), 25.0);
        assert_eq!(scale.invert(25.0), 150.0);
        assert_eq!(scale.map_clamped(400.0), 50.0);
        // A value axis runs upwards: the range is reversed.
        let y = LinearScale::new((0.0, 10.0), (100.0, 0.0));
        assert_eq!(y.map(10.0), 0.0);
        assert_eq!(y.map_clamped(-5.0), 100.0);
    }

    #[test]
    fn a_degenerate_domain_maps_to_the_middle() {
        assert_eq!(LinearScale::new((5.0, 5.0), (0.0, 10.0)).map(5.0), 5.0);
    }
}
