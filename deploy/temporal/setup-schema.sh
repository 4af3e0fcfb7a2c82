#!/bin/sh
# Temporal's schema on its PostgreSQL, for docker-compose.yml's one-shot
# temporal-schema service (temporalio/admin-tools): creates the databases
# temporal and temporal_visibility when they are missing, then brings each
# schema to the version this admin-tools image ships. Safe to run on every
# start: setup-schema -v 0.0 leaves a newer schema alone and update-schema
# applies only the versions not applied yet.
#
# Environment: SQL_PLUGIN (postgres12), SQL_HOST, SQL_PORT, SQL_USER and
# SQL_PASSWORD (read by temporal-sql-tool and, as PGPASSWORD, by psql).
set -eu

: "${SQL_PLUGIN:?}" "${SQL_HOST:?}" "${SQL_PORT:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"
schema_dir=/etc/temporal/schema/postgresql/v12

sql_tool() {
	temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

# has_database NAME: whether the server has that database.
has_database() {
	PGPASSWORD="$SQL_PASSWORD" psql -h "$SQL_HOST" -p "$SQL_PORT" -U "$SQL_USER" -d postgres -tA \
		-v ON_ERROR_STOP=1 -v name="$1" <<'SQL' | grep -qx 1
SELECT 1 FROM pg_database WHERE datname = :'name';
SQL
}

for db in temporal temporal_visibility; do
	if has_database "$db"; then
		echo "database $db exists"
	else
		sql_tool --db "$db" create
	fi
done

sql_tool --db temporal setup-schema -v 0.0
sql_tool --db temporal update-schema -d "$schema_dir/temporal/versioned"
sql_tool --db temporal_visibility setup-schema -v 0.0
sql_tool --db temporal_visibility update-schema -d "$schema_dir/visibility/versioned"
echo "Temporal schema ready"
