//! Components shared by every page: the console's layout, its feedback
//! panels, its charts, and how the wizard shows a stack.

pub mod aws_status;
pub mod chart;
pub mod feedback;
pub mod field;
pub mod layout;
pub mod stack;
