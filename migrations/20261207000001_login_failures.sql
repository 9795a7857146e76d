-- Failed (and in-flight) logins per limiter key, so the login rate limit
-- survives a restart: an attacker cannot reset it by making the console
-- restart. The key is an IPv4 address or an IPv6 /64 in text form. Rows
-- older than the limiter's window are deleted as new ones arrive.
CREATE TABLE login_failures (
    address_key   TEXT    NOT NULL,
    failed_at_ms  INTEGER NOT NULL
);

CREATE INDEX login_failures_by_key ON login_failures (address_key);
CREATE INDEX login_failures_by_time ON login_failures (failed_at_ms);
