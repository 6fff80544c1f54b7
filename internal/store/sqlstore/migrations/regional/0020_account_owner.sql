-- Account-owned rows of the regional store carry their owner: '' is the
-- primary account (every row written before subaccounts existed, and by
-- any path that knows of no subaccount), otherwise a subaccount's id.
-- Domain-scoped rows (messages, events, suppressions, webhooks,
-- templates, tags, stats, SMTP credentials) are owned through their
-- domain, whose name is unique across the installation.
ALTER TABLE domains ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE mailing_lists ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
CREATE INDEX domains_account ON domains (account_id, name);
CREATE INDEX routes_account ON routes (account_id, priority, created_at, id);
CREATE INDEX mailing_lists_account ON mailing_lists (account_id, address);
