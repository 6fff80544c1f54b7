-- Exports (/v3/exports, mailgun-go): a list endpoint's records written as
-- CSV in the background. url is the list endpoint as the client named it;
-- domain and list are what it resolved to. data holds the CSV once the
-- state is complete; a worker claims queued exports (and those whose lease
-- ran out) with a lease, as suppression imports are claimed.
CREATE TABLE exports (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    domain       TEXT NOT NULL,
    list         TEXT NOT NULL,
    state        TEXT NOT NULL,
    rows_done    BIGINT NOT NULL,
    message      TEXT NOT NULL,
    data         BLOB NOT NULL,
    lease_until  BIGINT NOT NULL,
    lease_owner  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX exports_created ON exports (created_at);
CREATE INDEX exports_work ON exports (state, lease_until);
