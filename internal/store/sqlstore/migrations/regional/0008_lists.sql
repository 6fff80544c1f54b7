-- Mailing lists (account-level, region-bound) and their members
-- (reference §5). Addresses are stored lower case; vars is a JSON object.
CREATE TABLE mailing_lists (
    address           TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    access_level      TEXT NOT NULL,
    reply_preference  TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);

CREATE TABLE list_members (
    list        TEXT NOT NULL,
    address     TEXT NOT NULL,
    name        TEXT NOT NULL,
    vars        TEXT NOT NULL,
    subscribed  BOOLEAN NOT NULL,
    PRIMARY KEY (list, address)
);
