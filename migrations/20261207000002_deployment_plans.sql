-- The resources a wizard deployment's change set planned to add, modify or
-- remove, read before it was executed (CloudFormation deletes a stack's
-- change sets once one is executed). The section page's progress is how
-- many of these have finished, out of how many there are.
CREATE TABLE deployment_plans (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    logical_id    TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    -- `Add`, `Modify` or `Remove`.
    action        TEXT    NOT NULL,
    PRIMARY KEY (deployment_id, logical_id)
);
