//! The journal: what a call changed in the sandbox's growing data (event
//! history, log events, datapoints, S3 objects), kept beside the in-memory
//! state until the store takes it.
//!
//! Services note each append or removal here as they make it, so that
//! persisting a call costs what the call changed, not how much history
//! is stored. The journal is not part of a state's value: two states that
//! differ only in their journals are equal.

use crate::cloudtrail::{PendingDelivery, PendingRecord};
use crate::logs::LogEvent;
use crate::metrics::Datapoint;
use crate::s3::Object;
use crate::sns::OutboxEmail;
use crate::sqs::Message;

/// One change to the growing data.
#[derive(Debug, Clone)]
pub enum Change {
    /// A record joined CloudTrail's event history (`record`: its JSON).
    TrailEvent { event_time: i64, record: String },
    /// A record waits for delivery to a trail's log group.
    TrailDelivery(PendingDelivery),
    /// A record waits for its trail's next S3 log file.
    TrailLogFileRecord(PendingRecord),
    /// Every delivery due at or before `through` was taken.
    TrailDeliveriesTaken { through: i64 },
    /// Every log-file record due at or before `through` was taken.
    TrailLogFileRecordsTaken { through: i64 },
    /// An event was stored in a log stream.
    LogEvent { region: String, group: String, stream: String, event: LogEvent },
    /// A group's retention dropped its events older than `before`.
    LogEventsExpired { region: String, group: String, before: i64 },
    /// A log group went, with its streams' events.
    LogGroupDeleted { region: String, group: String },
    /// A log stream went, with its events.
    LogStreamDeleted { region: String, group: String, stream: String },
    /// A datapoint was put.
    Datapoint(Datapoint),
    /// Raw datapoints and roll-ups past their retention at `now` were forgotten.
    MetricDataExpired { now: i64 },
    /// An object was stored (replacing any under its key).
    ObjectPut { bucket: String, object: Object },
    /// An object was deleted.
    ObjectDeleted { bucket: String, key: String },
    /// SNS sent an email (to the outbox).
    SnsEmail(OutboxEmail),
    /// A message was sent to, or changed in, the queue keyed `queue`.
    SqsMessage { queue: String, message: Message },
    /// A message was deleted.
    SqsMessageDeleted { queue: String, message_id: String },
    /// Retention dropped the queue's messages sent at or before `sent_through`.
    SqsMessagesExpired { queue: String, sent_through: i64 },
}

/// Changes not yet taken by the store, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Journal(Vec<Change>);

impl Journal {
    /// Notes a change.
    pub fn push(&mut self, change: Change) {
        self.0.push(change);
    }

    /// Takes every change noted so far.
    pub fn take(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.0)
    }
}

impl PartialEq for Journal {
    /// Always: the journal is bookkeeping for the store, not state.
    fn eq(&self, _other: &Journal) -> bool {
        true
    }
}

impl Eq for Journal {}
