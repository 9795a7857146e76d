-- Every change of an alarm's settings made from the Alarms page: when, which
-- alarm, the changed fields with old and new values (JSON list of
-- [field, old, new]), the path (a change set on the alarm's stack, or
-- PutMetricAlarm), and how it ended. A change-set change is `pending` until
-- CloudFormation finishes the stack update.
CREATE TABLE threshold_changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    requested_at_ms INTEGER NOT NULL,
    alarm_name      TEXT    NOT NULL,
    fields          TEXT    NOT NULL,
    path            TEXT    NOT NULL CHECK (path IN ('change set', 'PutMetricAlarm')),
    stack_name      TEXT,
    change_set_id   TEXT,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('pending', 'succeeded', 'failed')),
    detail          TEXT,
    finished_at_ms  INTEGER
);

CREATE INDEX threshold_changes_by_alarm ON threshold_changes (alarm_name, id);
