-- System health checks (issue 16 point 4): the results of each configured
-- check, its current state, and the history of its state changes.
--
-- `health_check_results`: one row per result (an HTTP probe, a heartbeat,
-- a pushed value), its outcome as JSON (`opsdeck_domain::health::Outcome`).
-- Read newest first per check; pruned by age.
CREATE TABLE health_check_results (
    id         BIGSERIAL PRIMARY KEY,
    check_name TEXT   NOT NULL,
    at_us      BIGINT NOT NULL,
    outcome    TEXT   NOT NULL
);
CREATE INDEX health_check_results_by_check ON health_check_results (check_name, at_us);
CREATE INDEX health_check_results_by_age ON health_check_results (at_us);

-- `health_check_states`: each check's state now, since when, and why
-- (what the page lists and the alert reads).
CREATE TABLE health_check_states (
    check_name      TEXT   NOT NULL PRIMARY KEY,
    state           TEXT   NOT NULL,
    since_us        BIGINT NOT NULL,
    reason          TEXT   NOT NULL,
    evaluated_at_us BIGINT NOT NULL
);

-- `health_check_changes`: every change of state, written with the new
-- state in one transaction; pruned by age.
CREATE TABLE health_check_changes (
    id         BIGSERIAL PRIMARY KEY,
    check_name TEXT   NOT NULL,
    from_state TEXT,
    to_state   TEXT   NOT NULL,
    at_us      BIGINT NOT NULL,
    reason     TEXT   NOT NULL
);
CREATE INDEX health_check_changes_by_check ON health_check_changes (check_name, at_us);
CREATE INDEX health_check_changes_by_age ON health_check_changes (at_us);
