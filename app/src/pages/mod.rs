//! One module per console page.

pub mod alarms;
pub mod audit;
pub mod connection;
pub mod history;
pub mod lab;
pub mod not_found;
pub mod responses;
pub mod subscribers;
