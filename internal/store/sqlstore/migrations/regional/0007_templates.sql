-- Stored templates of a domain and their versions (reference §13.2).
-- headers is a JSON object (From, Subject, Reply-To).
CREATE TABLE templates (
    domain       TEXT NOT NULL,
    name         TEXT NOT NULL,
    id           TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (domain, name)
);

CREATE TABLE template_versions (
    domain      TEXT NOT NULL,
    template    TEXT NOT NULL,
    tag         TEXT NOT NULL,
    id          TEXT NOT NULL,
    engine      TEXT NOT NULL,
    comment     TEXT NOT NULL,
    content     TEXT NOT NULL,
    headers     TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (domain, template, tag)
);
