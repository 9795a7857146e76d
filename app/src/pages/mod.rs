//! One module per console page.

pub mod connection;
pub mod lab;
pub mod not_found;
