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
CREATE INDEX api_keys_account ON api_keys (account_id);
CREATE INDEX domains_account ON domains (account_id, name);
