-- Webhooks (reference §8) and their outbox pipelines (package webhooks).

-- Which URLs get which kinds of a domain's events, in the order given.
CREATE TABLE webhooks (
    domain    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    url       TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (domain, kind, url)
);

-- One pipeline per (domain, URL): its position (txid, seq) in the events
-- outbox, the node holding it (lease), and a summary of its attempts.
CREATE TABLE webhook_cursors (
    domain           TEXT NOT NULL,
    url              TEXT NOT NULL,
    txid             BIGINT NOT NULL,
    seq              BIGINT NOT NULL,
    lease_owner      TEXT NOT NULL,
    lease_until      BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    posted           BIGINT NOT NULL,
    failures         BIGINT NOT NULL,
    dropped          BIGINT NOT NULL,
    last_attempt_at  BIGINT NOT NULL,
    last_status      INTEGER NOT NULL,
    last_error       TEXT NOT NULL,
    PRIMARY KEY (domain, url)
);

-- Events a pipeline failed to POST and will try again; the event itself
-- stays in events (joined on seq).
CREATE TABLE webhook_retries (
    domain            TEXT NOT NULL,
    url               TEXT NOT NULL,
    event_seq         BIGINT NOT NULL,
    event_id          TEXT NOT NULL,
    kind              TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    first_attempt_at  BIGINT NOT NULL,
    last_attempt_at   BIGINT NOT NULL,
    next_attempt_at   BIGINT NOT NULL,
    last_status       INTEGER NOT NULL,
    last_error        TEXT NOT NULL,
    PRIMARY KEY (domain, url, event_seq)
);
CREATE INDEX webhook_retries_due ON webhook_retries (domain, url, next_attempt_at);

-- Pipelines read a domain's events in (txid, seq) order.
CREATE INDEX events_outbox ON events (domain, txid, seq);
