-- Runs of scheduled reports and digests (issue 16 point 3). Per
-- subscription (its `[reports.NAME]` name): the run scheduled next
-- (status 'scheduled') and the runs that happened ('running', 'sent',
-- 'skipped', 'failed') with a short outcome text. A run is claimed by
-- moving it from 'scheduled' to 'running', so one instance sends it; one
-- row per subscription and scheduled time. No recipient and no secret is
-- stored here.
CREATE TABLE report_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription     TEXT   NOT NULL,
    scheduled_for_us BIGINT NOT NULL,
    status           TEXT   NOT NULL,
    started_at_us    BIGINT,
    finished_at_us   BIGINT,
    detail           TEXT,
    UNIQUE (subscription, scheduled_for_us)
);
CREATE INDEX report_runs_by_status ON report_runs (subscription, status, scheduled_for_us);
