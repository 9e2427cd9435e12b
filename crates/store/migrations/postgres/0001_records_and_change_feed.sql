-- One table per record kind, keyed by (source, external_id).
-- Every table carries:
--   updated_at_us  the platform's updated_at in UTC microseconds since the epoch
--                  (newer wins; older updates are ignored);
--   seq            the change-sequence value of the latest write (the change feed);
--   body           the whole domain record as JSONB, the source of truth;
-- plus the plain columns SQL reports filter and group on, so those reports
-- never parse JSON.

-- The last change-sequence value handed out. A single row: every upsert
-- updates it first, which locks the row until commit and so serializes
-- writers, making sequence order equal to commit order.
CREATE TABLE change_counter (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);

CREATE TABLE orders (
    source             TEXT    NOT NULL,
    external_id        TEXT    NOT NULL,
    brand_id           TEXT    NOT NULL,
    updated_at_us      BIGINT  NOT NULL,
    seq                BIGINT  NOT NULL,
    body               JSONB   NOT NULL,
    name               TEXT    NOT NULL,
    created_at_us      BIGINT  NOT NULL,
    cancelled_at_us    BIGINT,
    test               BOOLEAN NOT NULL,
    total_minor        BIGINT  NOT NULL,
    currency           TEXT    NOT NULL,
    financial_status   TEXT    NOT NULL,
    fulfillment_status TEXT    NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX orders_seq ON orders (seq);
CREATE INDEX orders_brand_created ON orders (brand_id, created_at_us);

CREATE TABLE products (
    source        TEXT   NOT NULL,
    external_id   TEXT   NOT NULL,
    brand_id      TEXT   NOT NULL,
    updated_at_us BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    body          JSONB  NOT NULL,
    status        TEXT   NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX products_seq ON products (seq);
CREATE INDEX products_brand_status ON products (brand_id, status);

CREATE TABLE inventory_levels (
    source            TEXT   NOT NULL,
    external_id       TEXT   NOT NULL,
    brand_id          TEXT   NOT NULL,
    updated_at_us     BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    body              JSONB  NOT NULL,
    inventory_item_id TEXT   NOT NULL,
    location_id       TEXT   NOT NULL,
    available         BIGINT,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX inventory_levels_seq ON inventory_levels (seq);
CREATE INDEX inventory_levels_item ON inventory_levels (source, inventory_item_id);

-- Helpdesk records: brand_id is NULL until an attribution rule claims them.
CREATE TABLE tickets (
    source        TEXT   NOT NULL,
    external_id   TEXT   NOT NULL,
    brand_id      TEXT,
    updated_at_us BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    body          JSONB  NOT NULL,
    status        TEXT   NOT NULL,
    channel       TEXT   NOT NULL,
    created_at_us BIGINT NOT NULL,
    closed_at_us  BIGINT,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX tickets_seq ON tickets (seq);
CREATE INDEX tickets_brand_created ON tickets (brand_id, created_at_us);

CREATE TABLE ticket_messages (
    source        TEXT   NOT NULL,
    external_id   TEXT   NOT NULL,
    brand_id      TEXT,
    updated_at_us BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    body          JSONB  NOT NULL,
    ticket_id     TEXT   NOT NULL,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX ticket_messages_seq ON ticket_messages (seq);
CREATE INDEX ticket_messages_ticket ON ticket_messages (source, ticket_id);

CREATE TABLE satisfaction_surveys (
    source        TEXT   NOT NULL,
    external_id   TEXT   NOT NULL,
    brand_id      TEXT,
    updated_at_us BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    body          JSONB  NOT NULL,
    ticket_id     TEXT   NOT NULL,
    score         BIGINT,
    scored_at_us  BIGINT,
    PRIMARY KEY (source, external_id)
);
CREATE UNIQUE INDEX satisfaction_surveys_seq ON satisfaction_surveys (seq);
CREATE INDEX satisfaction_surveys_ticket ON satisfaction_surveys (source, ticket_id);

-- Progress and health of each (source, resource) sync; written in the same
-- transaction as the page of records it checkpoints.
CREATE TABLE sync_state (
    source               TEXT   NOT NULL,
    resource             TEXT   NOT NULL,
    watermark_us         BIGINT,
    cursor               TEXT,
    last_attempt_at_us   BIGINT,
    last_success_at_us   BIGINT,
    last_error           TEXT,
    last_error_at_us     BIGINT,
    consecutive_failures BIGINT NOT NULL,
    requests             BIGINT NOT NULL,
    errors               BIGINT NOT NULL,
    rate_limit_waits     BIGINT NOT NULL,
    records_synced       BIGINT NOT NULL,
    PRIMARY KEY (source, resource)
);
