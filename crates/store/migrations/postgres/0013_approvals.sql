-- Approvals (issue 14 point 3): a risky change (a price change, a large
-- discount or refund, a new product, a content update) waits here for a
-- second person's decision, then its action runs once.
--
-- `state` is the compare-and-set every step takes: a decision only moves a
-- `pending` row whose `expires_at_us` is still ahead of the decision's time
-- (so expiry is enforced where the decision is recorded, whatever the page
-- showed); execution claims an `approved` row (or an `executing` one whose
-- lease ran out after a crash) before it runs the action, and the
-- idempotency key goes with every attempt so the receiver runs it once.
-- Money is minor units with its currency. Every step writes its audit_log
-- entry in the same transaction.
CREATE TABLE approvals (
    id               TEXT   PRIMARY KEY,
    kind             TEXT   NOT NULL,
    brand            TEXT   NOT NULL,
    summary          TEXT   NOT NULL,
    amount_minor     BIGINT,
    currency         TEXT,
    percent_bp       BIGINT,
    action           TEXT   NOT NULL,
    target_version   TEXT,
    requested_by     TEXT   NOT NULL,
    requested_via    TEXT   NOT NULL,
    requested_at_us  BIGINT NOT NULL,
    expires_at_us    BIGINT NOT NULL,
    approver_role    TEXT   NOT NULL,
    state            TEXT   NOT NULL,
    decided_by       TEXT,
    decided_at_us    BIGINT,
    decision_comment TEXT,
    idempotency_key  TEXT   NOT NULL UNIQUE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    lease_until_us   BIGINT,
    finished_at_us   BIGINT,
    outcome_note     TEXT
);
-- The approvals page and the pending count read by state, newest first.
CREATE INDEX approvals_state_requested ON approvals (state, requested_at_us);
