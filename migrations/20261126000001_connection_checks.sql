-- Every connection check the console ran: which AWS it asked (mode, region,
-- profile) and who STS said it was, or the user-facing error it met.
CREATE TABLE connection_checks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    checked_at_ms INTEGER NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('sandbox', 'live')),
    region        TEXT    NOT NULL,
    profile       TEXT,
    account_id    TEXT,
    caller_arn    TEXT,
    user_id       TEXT,
    -- JSON of the AppError shown to the user; never internal detail.
    error         TEXT,
    CHECK ((account_id IS NOT NULL AND caller_arn IS NOT NULL AND user_id IS NOT NULL AND error IS NULL)
        OR (account_id IS NULL AND caller_arn IS NULL AND user_id IS NULL AND error IS NOT NULL))
);

CREATE INDEX connection_checks_newest_first ON connection_checks (checked_at_ms DESC, id DESC);
