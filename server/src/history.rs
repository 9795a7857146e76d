//! The server's side of the History page's port ([`HistoryBackend`]): the
//! stored alarm history read from SQLite (pages, timeline, one item's
//! detail) and the retention setting.

use async_trait::async_trait;
use keywatch_app::api::history::port::HistoryBackend;
use keywatch_app::api::history::{
    HistoryCursor, HistoryFilter, HistoryPage, HistoryRetention, ReasonDatapoint, StateChangeDetail, Timeline,
};
use keywatch_app::error::AppError;

use crate::clock::now_ms;
use crate::db::Database;
use crate::db::alarm_history::HistoryQuery;
use crate::db::audit::{AuditEntry, actions};

/// The History page's backend: SQLite only.
pub struct ServerHistory {
    db: Database,
}

/// How far back the timeline reaches when the filter sets no start.
const DEFAULT_TIMELINE_MS: i64 = 24 * 60 * 60 * 1000;

impl ServerHistory {
    pub fn new(db: Database) -> ServerHistory {
        ServerHistory { db }
    }
}

#[async_trait]
impl HistoryBackend for ServerHistory {
    async fn history_page(
        &self,
        filter: HistoryFilter,
        after: Option<HistoryCursor>,
        limit: u32,
    ) -> Result<HistoryPage, AppError> {
        let query = history_query(&filter)?;
        let entries = self.db.alarm_history().page(&query, after, limit).await?;
        let next = (entries.len() == limit as usize)
            .then(|| entries.last().map(|e| HistoryCursor { timestamp_ms: e.timestamp_ms, id: e.id }))
            .flatten();
        Ok(HistoryPage { entries, next })
    }

    async fn timeline(&self, filter: HistoryFilter) -> Result<Timeline, AppError> {
        let query = history_query(&filter)?;
        let to_ms = query.to_ms.unwrap_or_else(now_ms);
        let from_ms = query.from_ms.unwrap_or(to_ms - DEFAULT_TIMELINE_MS);
        let series = self.db.alarm_history().timeline(&query, from_ms, to_ms).await?;
        Ok(Timeline { from_ms, to_ms, series })
    }

    async fn state_change(&self, id: i64) -> Result<StateChangeDetail, AppError> {
        let stored =
            self.db.alarm_history().get(id).await?.ok_or_else(|| AppError::NotFound(format!("History item {id}")))?;
        let notifications = self.db.notifications().for_state_update(id).await?;
        Ok(state_change_detail(stored.entry, &stored.history_data, notifications))
    }

    async fn history_retention(&self) -> Result<HistoryRetention, AppError> {
        Ok(HistoryRetention { keep_days: self.db.history_retention().keep_days().await? })
    }

    async fn set_history_retention(&self, retention: HistoryRetention) -> Result<HistoryRetention, AppError> {
        let result = self.db.history_retention().set_keep_days(retention.keep_days).await.map_err(AppError::from);
        let target = match retention.keep_days {
            Some(days) => format!("keep {days} days"),
            None => "keep everything".to_owned(),
        };
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::HISTORY_RETENTION, target, &result))
            .await;
        result?;
        self.history_retention().await
    }
}

/// Resolves the page's filter: time range text to milliseconds.
pub fn history_query(filter: &HistoryFilter) -> Result<HistoryQuery, AppError> {
    let time = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|text| {
                parse_filter_time(text).ok_or_else(|| AppError::InvalidInput {
                    field: Some(field.to_owned()),
                    message: format!("{:?} is not a date and time such as 2026-11-27T03:50", clipped(text)),
                })
            })
            .transpose()
    };
    let (from_ms, to_ms) = (time("from", &filter.from)?, time("to", &filter.to)?);
    // An empty range is a mistake to point out, not "no history matches".
    if let (Some(from), Some(to)) = (from_ms, to_ms)
        && from > to
    {
        return Err(AppError::InvalidInput {
            field: Some("to".to_owned()),
            message: "To must be after From".to_owned(),
        });
    }
    Ok(HistoryQuery {
        alarm_name: filter.alarm.clone(),
        new_state: filter.state.clone(),
        item_type: filter.item_type.clone(),
        from_ms,
        to_ms,
        text: filter.text.clone(),
    })
}

/// The start of `text` for an error message: input is echoed so users see
/// what was refused, never whole (it could be megabytes).
fn clipped(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` (UTC, as `<input type="datetime-local">` sends)
/// or RFC 3339, to epoch milliseconds.
fn parse_filter_time(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        let seconds = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        time::PrimitiveDateTime::parse(text, &seconds)
            .or_else(|_| time::PrimitiveDateTime::parse(text, &minutes))
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
    })?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Reads a StateUpdate's HistoryData: `newState.stateReason` and
/// `newState.stateReasonData` (an object in history, a JSON string in
/// DescribeAlarms; both are accepted).
fn state_change_detail(
    entry: keywatch_app::api::history::HistoryEntry,
    history_data: &str,
    notifications: Vec<keywatch_app::api::history::DeliveredNotification>,
) -> StateChangeDetail {
    let data: serde_json::Value = serde_json::from_str(history_data).unwrap_or_default();
    let new_state = &data["newState"];
    let reason_data = match &new_state["stateReasonData"] {
        serde_json::Value::String(text) => serde_json::from_str(text).unwrap_or_default(),
        other => other.clone(),
    };
    let evaluated: Vec<ReasonDatapoint> = reason_data["evaluatedDatapoints"]
        .as_array()
        .map(|points| {
            points
                .iter()
                .rev()
                .filter_map(|p| {
                    Some(ReasonDatapoint {
                        timestamp: p["timestamp"].as_str().map(str::to_owned),
                        value: p["value"].as_f64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let datapoints = if evaluated.is_empty() {
        reason_data["recentDatapoints"]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_f64())
                    .map(|value| ReasonDatapoint { timestamp: None, value })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        evaluated
    };
    StateChangeDetail {
        entry,
        reason: new_state["stateReason"].as_str().map(str::to_owned),
        threshold: reason_data["threshold"].as_f64(),
        period_seconds: reason_data["period"].as_i64(),
        datapoints,
        notifications,
        history_data: serde_json::to_string_pretty(&data).unwrap_or_else(|_| history_data.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_times_are_utc_datetime_local_or_rfc3339() {
        assert_eq!(parse_filter_time("2026-11-27T03:49"), Some(1_795_751_340_000));
        assert_eq!(parse_filter_time("2026-11-27T03:49:38"), Some(1_795_751_378_000));
        assert_eq!(parse_filter_time("2026-11-27T03:49:38.123Z"), Some(1_795_751_378_123));
        assert_eq!(parse_filter_time("yesterday"), None);
    }

    // HistoryData of a StateUpdate:
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html
    #[test]
    fn the_detail_reads_reason_and_datapoints_from_history_data() {
        let data = serde_json::json!({
            "version": "1.0",
            "oldState": {"stateValue": "OK", "stateReason": "r"},
            "newState": {"stateValue": "ALARM", "stateReason": "Threshold Crossed: 1 datapoint [4.0 (27/11/26 03:49:00)] was greater than the threshold (1.0).",
                "stateReasonData": {"version": "1.0", "period": 10, "recentDatapoints": [4.0], "threshold": 1.0,
                    "evaluatedDatapoints": [{"timestamp": "2026-11-27T03:49:00.000+0000", "sampleCount": 4.0, "value": 4.0}]}}
        });
        let entry = keywatch_app::api::history::HistoryEntry {
            id: 1,
            alarm_name: "a".into(),
            item_type: "StateUpdate".into(),
            timestamp_ms: 0,
            timestamp: String::new(),
            summary: String::new(),
            old_state: None,
            new_state: None,
            notification_count: 0,
        };
        let detail = state_change_detail(entry, &data.to_string(), Vec::new());
        assert!(detail.reason.as_deref().is_some_and(|r| r.starts_with("Threshold Crossed")));
        assert_eq!(detail.threshold, Some(1.0));
        assert_eq!(detail.period_seconds, Some(10));
        assert_eq!(
            detail.datapoints,
            vec![ReasonDatapoint { timestamp: Some("2026-11-27T03:49:00.000+0000".into()), value: 4.0 }]
        );
    }

    // Issue 17, K: From after To answered "No history matches".
    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        let filter = HistoryFilter {
            from: Some("2026-11-27T10:00".into()),
            to: Some("2026-11-27T09:00".into()),
            ..HistoryFilter::default()
        };
        let error = history_query(&filter).expect_err("refused");
        assert_eq!(error, AppError::InvalidInput { field: Some("to".into()), message: "To must be after From".into() });
        let filter = HistoryFilter { to: Some("2026-11-27T11:00".into()), ..filter };
        assert!(history_query(&filter).is_ok());
    }
}
