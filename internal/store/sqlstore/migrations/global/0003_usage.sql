-- Usage details (the seed's "billing details"): per domain and month, how
-- many messages were accepted, delivered and failed. Counters only: no
-- message data ever reaches the global store. Each region's nodes write
-- the absolute totals of their own domains (idempotent upserts).
CREATE TABLE usage (
    domain      TEXT NOT NULL,
    month       TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    accepted    BIGINT NOT NULL,
    delivered   BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (domain, month)
);
CREATE INDEX usage_month ON usage (month);
