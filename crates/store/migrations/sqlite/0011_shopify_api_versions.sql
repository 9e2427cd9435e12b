-- What Shopify's answers say about the API version, per source and API
-- (rest | graphql): the version asked for, the one that answered (an
-- expired pinned version silently falls forward, so they may differ) and
-- the latest X-Shopify-API-Deprecated-Reason with when that text was
-- first seen. Written by a sync run only when something changed; shown on
-- /sources.
CREATE TABLE shopify_api_versions (
    source               TEXT   NOT NULL,
    api                  TEXT   NOT NULL,
    requested            TEXT   NOT NULL,
    answered             TEXT,
    deprecation          TEXT,
    deprecation_since_us BIGINT,
    noted_at_us          BIGINT NOT NULL,
    PRIMARY KEY (source, api)
);
