-- Dashboard accounts and their sessions (issue 6: accounts and security).
--
-- A user has one role (admin, ops, support, finance, viewer); the password
-- is kept only as an argon2id PHC string. A disabled user keeps its row (so
-- the audit log's actor names stay meaningful) but cannot log in, and its
-- sessions are deleted.
CREATE TABLE users (
    username               TEXT   NOT NULL PRIMARY KEY,
    role                   TEXT   NOT NULL,
    password_hash          TEXT   NOT NULL,
    created_at_us          BIGINT NOT NULL,
    password_changed_at_us BIGINT NOT NULL,
    disabled_at_us         BIGINT
);

-- Server-side sessions. The cookie carries a random 256-bit id; only its
-- SHA-256 is stored, so a copy of the database cannot be replayed as a
-- login. The CSRF token is tied to the session (synchronizer token).
CREATE TABLE sessions (
    id_sha256       TEXT   NOT NULL PRIMARY KEY,
    username        TEXT   NOT NULL REFERENCES users (username),
    csrf_token      TEXT   NOT NULL,
    created_at_us   BIGINT NOT NULL,
    last_seen_at_us BIGINT NOT NULL,
    ip              TEXT
);
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at_us);

-- The audit page filters by actor and action within a date range.
CREATE INDEX audit_log_actor_at ON audit_log (actor, at_us);
CREATE INDEX audit_log_action_at ON audit_log (action, at_us);
