-- Suppression lists (bounces, unsubscribes, complaints, allowlist) in one
-- table keyed by domain, list and lower-case address; tags is a JSON array
-- (unsubscribes), hits a complaint count. Imports keep their CSV until
-- done so that another node can finish one whose owner died.
CREATE TABLE suppressions (
    domain      TEXT NOT NULL,
    list        TEXT NOT NULL,
    address     TEXT {{BINARY}} NOT NULL,
    code        TEXT NOT NULL,
    error       TEXT NOT NULL,
    tags        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    type        TEXT NOT NULL,
    hits        INTEGER NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (domain, list, address)
) {{WITHOUT ROWID}};
-- The send-time check looks an address up in every list at once.
CREATE INDEX suppressions_address ON suppressions (domain, address);

CREATE TABLE suppression_imports (
    id           TEXT PRIMARY KEY,
    domain       TEXT NOT NULL,
    list         TEXT NOT NULL,
    state        TEXT NOT NULL,
    data         BLOB NOT NULL,
    rows_done    BIGINT NOT NULL,
    added        BIGINT NOT NULL,
    failed       BIGINT NOT NULL,
    errors       TEXT NOT NULL,
    message      TEXT NOT NULL,
    lease_until  BIGINT NOT NULL,
    lease_owner  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX suppression_imports_domain ON suppression_imports (domain, created_at);
CREATE INDEX suppression_imports_work ON suppression_imports (state, lease_until);
