-- Leased jobs only (a partial index: new jobs are unleased, so accepting
-- mail never writes to it). Lease renewal and release find an engine's
-- jobs here instead of scanning the queue.
CREATE INDEX queue_leased ON queue (lease_owner, lease_until) WHERE lease_until > 0;
