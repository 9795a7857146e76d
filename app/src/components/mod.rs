//! Components shared by every page: the console's layout, its feedback
//! panels and its charts.

pub mod chart;
pub mod feedback;
pub mod layout;
