-- What an approval request is about, as its requester keys it (issue 15:
-- a refund from the refunds queue is `refunds_queue:{source}/{external_id}`).
-- The queue finds the approval its item waits for by this key; it used to
-- match a prefix of the summary, so "…/ret-1" also matched "…/ret-10".
-- NULL for requests about nothing opsdeck tracks (the dashboard's form, a
-- custom platform's own change).
ALTER TABLE approvals ADD COLUMN subject TEXT;
-- The queue reads a subject's requests, newest first.
CREATE INDEX approvals_subject ON approvals (subject, requested_at_us);
