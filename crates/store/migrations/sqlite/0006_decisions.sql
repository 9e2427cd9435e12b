-- Sales-pulse decisions (issue 6): what an operator decided on a brand's
-- pulse ("Log follow-up" or "Escalate to ops"), who, when, with the notes
-- they typed and the pulse figures they were looking at (JSON), so a later
-- reader sees the decision in its context. Written in the same transaction
-- as its audit_log entry.
CREATE TABLE decisions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at_us    BIGINT NOT NULL,
    username TEXT   NOT NULL,
    brand    TEXT   NOT NULL,
    kind     TEXT   NOT NULL,
    notes    TEXT   NOT NULL,
    pulse    TEXT   NOT NULL
);
-- The pulse page lists a brand's recent decisions, newest first.
CREATE INDEX decisions_brand_at ON decisions (brand, at_us);
