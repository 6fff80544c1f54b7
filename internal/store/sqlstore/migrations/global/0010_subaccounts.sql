-- Subaccounts (reference §13.4): tenants of the installation's one
-- account, which is their parent. A subaccount's id is what its API keys
-- (api_keys.account_id) and its domain names (domains.account_id) carry;
-- rows of the primary account keep the account's own id. status is open
-- or disabled (a disabled subaccount keeps its data and may read, but
-- cannot send).
CREATE TABLE subaccounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX subaccounts_order ON subaccounts (created_at, id);

-- api_keys.account_id referenced accounts (id), where only the primary
-- account is; it now names a subaccount too, so the table is rebuilt
-- without that reference (the portable way: SQLite cannot drop one).
CREATE TABLE api_keys_v10 (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
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
INSERT INTO api_keys_v10 (id, account_id, kind, role, domain_name, description, hash, sealed, is_primary,
    requestor, user_name, created_at, updated_at, expires_at, is_disabled, disabled_reason)
SELECT id, account_id, kind, role, domain_name, description, hash, sealed, is_primary,
    requestor, user_name, created_at, updated_at, expires_at, is_disabled, disabled_reason FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v10 RENAME TO api_keys;
CREATE INDEX api_keys_domain ON api_keys (domain_name);
CREATE INDEX api_keys_account ON api_keys (account_id);
CREATE INDEX domains_account ON domains (account_id, name);
