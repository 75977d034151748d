#!/bin/bash
# The primary's replication user and the pg_hba line that lets it stream. The postgres image runs
# this once, when it makes the data folder (/docker-entrypoint-initdb.d; it sources a script that
# is not executable, hence no `set -u` here). The line takes effect when the image's entrypoint
# restarts the server after its initialisation.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set user="$REPLICATION_USER" --set password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'password';
SQL
# `all` in the database column does not match replication connections: they need their own line.
echo "host replication $REPLICATION_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
