-- The cleanup prunes the oldest events a batch at a time
-- (pgstore.PruneEvents): a range scan of this index, whatever the size of
-- the log.
CREATE INDEX IF NOT EXISTS events_occurred_at ON events (occurred_at);
