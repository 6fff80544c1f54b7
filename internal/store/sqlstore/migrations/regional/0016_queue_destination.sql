-- Jobs by destination, oldest first. A claim that skips destinations at
-- their connection limit (or with claimed jobs waiting for one) reads the queue
-- destination by destination through this index, so its cost follows the
-- number of destinations, not the due jobs of the ones it skips: with
-- queue_due alone it walked every due job of a skipped destination (19.5 ms
-- per 100,000 on SQLite). ReleaseDeferred for one destination can use it too. It
-- costs one more index entry per accepted recipient (docs/performance.md).
CREATE INDEX queue_destination ON queue (rcpt_domain, next_attempt_at, id);
