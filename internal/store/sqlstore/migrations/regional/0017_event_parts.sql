-- Events keep what their message holds once (issue 16). An event's JSON
-- repeated its message's headers, tags, user variables, flags and storage:
-- with 1,000 addresses in To, 35 KB per event. That run of members now
-- lives once in event_parts, under its message and a digest of its bytes,
-- and the event row keeps the rest with the byte offset where the run goes
-- back (part_at); part is NULL (and the JSON whole) for rows written
-- before, which are read as they are. ts is the time of the latest event
-- that uses the part, for purging.
CREATE TABLE event_parts (
    domain      TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    digest      TEXT NOT NULL,
    body        TEXT NOT NULL,
    ts          BIGINT NOT NULL,
    PRIMARY KEY (domain, message_id, digest)
);
CREATE INDEX event_parts_ts ON event_parts (ts);
ALTER TABLE events ADD COLUMN part TEXT;
ALTER TABLE events ADD COLUMN part_at INTEGER NOT NULL DEFAULT -1;

-- Indexes that match the Events API's pushed-down filters and its order
-- (ts, seq), so a page of event=X or message-id=X reads only its rows in
-- order instead of sorting all of a message's or a type's events.
-- recipient=X already has (domain, recipient, ts). On SQLite seq is the
-- rowid, which ends every index.
CREATE INDEX events_domain_type ON events (domain, type, ts, seq);
CREATE INDEX events_domain_message_ts ON events (domain, message_id, ts, seq);
DROP INDEX events_domain_message;
