//! The History page's data: the managed alarms' history items as Keywatch
//! stored them, the notifications that reported them, and the retention
//! setting.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The History page's filters, as they appear in its URL query. Every field
/// is optional; empty strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    /// Exact alarm name.
    #[serde(default)]
    pub alarm: Option<String>,
    /// A state value the item moved to: `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    #[serde(default)]
    pub state: Option<String>,
    /// `ConfigurationUpdate`, `StateUpdate` or `Action`.
    #[serde(default)]
    pub item_type: Option<String>,
    /// Start of the time range (UTC): `YYYY-MM-DDTHH:MM[:SS]` or RFC 3339.
    #[serde(default)]
    pub from: Option<String>,
    /// End of the time range (UTC), same forms as `from`.
    #[serde(default)]
    pub to: Option<String>,
    /// Text the summary or alarm name contains (case-insensitive).
    #[serde(default)]
    pub text: Option<String>,
}

impl HistoryFilter {
    /// The filter as URL query pairs, skipping empty fields, in a fixed order.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("alarm", &self.alarm),
            ("state", &self.state),
            ("item_type", &self.item_type),
            ("from", &self.from),
            ("to", &self.to),
            ("text", &self.text),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().filter(|v| !v.trim().is_empty()).map(|v| (name, v.clone())))
        .collect()
    }

    /// The filter with empty strings turned into `None`, so that forms that
    /// submit every field and URLs that carry only some agree.
    pub fn normalized(self) -> HistoryFilter {
        let clean = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        HistoryFilter {
            alarm: clean(self.alarm),
            state: clean(self.state),
            item_type: clean(self.item_type),
            from: clean(self.from),
            to: clean(self.to),
            text: clean(self.text),
        }
    }
}

/// A position in the newest-first order: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryCursor {
    pub timestamp_ms: i64,
    pub id: i64,
}

impl HistoryCursor {
    /// `<timestamp_ms>.<id>`, the form the URL carries.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.timestamp_ms, self.id)
    }

    /// Reads [`HistoryCursor::encode`]'s form back.
    pub fn decode(text: &str) -> Option<HistoryCursor> {
        let (timestamp_ms, id) = text.split_once('.')?;
        Some(HistoryCursor { timestamp_ms: timestamp_ms.parse().ok()?, id: id.parse().ok()? })
    }
}

/// One stored `AlarmHistoryItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub alarm_name: String,
    /// `ConfigurationUpdate`, `StateUpdate`, `Action`, ...
    pub item_type: String,
    pub timestamp_ms: i64,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub summary: String,
    pub old_state: Option<String>,
    pub new_state: Option<String>,
    /// Notifications linked to this state change.
    pub notification_count: u32,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Where the next (older) page starts, if there is one.
    pub next: Option<HistoryCursor>,
}

/// A datapoint that the evaluation that changed the state looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonDatapoint {
    /// Period start as AWS wrote it, when AWS gave one.
    pub timestamp: Option<String>,
    pub value: f64,
}

/// A notification SNS delivered to Keywatch's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredNotification {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    /// RFC 3339, UTC.
    pub received_at: String,
    /// CloudWatch's alarm message, pretty-printed JSON.
    pub message: String,
}

/// A state change opened on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChangeDetail {
    pub entry: HistoryEntry,
    /// `newState.stateReason`.
    pub reason: Option<String>,
    /// `newState.stateReasonData.threshold`.
    pub threshold: Option<f64>,
    /// `newState.stateReasonData.period`: how wide each datapoint is drawn.
    pub period_seconds: Option<i64>,
    /// `newState.stateReasonData`: the evaluated datapoints (oldest first),
    /// else the recent datapoints' values.
    pub datapoints: Vec<ReasonDatapoint>,
    pub notifications: Vec<DeliveredNotification>,
    /// The raw HistoryData JSON, pretty-printed.
    pub history_data: String,
}

/// One alarm's state over the charted range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineSeries {
    pub alarm_name: String,
    /// The state when the range starts, if a change before it is stored.
    pub initial_state: Option<String>,
    /// (epoch ms, new state) of each change in the range, oldest first.
    pub changes: Vec<(i64, String)>,
}

/// The timeline chart's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub from_ms: i64,
    pub to_ms: i64,
    pub series: Vec<TimelineSeries>,
}

/// How long history is kept: `None` keeps everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRetention {
    pub keep_days: Option<u32>,
}

/// Rows per History page.
pub const HISTORY_PAGE_SIZE: u32 = 50;

/// `get_history_page`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPageInput {
    pub filter: HistoryFilter,
    /// The encoded cursor of the page to show; absent for the newest page.
    pub after: Option<String>,
}

/// One page of stored history matching the filter, newest first.
// JSON in: a filter with every field empty has no URL-encoded form at all.
#[server(endpoint = "history/page", input = leptos::server_fn::codec::Json)]
pub async fn get_history_page(input: HistoryPageInput) -> Result<HistoryPage, AppError> {
    let after = match input.after.as_deref().filter(|a| !a.is_empty()) {
        Some(text) => Some(HistoryCursor::decode(text).ok_or_else(|| AppError::InvalidInput {
            field: Some("after".into()),
            message: "The page position in the URL is not valid".into(),
        })?),
        None => None,
    };
    crate::api::port::<port::History>()?.0.history_page(input.filter.normalized(), after, HISTORY_PAGE_SIZE).await
}

/// `get_timeline`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineInput {
    pub filter: HistoryFilter,
}

/// The state of each matching alarm over the filter's time range (the last
/// 24 hours when the filter has none).
#[server(endpoint = "history/timeline", input = leptos::server_fn::codec::Json)]
pub async fn get_timeline(input: TimelineInput) -> Result<Timeline, AppError> {
    crate::api::port::<port::History>()?.0.timeline(input.filter.normalized()).await
}

/// `get_state_change`'s input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChangeInput {
    pub id: i64,
}

/// One stored history item with its reason, datapoints and notifications.
#[server(endpoint = "history/entry")]
pub async fn get_state_change(input: StateChangeInput) -> Result<StateChangeDetail, AppError> {
    crate::api::port::<port::History>()?.0.state_change(input.id).await
}

/// The retention setting.
#[server(endpoint = "history/retention")]
pub async fn get_history_retention() -> Result<HistoryRetention, AppError> {
    crate::api::port::<port::History>()?.0.history_retention().await
}

/// `set_history_retention`'s input: a number of days, or empty to keep everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionInput {
    pub keep_days: String,
}

/// Sets how many days of history to keep (empty: keep everything).
#[server(endpoint = "history/set-retention")]
pub async fn set_history_retention(input: RetentionInput) -> Result<HistoryRetention, AppError> {
    let keep_days = parse_keep_days(&input.keep_days)?;
    crate::api::port::<port::History>()?.0.set_history_retention(HistoryRetention { keep_days }).await
}

/// Reads the retention field: empty keeps everything, else 1–36500 days.
pub fn parse_keep_days(text: &str) -> Result<Option<u32>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if (1..=36_500).contains(&days) => Ok(Some(days)),
        _ => Err(AppError::InvalidInput {
            field: Some("keep_days".into()),
            message: "Enter a whole number of days from 1 to 36500, or leave it empty to keep everything".into(),
        }),
    }
}

/// The port between the History page's server functions (and the CSV
/// export) and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the History page's server functions ask of the server.
    #[async_trait]
    pub trait HistoryBackend: Send + Sync + 'static {
        /// A page of stored history matching `filter`, newest first, after `after`.
        async fn history_page(
            &self,
            filter: HistoryFilter,
            after: Option<HistoryCursor>,
            limit: u32,
        ) -> Result<HistoryPage, AppError>;

        /// The matching alarms' states over the filter's time range.
        async fn timeline(&self, filter: HistoryFilter) -> Result<Timeline, AppError>;

        /// One stored history item with its reason, datapoints and notifications.
        async fn state_change(&self, id: i64) -> Result<StateChangeDetail, AppError>;

        /// The retention setting.
        async fn history_retention(&self) -> Result<HistoryRetention, AppError>;

        /// Changes the retention setting; the pollers apply it on their next round.
        async fn set_history_retention(&self, retention: HistoryRetention) -> Result<HistoryRetention, AppError>;
    }

    /// The history backend as Leptos context.
    #[derive(Clone)]
    pub struct History(pub Arc<dyn HistoryBackend>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = HistoryCursor { timestamp_ms: 1_764_215_378_123, id: 42 };
        assert_eq!(HistoryCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(HistoryCursor::decode("x.1"), None);
        assert_eq!(HistoryCursor::decode("12"), None);
    }

    #[test]
    fn empty_filter_fields_are_absent() {
        let filter = HistoryFilter { alarm: Some(" ".into()), text: Some(" kms ".into()), ..HistoryFilter::default() };
        assert_eq!(filter.clone().normalized().text.as_deref(), Some("kms"));
        assert_eq!(filter.normalized().alarm, None);
    }

    #[test]
    fn retention_is_empty_or_a_positive_number_of_days() {
        assert_eq!(parse_keep_days(""), Ok(None));
        assert_eq!(parse_keep_days(" 14 "), Ok(Some(14)));
        assert!(parse_keep_days("0").is_err());
        assert!(parse_keep_days("two weeks").is_err());
    }
}
