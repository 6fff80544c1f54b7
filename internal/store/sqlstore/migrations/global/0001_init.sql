-- Global store: what every region shares (account, API keys, domain names).
-- Times are Unix microseconds (UTC). BLOB becomes BYTEA on PostgreSQL.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    singleton   INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1)
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    kind            TEXT NOT NULL,
    role            TEXT NOT NULL,
    domain_name     TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    hash            BLOB NOT NULL UNIQUE,
    sealed          BLOB,
    is_primary      BOOLEAN NOT NULL DEFAULT FALSE,
    requestor       TEXT NOT NULL DEFAULT '',
    user_name       TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL DEFAULT 0,
    is_disabled     BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_domain ON api_keys (domain_name);

CREATE TABLE domains (
    name        TEXT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE meta (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
