-- Every mutation made through the console: who (the session's user, or
-- "local (no password)" on an unauthenticated loopback console), when, what
-- (`action`, e.g. `lab.deploy`, `subscriber.add`, `auth.login`), on what
-- (`target`: a stack, topic, subscription, setting), and how it ended
-- (`outcome`: `succeeded`, `failed` or `refused`, with `detail`).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    user       TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    detail     TEXT
);
