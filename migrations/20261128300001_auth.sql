-- The console's one admin account and its login sessions.
--
-- `password_hash` is an argon2id PHC string (`$argon2id$v=19$m=...`) set by
-- `keywatch user set-password`; the password itself is never stored. A
-- KEYWATCH_ADMIN_PASSWORD_HASH environment variable takes precedence over it.
CREATE TABLE admin_account (
    username       TEXT    PRIMARY KEY NOT NULL,
    password_hash  TEXT    NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);

-- A session is a random 256-bit token held in the browser's cookie; only its
-- SHA-256 is stored, so a copy of the database does not log anyone in.
-- Sessions live in SQLite so that a restart keeps people logged in.
CREATE TABLE sessions (
    token_sha256   TEXT    PRIMARY KEY NOT NULL,
    username       TEXT    NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expires_at_ms);
