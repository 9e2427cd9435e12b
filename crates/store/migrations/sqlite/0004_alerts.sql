-- Alerts (issue 5): episodes with their history, the durable notification
-- outbox, silences and the evaluator's leader lease. Bodies are owned by the
-- opsdeck-alerts crate (serde JSON); the columns are what the store filters,
-- orders and locks on. No secret is ever stored here: an outbox payload is
-- the rendered message, the channel is a configured notifier's name.

-- One episode: a (rule, brand, subject) from the moment it fired until it
-- resolved. At most one unresolved episode per dedup key.
CREATE TABLE alert_episodes (
    id            TEXT   PRIMARY KEY,
    dedup_key     TEXT   NOT NULL,
    rule          TEXT   NOT NULL,
    brand         TEXT   NOT NULL,
    severity      TEXT   NOT NULL,
    state         TEXT   NOT NULL,
    opened_at_us  BIGINT NOT NULL,
    updated_at_us BIGINT NOT NULL,
    body          TEXT   NOT NULL
);
CREATE UNIQUE INDEX alert_episodes_one_open_per_key ON alert_episodes (dedup_key)
    WHERE state <> 'resolved';
CREATE INDEX alert_episodes_recent ON alert_episodes (updated_at_us);

-- Every state change, notification, acknowledgement of an episode.
CREATE TABLE alert_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    episode_id TEXT   NOT NULL REFERENCES alert_episodes (id),
    at_us      BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    body       TEXT   NOT NULL
);
CREATE INDEX alert_events_episode ON alert_events (episode_id, id);

-- A notification, committed before it is sent. A sender claims a row by
-- writing its name and a lease; a crashed sender's row is claimed again
-- once the lease has passed.
CREATE TABLE alert_outbox (
    id              TEXT   PRIMARY KEY,
    channel         TEXT   NOT NULL,
    payload         TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    attempts        BIGINT NOT NULL,
    created_at_us   BIGINT NOT NULL,
    next_attempt_us BIGINT NOT NULL,
    expires_at_us   BIGINT NOT NULL,
    lease_holder    TEXT,
    lease_until_us  BIGINT,
    last_error      TEXT,
    delivered_at_us BIGINT
);
CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_us);

-- Which episodes a (grouped) notification speaks for.
CREATE TABLE alert_outbox_episodes (
    episode_id TEXT NOT NULL REFERENCES alert_episodes (id),
    outbox_id  TEXT NOT NULL REFERENCES alert_outbox (id),
    PRIMARY KEY (episode_id, outbox_id)
);

-- Silences and declared incidents, with reason and author in the body.
CREATE TABLE alert_silences (
    id            TEXT   PRIMARY KEY,
    starts_at_us  BIGINT NOT NULL,
    ends_at_us    BIGINT NOT NULL,
    created_at_us BIGINT NOT NULL,
    body          TEXT   NOT NULL
);
CREATE INDEX alert_silences_window ON alert_silences (ends_at_us);

-- Leases: which process is the one evaluator and sender, until when.
CREATE TABLE alert_leases (
    name          TEXT   PRIMARY KEY,
    holder        TEXT   NOT NULL,
    expires_at_us BIGINT NOT NULL
);
