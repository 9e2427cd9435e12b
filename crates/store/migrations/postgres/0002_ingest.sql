-- Ingest API: the record kinds platforms without a connector push
-- (tracking events, inventory batches, refund/return requests, review-queue
-- items, payment events, health checks), laid out like the kinds of 0001:
-- keyed by (source, external_id), newer-wins by updated_at_us, seq for the
-- change feed, the JSON body as the source of truth, and a few report
-- columns (brand, status, the main timestamp) with indexes.

CREATE TABLE tracking_events (
    source         TEXT   NOT NULL,
    external_id    TEXT   NOT NULL,
    brand_id       TEXT   NOT NULL,
    updated_at_us  BIGINT NOT NULL,
    seq            BIGINT NOT NULL,
    body           JSONB  NOT NULL,
    order_id       TEXT,
    status         TEXT   NOT NULL,
    occurred_at_us BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX tracking_events_seq ON tracking_events (seq);
CREATE INDEX tracking_events_brand_occurred ON tracking_events (brand_id, occurred_at_us);
CREATE INDEX tracking_events_order ON tracking_events (source, order_id);

CREATE TABLE inventory_batches (
    source        TEXT   NOT NULL,
    external_id   TEXT   NOT NULL,
    brand_id      TEXT   NOT NULL,
    updated_at_us BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    body          JSONB  NOT NULL,
    sku           TEXT   NOT NULL,
    quantity      BIGINT NOT NULL,
    expires_on    TEXT,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX inventory_batches_seq ON inventory_batches (seq);
-- expires_on is an ISO date (YYYY-MM-DD), which sorts as text.
CREATE INDEX inventory_batches_brand_expires ON inventory_batches (brand_id, expires_on);

CREATE TABLE return_requests (
    source          TEXT   NOT NULL,
    external_id     TEXT   NOT NULL,
    brand_id        TEXT   NOT NULL,
    updated_at_us   BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    body            JSONB  NOT NULL,
    order_id        TEXT,
    kind            TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    requested_at_us BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX return_requests_seq ON return_requests (seq);
CREATE INDEX return_requests_brand_requested ON return_requests (brand_id, requested_at_us);
CREATE INDEX return_requests_brand_status ON return_requests (brand_id, status);

CREATE TABLE review_items (
    source          TEXT   NOT NULL,
    external_id     TEXT   NOT NULL,
    brand_id        TEXT   NOT NULL,
    updated_at_us   BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    body            JSONB  NOT NULL,
    queue           TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    submitted_at_us BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX review_items_seq ON review_items (seq);
CREATE INDEX review_items_brand_status ON review_items (brand_id, status, submitted_at_us);

CREATE TABLE payment_events (
    source         TEXT   NOT NULL,
    external_id    TEXT   NOT NULL,
    brand_id       TEXT   NOT NULL,
    updated_at_us  BIGINT NOT NULL,
    seq            BIGINT NOT NULL,
    body           JSONB  NOT NULL,
    order_id       TEXT,
    kind           TEXT   NOT NULL,
    occurred_at_us BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX payment_events_seq ON payment_events (seq);
CREATE INDEX payment_events_brand_occurred ON payment_events (brand_id, occurred_at_us);

CREATE TABLE health_checks (
    source        TEXT   NOT NULL,
    external_id   TEXT   NOT NULL,
    brand_id      TEXT   NOT NULL,
    updated_at_us BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    body          JSONB  NOT NULL,
    dependency    TEXT   NOT NULL,
    status        TEXT   NOT NULL,
    checked_at_us BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX health_checks_seq ON health_checks (seq);
CREATE INDEX health_checks_brand_dependency ON health_checks (brand_id, dependency, checked_at_us);

-- API tokens for the ingest API. Only the SHA-256 of the secret part is
-- kept (hex); the token itself is shown once, at creation. A token writes
-- records of one brand, under one source id, for the kinds listed
-- (comma-separated API kind names, or `*` for all).
CREATE TABLE api_tokens (
    id              TEXT   NOT NULL PRIMARY KEY,
    name            TEXT   NOT NULL,
    brand_id        TEXT   NOT NULL,
    source          TEXT   NOT NULL,
    kinds           TEXT   NOT NULL,
    secret_sha256   TEXT   NOT NULL,
    created_at_us   BIGINT NOT NULL,
    created_by      TEXT   NOT NULL,
    last_used_at_us BIGINT,
    revoked_at_us   BIGINT
);

-- Changes people make (token created, token revoked, and later every ack,
-- decision and setting): who, what, on what, the payload (never a secret),
-- from where, when. Append-only.
CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    at_us   BIGINT NOT NULL,
    actor   TEXT   NOT NULL,
    action  TEXT   NOT NULL,
    subject TEXT   NOT NULL,
    payload TEXT   NOT NULL,
    ip      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at_us);
