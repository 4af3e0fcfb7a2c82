package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// FerretDB 1.24 looks documents up by _id with
//
//	SELECT _jsonb FROM <schema>.<table> WHERE _jsonb -> $1 @> $2
//
// the key ('_id') a parameter. Its own unique index on (_jsonb -> '_id') is
// a btree, which cannot answer @>, so every find, update and delete by _id
// read the whole collection: the saga's steps slowed down linearly as
// orders accumulated. A GIN index on the same expression answers @>, under
// a plan made for the statement's values (a custom plan: a generic one does
// not know the key is '_id'). So the stack
//
//   - has PostgreSQL plan every statement in FerretDB's database for its
//     values (plan_cache_mode = force_custom_plan; the planning costs tens
//     of microseconds, a sequential scan of a large collection tens of
//     milliseconds);
//   - gives every FerretDB collection table such a GIN index: the tables
//     that exist at `make up`, and, through an event trigger, every table
//     FerretDB creates later (a new MongoDB database or collection);
//   - builds these indexes without GIN's pending list (fastupdate = off).
//     With it, each insert appended the new _id to an unsorted list of up
//     to gin_pending_list_limit (4 MB) that every lookup read through until
//     a vacuum merged it: after a bulk load of 100,000 orders, finds and
//     updates by _id took 5.5-7.8 ms instead of 1.3-3.2 (make scale), and
//     PostgreSQL's own find 6.8 ms instead of 0.14 (EXPLAIN ANALYZE).
//     Without it, an insert puts its one key in the tree, as a btree
//     insert does.
//
// Everything here is idempotent and runs at each `make up` that starts
// PostgreSQL or FerretDB.

// ferretDBIDIndexPrefix starts the name of the GIN index the stack adds to
// a FerretDB table, followed by the table's oid: unique in its schema,
// at most 63 bytes, and apart from FerretDB's own index names.
const ferretDBIDIndexPrefix = "sagaflow_id_gin_"

// ferretDBIndexSQL creates, in FerretDB's database, the function that
// indexes one table, the event trigger that calls it for each table
// created, and runs it on the tables that exist.
var ferretDBIndexSQL = []string{
	// sagaflow_index_id(tbl) adds the GIN index to tbl when tbl is a
	// FerretDB collection table (a _jsonb column, not its metadata table).
	`CREATE OR REPLACE FUNCTION public.sagaflow_index_id(tbl oid) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
	nsp oid;
	sch text;
	rel text;
	idx text;
BEGIN
	SELECT n.oid, n.nspname, c.relname INTO nsp, sch, rel
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = tbl AND c.relkind = 'r'
		AND c.relname <> '` + ferretDBMetadataTable + `'
		AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		AND EXISTS (SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND NOT a.attisdropped);
	IF NOT FOUND THEN
		RETURN;
	END IF;
	idx := '` + ferretDBIDIndexPrefix + `' || tbl;
	EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> ''_id'')) WITH (fastupdate = off)',
		idx, sch, rel);
	-- An index made before fastupdate was turned off: turn it off and
	-- move what its pending list holds into the index.
	IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = idx
			AND c.relnamespace = nsp AND 'fastupdate=off' = ANY (c.reloptions)) THEN
		EXECUTE format('ALTER INDEX %I.%I SET (fastupdate = off)', sch, idx);
		PERFORM gin_clean_pending_list(format('%I.%I', sch, idx)::regclass);
	END IF;
END
$fn$`,
	`CREATE OR REPLACE FUNCTION public.sagaflow_index_new_tables() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
	obj record;
BEGIN
	FOR obj IN SELECT objid FROM pg_event_trigger_ddl_commands()
		WHERE command_tag = 'CREATE TABLE' AND object_type = 'table'
	LOOP
		PERFORM public.sagaflow_index_id(obj.objid);
	END LOOP;
END
$fn$`,
	`DO $do$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'sagaflow_index_new_tables') THEN
		CREATE EVENT TRIGGER sagaflow_index_new_tables ON ddl_command_end
			WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.sagaflow_index_new_tables();
	END IF;
END
$do$`,
	`SELECT public.sagaflow_index_id(c.oid) FROM pg_class c WHERE c.relkind = 'r'`,
}

// setupFerretDBIndexes makes FerretDB's lookups by _id use an index (see
// above) in FerretDB's database of our cluster.
func (l pgLayout) setupFerretDBIndexes(ctx context.Context, port int) error {
	admin, err := l.adminConnect(ctx, port, "postgres")
	if err != nil {
		return err
	}
	defer admin.Close(context.Background())
	ident := pgx.Identifier{pgFerretDB}.Sanitize()
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" SET plan_cache_mode = force_custom_plan"); err != nil {
		return fmt.Errorf("database %s: plan_cache_mode: %w", pgFerretDB, err)
	}
	conn, err := l.adminConnect(ctx, port, pgFerretDB)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, stmt := range ferretDBIndexSQL {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("database %s: index FerretDB's _id lookups: %w", pgFerretDB, err)
		}
	}
	return nil
}
