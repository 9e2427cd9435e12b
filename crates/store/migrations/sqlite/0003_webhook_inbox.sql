-- The webhook inbox: every signed webhook delivery is committed here before
-- it is answered 200, and processed into records afterwards by a worker.
-- (source, webhook_id) is unique, so a redelivery of the same webhook is
-- recognised and stored once. Rows are kept after processing: they are the
-- audit trail of what the platform sent, and failed rows stay visible.
--   status              pending | processed | failed (gave up after retries)
--   attempts            processing attempts that failed so far
--   next_attempt_at_us  a pending row is not picked before this (backoff)
CREATE TABLE webhook_inbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    source             TEXT    NOT NULL,
    shop_domain        TEXT    NOT NULL,
    webhook_id         TEXT    NOT NULL,
    event_id           TEXT,
    topic              TEXT    NOT NULL,
    api_version        TEXT,
    triggered_at_us    BIGINT,
    received_at_us     BIGINT  NOT NULL,
    body               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    attempts           BIGINT  NOT NULL,
    next_attempt_at_us BIGINT  NOT NULL,
    last_error         TEXT,
    result             TEXT,
    processed_at_us    BIGINT,
    UNIQUE (source, webhook_id)
);
CREATE INDEX webhook_inbox_due ON webhook_inbox (status, next_attempt_at_us, id);
