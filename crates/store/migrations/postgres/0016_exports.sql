-- Export jobs (issue 16 point 1): a report of chosen sections, queued by a
-- person, built by the export worker into a file in the data directory.
--
-- `request` is the web layer's request as JSON (sections, range, brand or
-- region, whether amounts may be shown), fixed when the job is queued, so
-- the worker builds what the person was allowed to see then. The file is
-- kept until `expires_at_us`, then removed and the job marked expired.
-- No money and no secret is stored here: a download link is stored as the
-- SHA-256 of its token only.
CREATE TABLE export_jobs (
    id             BIGSERIAL PRIMARY KEY,
    requested_by   TEXT   NOT NULL,
    request        TEXT   NOT NULL,
    format         TEXT   NOT NULL,
    -- queued, running, ready, failed or expired.
    status         TEXT   NOT NULL,
    -- 0 to 100.
    progress       BIGINT NOT NULL,
    created_at_us  BIGINT NOT NULL,
    started_at_us  BIGINT,
    finished_at_us BIGINT,
    file_name      TEXT,
    size_bytes     BIGINT,
    error          TEXT,
    expires_at_us  BIGINT
);
-- The worker claims the oldest queued job; the sweeper reads ready jobs by
-- expiry.
CREATE INDEX export_jobs_status ON export_jobs (status, id);

-- Download links of a ready export: each expires with the file.
CREATE TABLE export_links (
    token_sha256  TEXT   PRIMARY KEY,
    job_id        BIGINT NOT NULL,
    expires_at_us BIGINT NOT NULL,
    created_by    TEXT   NOT NULL,
    created_at_us BIGINT NOT NULL
);
CREATE INDEX export_links_job ON export_links (job_id);
