-- Simulated attacks from the Testing page (lab section 4): wrong-key
-- decrypts sent to the application, what each answered, and when the alarm
-- and its notification followed. A run still `running` when the console
-- stopped is marked `interrupted` at start-up: its task died with the process.
CREATE TABLE attack_runs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix              TEXT    NOT NULL,
    endpoint            TEXT    NOT NULL,
    alarm_name          TEXT,
    wrong_key           TEXT    NOT NULL,
    requested_count     INTEGER NOT NULL CHECK (requested_count > 0),
    rate_per_second     INTEGER NOT NULL CHECK (rate_per_second > 0),
    alarm_reset         INTEGER NOT NULL DEFAULT 0,
    started_at_ms       INTEGER NOT NULL,
    finished_at_ms      INTEGER,
    sent                INTEGER NOT NULL DEFAULT 0,
    first_failure_at_ms INTEGER,
    alarm_at_ms         INTEGER,
    notified_at_ms      INTEGER,
    notification_source TEXT,
    notification_subject TEXT,
    notification_message TEXT,
    watch_until_ms      INTEGER,
    -- running, alarm, stopped, no_alarm, interrupted
    outcome             TEXT    NOT NULL DEFAULT 'running'
);

CREATE INDEX attack_runs_running ON attack_runs (id) WHERE outcome = 'running';

-- Each call of a run and its answer (status NULL: the application did not answer).
CREATE TABLE attack_responses (
    run_id     INTEGER NOT NULL REFERENCES attack_runs (id) ON DELETE CASCADE,
    sequence   INTEGER NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    status     INTEGER,
    body       TEXT    NOT NULL,
    PRIMARY KEY (run_id, sequence)
);
