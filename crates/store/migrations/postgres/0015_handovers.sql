-- Shift handovers and the morning checklist (issue 14 point 4).
--
-- `handovers`: one note per region and shift. The columns are what the
-- store filters, locks and enforces on; the body is the opsdeck-operations
-- crate's note as JSON (the playbook's four sections, pre-filled from
-- live state, and the snapshot they were filled from). An update names
-- the version it read and is refused when another writer got there first.
-- `notified_at_us` is set once, in the same transaction as the outbox
-- rows of the "not acknowledged" notice, so the lead is told once however
-- many processes see it due. No money and no secret is stored here.
CREATE TABLE handovers (
    id                 BIGSERIAL PRIMARY KEY,
    region             TEXT   NOT NULL,
    shift_start_us     BIGINT NOT NULL,
    shift_end_us       BIGINT NOT NULL,
    state              TEXT   NOT NULL,
    created_by         TEXT   NOT NULL,
    created_at_us      BIGINT NOT NULL,
    submitted_by       TEXT,
    submitted_at_us    BIGINT,
    acknowledged_by    TEXT,
    acknowledged_at_us BIGINT,
    notified_at_us     BIGINT,
    version            BIGINT NOT NULL,
    body               TEXT   NOT NULL,
    -- One note per region and shift: two people starting one at once get
    -- the same note.
    UNIQUE (region, shift_start_us)
);
-- The notifier reads the submitted, unacknowledged, unnotified ones.
CREATE INDEX handovers_state ON handovers (state, submitted_at_us);

-- The morning checklist's "checked by whom and when": one row per region,
-- local day (YYYY-MM-DD in the region's time zone) and item, so a new
-- local day starts unchecked without anything being deleted.
CREATE TABLE checklist_checks (
    region        TEXT   NOT NULL,
    local_day     TEXT   NOT NULL,
    item          TEXT   NOT NULL,
    checked_by    TEXT   NOT NULL,
    checked_at_us BIGINT NOT NULL,
    PRIMARY KEY (region, local_day, item)
);
