-- Regional store: a region's domain metadata and everything about its mail.
-- Times are Unix microseconds (UTC). BLOB becomes BYTEA on PostgreSQL.
CREATE TABLE domains (
    name                          TEXT PRIMARY KEY,
    id                            TEXT NOT NULL UNIQUE,
    state                         TEXT NOT NULL,
    type                          TEXT NOT NULL,
    spam_action                   TEXT NOT NULL,
    wildcard                      BOOLEAN NOT NULL,
    require_tls                   BOOLEAN NOT NULL,
    skip_verification             BOOLEAN NOT NULL,
    web_scheme                    TEXT NOT NULL,
    web_prefix                    TEXT NOT NULL,
    dkim_selector                 TEXT NOT NULL,
    dkim_key_bits                 INTEGER NOT NULL,
    dkim_private                  BLOB NOT NULL,
    dkim_public                   TEXT NOT NULL,
    force_dkim_authority          BOOLEAN NOT NULL,
    use_automatic_sender_security BOOLEAN NOT NULL,
    encrypt_incoming_message      BOOLEAN NOT NULL,
    message_ttl                   BIGINT NOT NULL,
    archive_to                    TEXT NOT NULL,
    ips                           TEXT NOT NULL,
    pool_id                       TEXT NOT NULL,
    mailfrom_host                 TEXT NOT NULL,
    dns_checks                    TEXT NOT NULL,
    created_at                    BIGINT NOT NULL,
    updated_at                    BIGINT NOT NULL
);

CREATE TABLE credentials (
    login       TEXT PRIMARY KEY,
    domain      TEXT NOT NULL,
    hash        BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX credentials_domain ON credentials (domain, login);
