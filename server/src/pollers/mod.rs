//! Background work that follows AWS on its own schedule and records what it
//! sees in SQLite, so pages read the database instead of waiting on AWS.

pub mod stack_watcher;
