-- Every deployment and teardown the wizard started: who asked (the console
-- has no users yet, so "console"), which lab section and stack, what was
-- done, when, and how it ended. `outcome` stays NULL while CloudFormation is
-- still working; the stack watcher fills it in, also after a restart.
CREATE TABLE deployments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    actor          TEXT    NOT NULL,
    section        TEXT    NOT NULL CHECK (section IN ('base-network', 'application', 'logging')),
    prefix         TEXT    NOT NULL,
    stack_name     TEXT    NOT NULL,
    -- The stack's ARN once CloudFormation gave one; a deleted stack is only
    -- describable by its id.
    stack_id       TEXT,
    action         TEXT    NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    change_set_id  TEXT,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    outcome        TEXT CHECK (outcome IN ('succeeded', 'failed')),
    -- The stack status the deployment ended in, and CloudFormation's reason.
    final_status   TEXT,
    status_reason  TEXT,
    CHECK ((outcome IS NULL AND finished_at_ms IS NULL) OR (outcome IS NOT NULL AND finished_at_ms IS NOT NULL))
);

CREATE INDEX deployments_unfinished ON deployments (id) WHERE outcome IS NULL;
CREATE INDEX deployments_by_stack ON deployments (stack_name, id DESC);

-- Stack events as DescribeStackEvents returned them. The event id is
-- CloudFormation's own, so polling the same events twice stores them once.
CREATE TABLE stack_events (
    event_id      TEXT    PRIMARY KEY,
    stack_id      TEXT    NOT NULL,
    stack_name    TEXT    NOT NULL,
    deployment_id INTEGER REFERENCES deployments (id),
    timestamp_ms  INTEGER NOT NULL,
    logical_id    TEXT    NOT NULL,
    physical_id   TEXT,
    resource_type TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    reason        TEXT
);

CREATE INDEX stack_events_by_stack ON stack_events (stack_name, timestamp_ms, event_id);
