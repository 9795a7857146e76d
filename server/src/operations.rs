//! The server's side of the operations port ([`OperationsBackend`]): the
//! degraded-state panel's data, read from the pollers' state as recorded in
//! metrics (the same state `/healthz` reports).

use keywatch_app::api::operations::port::OperationsBackend;
use keywatch_app::api::operations::{AwsStatus, DegradedPoller};
use keywatch_app::error::AppError;

use crate::metrics;

/// The degraded-state panel's data, from the pollers' recorded state.
#[derive(Debug, Clone, Copy, Default)]
pub struct PollerStatus;

#[async_trait::async_trait]
impl OperationsBackend for PollerStatus {
    async fn aws_status(&self) -> Result<AwsStatus, AppError> {
        let degraded = metrics::global()
            .pollers()
            .into_iter()
            .filter_map(|(name, state)| {
                let failure = state.failing?;
                Some(DegradedPoller {
                    poller: name.to_owned(),
                    service: failure.service,
                    throttled: failure.throttled,
                    failed_rounds: failure.rounds,
                    since: utc_time(failure.since_ms),
                    message: failure.message,
                })
            })
            .collect();
        Ok(AwsStatus { degraded })
    }
}

/// `2026-11-27 07:40:12 UTC`.
fn utc_time(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&format).ok())
        .unwrap_or_default()
}
