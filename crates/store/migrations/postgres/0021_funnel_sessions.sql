-- Storefront funnel (issue 15 point 5): one row per session and local day.
--
-- Funnel events (web pixels' `page_viewed`, `product_added_to_cart`,
-- `checkout_started`, `checkout_completed`, ...) are not stored one by
-- one: sessions run ~50x orders and each sends several events. A row
-- holds the steps the session reached that day in the brand's time zone,
-- as bits (1 seen, 2 added to cart, 4 checkout started, 8 checkout
-- completed), and an event ORs its bits in: an event sent twice, a retried
-- batch, a late or out-of-order event all leave the same row, so events
-- are deduplicated without keeping their ids. `session_key` is a 63-bit
-- hash of (brand, session id): the session id itself is never stored.
-- `day` is the brand's local day, YYYY-MM-DD. No money, no person's data.
CREATE TABLE funnel_sessions (
    brand_id    TEXT   NOT NULL,
    day         TEXT   NOT NULL,
    session_key BIGINT NOT NULL,
    steps       BIGINT NOT NULL,
    -- INCLUDE: the day counts read `steps` from the key's index alone.
    PRIMARY KEY (brand_id, day, session_key) INCLUDE (steps)
);
