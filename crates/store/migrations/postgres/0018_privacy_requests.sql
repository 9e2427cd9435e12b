-- Privacy requests (issue 15 point 4): a person's data exported or erased,
-- or a shop's, within 30 days of receipt.
--
-- `privacy_requests`: one row per request. (source, request_key) is unique,
-- so a compliance webhook delivered twice, or an ingest request pushed
-- twice, is one request. `subject` is the person as JSON (customer id,
-- email, phone, name, orders): the work needs it until it is done; an
-- erasure replaces it with tombstones when it completes. `outcome` is what
-- the work did (counts per kind, what was kept and the legal reason).
-- A worker picks requests that are received or in progress and due
-- (`next_attempt_at_us`), so a restart resumes where it stopped.
CREATE TABLE privacy_requests (
    id                 BIGSERIAL PRIMARY KEY,
    source             TEXT   NOT NULL,
    request_key        TEXT   NOT NULL,
    kind               TEXT   NOT NULL,
    status             TEXT   NOT NULL,
    via                TEXT   NOT NULL,
    brand_id           TEXT,
    subject            TEXT   NOT NULL,
    received_at_us     BIGINT NOT NULL,
    due_at_us          BIGINT NOT NULL,
    started_at_us      BIGINT,
    completed_at_us    BIGINT,
    attempts           BIGINT NOT NULL,
    next_attempt_at_us BIGINT NOT NULL,
    last_error         TEXT,
    outcome            TEXT,
    requested_by       TEXT   NOT NULL,
    UNIQUE (source, request_key)
);
CREATE INDEX privacy_requests_work ON privacy_requests (status, next_attempt_at_us);

-- Download links of export archives: only the SHA-256 of the link's
-- random token is kept (as for API tokens), with its expiry.
CREATE TABLE privacy_links (
    token_sha256  TEXT   NOT NULL PRIMARY KEY,
    request_id    BIGINT NOT NULL,
    expires_at_us BIGINT NOT NULL,
    created_by    TEXT   NOT NULL,
    created_at_us BIGINT NOT NULL
);
