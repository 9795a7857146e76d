-- Every teardown the wizard started: who, which prefix, when, and its steps
-- as the Teardown page shows them (JSON of the TeardownStatus, kept current
-- while it runs). A teardown still running when the console stopped is
-- started again at start-up; each of its steps is safe to repeat.
CREATE TABLE teardowns (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    actor          TEXT    NOT NULL,
    prefix         TEXT    NOT NULL,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    status         TEXT    NOT NULL
);

CREATE INDEX teardowns_running ON teardowns (id) WHERE finished_at_ms IS NULL;
