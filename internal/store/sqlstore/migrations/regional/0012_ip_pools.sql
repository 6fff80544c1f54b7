-- Dedicated IP pools (reference §13.1): a named list of the node's source
-- addresses. ips is a comma list of canonical addresses. Domains name their
-- pool in domains.pool_id (0001).
CREATE TABLE ip_pools (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    ips          TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
