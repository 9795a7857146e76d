//! Components shared by every page: the console's layout and its feedback
//! panels.

pub mod feedback;
pub mod layout;
