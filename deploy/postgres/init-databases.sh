#!/bin/sh
# The services' databases and the reporting database (the read store), for
# docker-compose.yml's postgres service: run by the postgres image once, when
# its data volume is created (/docker-entrypoint-initdb.d). As the local stack
# does it: one database per service (inventory, payments) and the reporting
# database, each owned by a login role of the same name; only that role may
# connect to it, and no login role may connect to the databases postgres and
# template1 (the superuser always can).
#
# Environment: POSTGRES_USER, POSTGRES_DB (the image's), INVENTORY_DB_PASSWORD,
# PAYMENTS_DB_PASSWORD and REPORTING_DB_PASSWORD.
#
# The image executes this file when it is executable and sources it
# otherwise, so it sets no shell option; a missing variable stops it, and its
# status is psql's (ON_ERROR_STOP: any failed statement).

: "${POSTGRES_USER:?}" "${INVENTORY_DB_PASSWORD:?}" "${PAYMENTS_DB_PASSWORD:?}" "${REPORTING_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
	-v inventory_password="$INVENTORY_DB_PASSWORD" \
	-v payments_password="$PAYMENTS_DB_PASSWORD" \
	-v reporting_password="$REPORTING_DB_PASSWORD" <<'SQL'
CREATE ROLE inventory LOGIN PASSWORD :'inventory_password';
CREATE DATABASE inventory OWNER inventory;
REVOKE ALL ON DATABASE inventory FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE inventory TO inventory;

CREATE ROLE payments LOGIN PASSWORD :'payments_password';
CREATE DATABASE payments OWNER payments;
REVOKE ALL ON DATABASE payments FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE payments TO payments;

CREATE ROLE reporting LOGIN PASSWORD :'reporting_password';
CREATE DATABASE reporting OWNER reporting;
REVOKE ALL ON DATABASE reporting FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE reporting TO reporting;

REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SQL
