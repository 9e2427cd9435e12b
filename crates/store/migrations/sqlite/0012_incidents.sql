-- Incidents (issue 14 point 1). The body is the opsdeck-operations crate's
-- Incident (title, timestamps of each state reached, timeline, postmortem
-- with its action items) as JSON; the columns are what the store filters,
-- orders and locks on. An update names the version it read and is refused
-- when another writer got there first, so two people acting at once never
-- overwrite each other's change. No money and no secret is stored here.
CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    severity       TEXT   NOT NULL,
    state          TEXT   NOT NULL,
    declared_at_us BIGINT NOT NULL,
    updated_at_us  BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    body           TEXT   NOT NULL
);
-- The banner, the dashboard and the status page read the live ones.
CREATE INDEX incidents_state ON incidents (state, declared_at_us);

-- Alert episodes linked to an incident, read both ways: the incident lists
-- its alerts, an alert's page shows its incident.
CREATE TABLE incident_alerts (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    episode_id  TEXT   NOT NULL,
    linked_at_us BIGINT NOT NULL,
    PRIMARY KEY (incident_id, episode_id)
);
CREATE INDEX incident_alerts_episode ON incident_alerts (episode_id);

-- The notices sent for an incident (its declaration, each escalation step
-- and repeat), by key: the key is the primary key, so a notice is queued
-- once however many processes or passes see it due. Written in the same
-- transaction as the notice's rows in alert_outbox.
CREATE TABLE incident_notices (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    notice_key  TEXT   NOT NULL,
    at_us       BIGINT NOT NULL,
    PRIMARY KEY (incident_id, notice_key)
);

-- The status of each component (checkout, payments, ...) per scope (a
-- brand until regions exist), as the public status page shows it. A
-- component with no row is operational.
CREATE TABLE incident_components (
    component     TEXT   NOT NULL,
    scope         TEXT   NOT NULL,
    status        TEXT   NOT NULL,
    updated_at_us BIGINT NOT NULL,
    updated_by    TEXT   NOT NULL,
    PRIMARY KEY (component, scope)
);
