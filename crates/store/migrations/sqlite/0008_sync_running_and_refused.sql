-- A sync run in progress is visible (`running_since_us`, cleared when the
-- run finishes), and the records the latest run refused are counted
-- (`records_refused`) so the source health page can say how many were left
-- out and why (the reasons are in `last_error`).
ALTER TABLE sync_state ADD COLUMN running_since_us BIGINT;
ALTER TABLE sync_state ADD COLUMN records_refused BIGINT NOT NULL DEFAULT 0;
