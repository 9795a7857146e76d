-- Labs deployed by hand (the lab's AWS CLI steps, any stack names) that a
-- user adopted: the prefix Keywatch files the lab under, and each section's
-- stack as CloudFormation names it. A Keywatch-deployed lab's stacks are
-- `<prefix>-base` and so on; an adopted lab's are whatever the user chose,
-- so they are recorded. A section the lab lacked is NULL.
CREATE TABLE adopted_labs (
    prefix         TEXT    PRIMARY KEY,
    base_stack     TEXT,
    app_stack      TEXT,
    logging_stack  TEXT,
    adopted_by     TEXT    NOT NULL,
    adopted_at_ms  INTEGER NOT NULL,
    CHECK (base_stack IS NOT NULL OR app_stack IS NOT NULL OR logging_stack IS NOT NULL)
);

-- One stack belongs to at most one adopted lab.
CREATE UNIQUE INDEX adopted_labs_base ON adopted_labs (base_stack) WHERE base_stack IS NOT NULL;
CREATE UNIQUE INDEX adopted_labs_app ON adopted_labs (app_stack) WHERE app_stack IS NOT NULL;
CREATE UNIQUE INDEX adopted_labs_logging ON adopted_labs (logging_stack) WHERE logging_stack IS NOT NULL;
