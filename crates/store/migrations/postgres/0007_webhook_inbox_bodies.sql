-- Webhook bodies kept apart from the inbox row that tracks them (see the
-- SQLite migration of the same number: there a status UPDATE rewrote the
-- whole 10 KB row). PostgreSQL already keeps large values out of line, so
-- here the split only keeps both backends' schema and queries the same.
CREATE TABLE webhook_inbox_bodies (
    id   BIGINT PRIMARY KEY REFERENCES webhook_inbox (id),
    body TEXT   NOT NULL
);
INSERT INTO webhook_inbox_bodies (id, body) SELECT id, body FROM webhook_inbox;
ALTER TABLE webhook_inbox DROP COLUMN body;
