-- Webhook bodies kept apart from the inbox row that tracks them. A body is
-- written once, on receipt, and never changes; the inbox row's status
-- changes at least once (pending -> processed). In SQLite an UPDATE writes
-- the whole row again, so with the 10 KB body in the row every status change
-- rewrote its overflow pages (WAL, then checkpoint). Now a status change
-- touches only the small row.
CREATE TABLE webhook_inbox_bodies (
    id   INTEGER PRIMARY KEY REFERENCES webhook_inbox (id),
    body TEXT    NOT NULL
);
INSERT INTO webhook_inbox_bodies (id, body) SELECT id, body FROM webhook_inbox;
ALTER TABLE webhook_inbox DROP COLUMN body;
