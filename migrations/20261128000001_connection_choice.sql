-- The Region and profile last chosen on the Connection page, so a restart
-- without --region/--profile comes back where the user left it. Only names:
-- Keywatch never stores AWS credentials.
CREATE TABLE connection_choice (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    region        TEXT    NOT NULL CHECK (length(region) BETWEEN 1 AND 32),
    profile       TEXT    CHECK (profile IS NULL OR length(profile) BETWEEN 1 AND 128),
    chosen_at_ms  INTEGER NOT NULL
);
