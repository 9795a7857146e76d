-- Maintenance windows: while one is open, the alarm's actions are disabled
-- (DisableAlarmActions: CloudWatch still records its state changes, so
-- history keeps recording, but SNS is not told) and Keywatch's responses
-- to its episodes are recorded as notify-only. When the last one closes,
-- the console enables the actions again.
CREATE TABLE maintenance_windows (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_name            TEXT    NOT NULL,
    starts_at_ms          INTEGER NOT NULL,
    ends_at_ms            INTEGER NOT NULL,
    reason                TEXT    NOT NULL,
    created_by            TEXT    NOT NULL,
    created_at_ms         INTEGER NOT NULL,
    CHECK (ends_at_ms > starts_at_ms)
);

CREATE INDEX maintenance_windows_by_alarm ON maintenance_windows (alarm_name, ends_at_ms);

-- The alarms whose actions Keywatch disabled for a window, so that it
-- enables only those again (an alarm whose actions someone else disabled
-- stays as they left it).
CREATE TABLE muted_alarms (
    alarm_name   TEXT    PRIMARY KEY,
    muted_at_ms  INTEGER NOT NULL
);
