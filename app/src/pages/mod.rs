//! One module per console page.

pub mod connection;
pub mod not_found;
