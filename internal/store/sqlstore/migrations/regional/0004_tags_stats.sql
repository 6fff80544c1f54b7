-- Tags (created by their first use) and statistics counters, kept by the
-- transactions that write events. A counter row is one (domain, tag,
-- resolution, bucket, name) split in shards, so that concurrent
-- transactions on PostgreSQL seldom wait for each other's row; readers sum
-- the shards. tag is '' for a domain's totals; account-wide stats read
-- every domain by name, so no other index is needed. stat_uniques remembers who
-- already opened or clicked a message, for the unique counters.
CREATE TABLE tags (
    domain       TEXT NOT NULL,
    tag          TEXT {{BINARY}} NOT NULL,
    description  TEXT NOT NULL,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    PRIMARY KEY (domain, tag)
) {{WITHOUT ROWID}};

CREATE TABLE stat_counters (
    domain  TEXT NOT NULL,
    tag     TEXT NOT NULL,
    res     TEXT NOT NULL,
    bucket  BIGINT NOT NULL,
    name    TEXT NOT NULL,
    shard   INTEGER NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (domain, tag, res, bucket, name, shard)
) {{WITHOUT ROWID}};
-- CompactStats folds the shards of past buckets into shard 0; this finds
-- them (it stays empty on SQLite, which writes shard 0 only).
CREATE INDEX stat_counters_shards ON stat_counters (bucket) WHERE shard > 0;

CREATE TABLE stat_uniques (
    domain      TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    type        TEXT NOT NULL,
    PRIMARY KEY (domain, message_id, recipient, type)
) {{WITHOUT ROWID}};
