-- Issue 21: Keywatch reacts. A response playbook is what Keywatch does when
-- a managed alarm fires (contain the role, disable the key), in a mode
-- (notify only, ask for approval, automatic). Episodes (transitions into
-- ALARM) before the playbook was set are not responded to.
CREATE TABLE response_playbooks (
    alarm_name     TEXT    NOT NULL,
    playbook       TEXT    NOT NULL CHECK (playbook IN ('contain-role', 'disable-key')),
    mode           TEXT    NOT NULL CHECK (mode IN ('notify', 'approval', 'automatic')),
    -- The role contain-role denies; NULL for disable-key.
    role_arn       TEXT,
    key_arn        TEXT    NOT NULL,
    enabled_at_ms  INTEGER NOT NULL,
    updated_by     TEXT    NOT NULL,
    PRIMARY KEY (alarm_name, playbook),
    CHECK (playbook <> 'contain-role' OR role_arn IS NOT NULL)
);

-- One response per alarm episode and playbook: the UNIQUE key is what keeps
-- a response from running twice for one episode, across restarts. The
-- playbook's settings are copied, so a later change of the playbook does
-- not change what a response did (or what its revert undoes).
CREATE TABLE responses (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_name       TEXT    NOT NULL,
    -- When the alarm went into ALARM (the StateUpdate item's timestamp).
    episode_ms       INTEGER NOT NULL,
    playbook         TEXT    NOT NULL,
    mode             TEXT    NOT NULL,
    role_arn         TEXT,
    key_arn          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN
        ('notified', 'awaiting-approval', 'approved', 'refused', 'done', 'failed', 'reverted')),
    created_at_ms    INTEGER NOT NULL,
    decided_by       TEXT,
    decided_at_ms    INTEGER,
    -- When its AWS calls were all made: the containment took effect.
    done_at_ms       INTEGER,
    reverted_by      TEXT,
    reverted_at_ms   INTEGER,
    -- What users may read about a failure (never internal detail).
    detail           TEXT,
    UNIQUE (alarm_name, episode_ms, playbook)
);

CREATE INDEX responses_newest ON responses (created_at_ms DESC, id DESC);
CREATE INDEX responses_to_run ON responses (status) WHERE status = 'approved';
