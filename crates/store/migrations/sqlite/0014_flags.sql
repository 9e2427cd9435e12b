-- Freeze controls and the storefront flag service (issue 14, point 2).
--
-- `flags`: the current state of each flag (one row per flag key, written
-- in the same transaction as its audit entry). `version` grows by one on
-- every change, so two people changing one flag at once cannot both win.
-- `targets` is a JSON array (the countries or regions a sales pause
-- covers); `ends_at_us` is the automatic end (a flag past it reads as off).
CREATE TABLE flags (
    flag_key    TEXT    PRIMARY KEY,
    is_on       BOOLEAN NOT NULL,
    targets     TEXT    NOT NULL,
    banner_text TEXT,
    reason      TEXT    NOT NULL,
    set_by      TEXT    NOT NULL,
    set_at_us   BIGINT  NOT NULL,
    ends_at_us  BIGINT,
    version     BIGINT  NOT NULL
);

-- The durable outbox of flag changes: one row per (change, receiver),
-- written with the change, so a change is never made without its signed
-- webhooks and shop metafields being owed. `target` is `webhook:NAME` or
-- `shopify:BRAND`; `status` pending → delivered | failed.
CREATE TABLE flag_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    target          TEXT    NOT NULL,
    flag_key        TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL,
    next_attempt_us BIGINT  NOT NULL,
    last_attempt_us BIGINT,
    last_error      TEXT,
    created_at_us   BIGINT  NOT NULL,
    delivered_at_us BIGINT
);
-- The deliverer reads the pending rows in order.
CREATE INDEX flag_deliveries_pending ON flag_deliveries (status, id);

-- Read-only keys a storefront presents to the OFREP endpoints. Like
-- api_tokens, only the SHA-256 of the secret is stored.
CREATE TABLE storefront_keys (
    id              TEXT   PRIMARY KEY,
    name            TEXT   NOT NULL,
    secret_sha256   TEXT   NOT NULL,
    created_at_us   BIGINT NOT NULL,
    created_by      TEXT   NOT NULL,
    last_used_at_us BIGINT,
    revoked_at_us   BIGINT
);

-- A flag's audit trail is read by subject (`flag:<key>`).
CREATE INDEX audit_log_subject_at ON audit_log (subject, at_us);
