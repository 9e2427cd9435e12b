-- A run that failed for a cause retrying will not fix (a missing access
-- scope, a shop in another currency) says so, so the source-health alert
-- fires on the first such run rather than after failures in a row.
ALTER TABLE sync_state ADD COLUMN needs_attention BOOLEAN NOT NULL DEFAULT 0;
