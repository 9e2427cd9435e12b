-- Erasure that stays erased (issue 15 point 4): who an erasure erased, so
-- a later sync page, webhook, ingest push or import that carries them is
-- stored tombstoned too (the store's upsert checks every record here).
--
-- `privacy_erased`: one row per erased key (a normalized email within a
-- brand, a platform customer, order or ticket id within its source, or a
-- whole shop after `shop/redact`). Only a keyed hash of the key is kept:
-- SHA-256 of this installation's secret and the key, never the email in
-- clear. `kind` says which sort of key it is (`email`, `customer`,
-- `order`, `ticket`, `shop`); `hits` counts the records that arrived
-- afterwards and were stored tombstoned.
CREATE TABLE privacy_erased (
    key_hash     TEXT   NOT NULL PRIMARY KEY,
    kind         TEXT   NOT NULL,
    request_id   BIGINT NOT NULL,
    erased_at_us BIGINT NOT NULL,
    hits         BIGINT NOT NULL DEFAULT 0
);

-- The per-installation secret of those hashes, made once here from the
-- database's own random source: the hashes cannot be matched against a
-- list of emails without it.
CREATE TABLE privacy_secret (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    secret TEXT    NOT NULL
);
INSERT INTO privacy_secret (id, secret) VALUES (1, lower(hex(randomblob(32))));
