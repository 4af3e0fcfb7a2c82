-- Each event carries the id of the transaction that wrote it, so a reader
-- can resume from a position (tx_id, id) without ever skipping an event:
-- ids are taken before commit, so a transaction still open may commit an
-- event with an id below one already read. A reader only reads events of
-- transactions older than the oldest one still running
-- (pg_snapshot_xmin(pg_current_snapshot())), in (tx_id, id) order; every
-- such transaction has ended, so nothing can appear behind its position
-- (pgstore.ReadEvents). Rows written before this column existed share the
-- migration's transaction id and keep their id order.
ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_position ON events (tx_id, id);
