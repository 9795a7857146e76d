//! The alarm history poller: `DescribeAlarmHistory` for every item type of
//! each managed alarm, page by page, into `alarm_history`; then the
//! responses to the new transitions into ALARM ([`crate::responses`]).
//!
//! It resumes from the newest item it stored for each alarm (less a small
//! overlap, because an item can become visible after a newer one), and
//! relies on the table's natural key to store each item exactly once.
//! AWS keeps alarm history for 14 days, so a poller stopped longer loses the
//! oldest items: that limit is AWS's.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>

use tokio::sync::watch;

use super::{Backoff, PollerConfig, now_ms, sleep_or_stop};
use crate::aws::Aws;
use crate::db::Database;
use crate::error::ServerError;

/// This poller's name in `poller_cursors`.
pub const POLLER: &str = "alarm-history";

/// How far before its resume point the poller asks again; items already
/// stored in the overlap are skipped by the natural key.
pub const OVERLAP_MS: i64 = 5 * 60 * 1000;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundStats {
    pub alarms: usize,
    pub fetched: u64,
    pub stored: u64,
    pub deleted_by_retention: u64,
    /// Responses recorded for new alarm episodes.
    pub responses_recorded: usize,
}

/// One round: every managed alarm's new history, then retention.
pub async fn poll_once(aws: &Aws, db: &Database, config: &PollerConfig) -> Result<RoundStats, ServerError> {
    let discovered = super::discover_managed(aws, db, &config.lab_prefix).await?;
    let cloudwatch = aws.cloudwatch();
    let mut stats = RoundStats { alarms: discovered.managed_alarms.len(), ..RoundStats::default() };
    for alarm in &discovered.managed_alarms {
        let cursor = db.poller_cursors().position(POLLER, &alarm.alarm_name).await?;
        let newest = db.alarm_history().newest_timestamp(&alarm.alarm_name).await?;
        let start_ms = cursor.max(newest).map(|resume| resume - OVERLAP_MS);
        let mut next_token = None;
        loop {
            let page = cloudwatch.describe_alarm_history(&alarm.alarm_name, start_ms, next_token.take()).await?;
            stats.fetched += page.items.len() as u64;
            stats.stored += db.alarm_history().insert_items(Some(&alarm.alarm_arn), &page.items, now_ms()).await?;
            // Pages come oldest first, so after each stored page the cursor
            // can move: a stop mid-way resumes from here.
            if let Some(newest) = page.items.iter().map(|item| item.timestamp_ms).max() {
                db.poller_cursors().advance(POLLER, &alarm.alarm_name, newest, now_ms()).await?;
            }
            match page.next_token {
                Some(token) => next_token = Some(token),
                None => break,
            }
        }
    }
    stats.deleted_by_retention = apply_retention(db).await?;
    // The episodes just stored are answered in the same round, so an
    // automatic response follows the alarm by one round at most.
    let responded = crate::responses::respond(aws, db, config.console_url.as_deref()).await?;
    stats.responses_recorded = responded.recorded;
    Ok(stats)
}

/// Deletes history and notifications older than the retention setting.
pub async fn apply_retention(db: &Database) -> Result<u64, ServerError> {
    let Some(days) = db.history_retention().keep_days().await? else { return Ok(0) };
    let cutoff = now_ms() - i64::from(days) * 24 * 60 * 60 * 1000;
    let deleted = db.alarm_history().delete_older_than(cutoff).await?;
    db.notifications().delete_older_than(cutoff).await?;
    Ok(deleted)
}

/// Polls every `config.interval` until `stopped` flips.
pub async fn run(aws: Aws, db: Database, config: PollerConfig, mut stopped: watch::Receiver<bool>) {
    let mut backoff = Backoff::default();
    let metrics = crate::metrics::global();
    metrics.poller_started(POLLER);
    loop {
        let wait = match poll_once(&aws, &db, &config).await {
            Ok(stats) => {
                backoff.succeeded(POLLER);
                metrics.poller_succeeded(POLLER);
                if stats.stored > 0 {
                    tracing::debug!(?stats, "alarm history stored");
                }
                config.interval
            }
            Err(error) => {
                metrics.poller_failed(POLLER, super::fault(&error));
                backoff.failed(POLLER, &error)
            }
        };
        if sleep_or_stop(wait, &mut stopped).await {
            return;
        }
    }
}
