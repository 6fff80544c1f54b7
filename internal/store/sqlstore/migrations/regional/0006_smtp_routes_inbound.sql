-- SMTP services: routes (account-level, region-bound) and the inbound
-- queue (messages the MX accepted and the jobs that route them). SMTP
-- credentials are in 0001.
CREATE TABLE routes (
    id           TEXT PRIMARY KEY,
    priority     INTEGER NOT NULL,
    description  TEXT NOT NULL,
    expression   TEXT NOT NULL,
    actions      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX routes_order ON routes (priority, created_at, id);

CREATE TABLE inbound_messages (
    storage_key  TEXT PRIMARY KEY,
    domain       TEXT NOT NULL,
    sender       TEXT NOT NULL,
    recipients   TEXT NOT NULL,
    helo         TEXT NOT NULL,
    client_ip    TEXT NOT NULL,
    tls          BOOLEAN NOT NULL,
    body         BLOB NOT NULL,
    received_at  BIGINT NOT NULL
);

CREATE TABLE inbound_jobs (
    id               {{SERIAL}},
    kind             TEXT NOT NULL,
    message_key      TEXT NOT NULL,
    domain           TEXT NOT NULL,
    payload          TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT NOT NULL,
    lease_owner      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    last_error       TEXT NOT NULL
);
CREATE INDEX inbound_jobs_due ON inbound_jobs (next_attempt_at, id);
CREATE INDEX inbound_jobs_message ON inbound_jobs (message_key);
