-- Issue 9: what happened to the managed alarms (DescribeAlarmHistory) and
-- who was told (SNS notifications that reached Keywatch's inbox queue).

-- Every AlarmHistoryItem Keywatch fetched, once. AWS gives items no id, so
-- the natural key is the alarm, the millisecond, the item type and the
-- summary: two distinct items of one alarm never share all four (a state
-- change names both states; an action names its ARN).
-- https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html
CREATE TABLE alarm_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_name    TEXT    NOT NULL,
    alarm_arn     TEXT,
    alarm_type    TEXT    NOT NULL,
    item_type     TEXT    NOT NULL,
    timestamp_ms  INTEGER NOT NULL,
    summary       TEXT    NOT NULL,
    -- The HistoryData JSON document as AWS returned it.
    history_data  TEXT    NOT NULL,
    -- For StateUpdate items: the states, read from history_data so the page
    -- can filter and chart without parsing JSON per row.
    old_state     TEXT,
    new_state     TEXT,
    stored_at_ms  INTEGER NOT NULL,
    UNIQUE (alarm_name, timestamp_ms, item_type, summary)
);

-- Keyset pages, newest first: unfiltered, by alarm, by state, by item type.
CREATE INDEX alarm_history_newest ON alarm_history (timestamp_ms DESC, id DESC);
CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, timestamp_ms DESC, id DESC);
CREATE INDEX alarm_history_by_state ON alarm_history (new_state, timestamp_ms DESC, id DESC);
CREATE INDEX alarm_history_by_type ON alarm_history (item_type, timestamp_ms DESC, id DESC);

-- Every SNS notification the inbox queue delivered, once per MessageId.
-- https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
CREATE TABLE notifications (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id           TEXT    NOT NULL UNIQUE,
    topic_arn            TEXT    NOT NULL,
    subject              TEXT,
    -- The envelope's Message: CloudWatch's alarm message JSON.
    message              TEXT    NOT NULL,
    sns_timestamp_ms     INTEGER NOT NULL,
    received_at_ms       INTEGER NOT NULL,
    -- Read from the alarm message, to find the state change it reports.
    alarm_name           TEXT,
    new_state            TEXT,
    state_change_time_ms INTEGER,
    -- The StateUpdate this notification reports, once both are stored.
    state_update_id      INTEGER REFERENCES alarm_history (id) ON DELETE SET NULL
);

CREATE INDEX notifications_by_state_update ON notifications (state_update_id);
CREATE INDEX notifications_unlinked ON notifications (alarm_name, state_change_time_ms) WHERE state_update_id IS NULL;
CREATE INDEX notifications_newest ON notifications (received_at_ms DESC);

-- Where each poller resumes. The history poller keeps one position per
-- alarm: the newest item timestamp it has stored, kept even when retention
-- deletes the rows so that deleted items are not fetched again.
CREATE TABLE poller_cursors (
    poller        TEXT    NOT NULL,
    cursor_key    TEXT    NOT NULL,
    position_ms   INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (poller, cursor_key)
);

-- How long Keywatch keeps history and notifications: NULL keeps everything
-- (the default). AWS itself keeps alarm history for 14 days.
CREATE TABLE history_retention (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    keep_days INTEGER CHECK (keep_days IS NULL OR keep_days > 0)
);
INSERT INTO history_retention (id, keep_days) VALUES (1, NULL);
