//! The pure geometry of the console's charts: scales, axis ticks and their
//! labels, min/max downsampling per pixel column, state bands that stay
//! visible at any zoom, and the nearest datapoint under the pointer.
//!
//! The console draws its charts as SVG on the server and again in the
//! browser; everything that decides *where* things go lives here so both
//! sides agree and it is tested without a browser. Times are epoch
//! milliseconds and every label is UTC: the console never reads the
//! viewer's time zone, so the server-rendered SVG equals the hydrated one.

pub mod bands;
pub mod sample;
pub mod scale;
pub mod ticks;

pub use bands::{Band, MergedBand, state_bands, visible_bands};
pub use sample::{Column, data_extent, downsample, nearest_index};
pub use scale::LinearScale;
pub use ticks::{TimeTick, ValueTick, clock_time, date_time, format_value, time_ticks, value_ticks};
