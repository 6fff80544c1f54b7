-- The message path: bodies stored once, one queue row per recipient, the
-- event log (also the webhook outbox), and idempotency records.
CREATE TABLE messages (
    storage_key  TEXT PRIMARY KEY,
    domain       TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    sender       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    body         BLOB NOT NULL,
    meta         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX messages_expiry ON messages (expires_at);
CREATE INDEX messages_message_id ON messages (domain, message_id);

CREATE TABLE queue (
    id               {{SERIAL}},
    message_key      TEXT NOT NULL,
    domain           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    rcpt_domain      TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT NOT NULL,
    lease_owner      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    last_error       TEXT NOT NULL,
    vars             TEXT
);
-- Few indexes: every one costs page writes on the accept path. Claims use
-- queue_due; purge and per-message views use queue_message.
CREATE INDEX queue_due ON queue (next_attempt_at, id);
CREATE INDEX queue_message ON queue (message_key);

-- seq is the commit-order cursor for readers of the log (webhooks). On
-- PostgreSQL, txid records the writing transaction so readers can wait
-- for transactions still in flight before moving past a gap.
CREATE TABLE events (
    seq         {{SERIAL}},
    id          TEXT NOT NULL,
    domain      TEXT NOT NULL,
    type        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    ts          BIGINT NOT NULL,
    message_id  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    data        TEXT NOT NULL,
    txid        BIGINT NOT NULL DEFAULT {{TXID}}
);
CREATE INDEX events_domain_ts ON events (domain, ts, seq);
CREATE INDEX events_domain_recipient ON events (domain, recipient, ts);
CREATE INDEX events_domain_message ON events (domain, message_id);

CREATE TABLE idempotency (
    domain       TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    response     TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (domain, key)
);
CREATE INDEX idempotency_expiry ON idempotency (expires_at);
