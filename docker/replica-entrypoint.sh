#!/bin/bash
# The streaming replica (docker/compose.yml): waits for the primary, takes a base backup
# into an empty data folder (`pg_basebackup -R` writes standby.signal and primary_conninfo), then
# starts PostgreSQL through the image's own entrypoint, which finds the folder initialised and
# only starts the server, as a hot standby. Later starts skip the backup and just stream.
set -Eeo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"
: "${PRIMARY_HOST:=postgres}"
: "${PRIMARY_PORT:=5432}"
: "${REPLICATION_USER:=replicator}"

until pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT"; do
    echo "replica: waiting for the primary at $PRIMARY_HOST:$PRIMARY_PORT"
    sleep 1
done

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "replica: the data folder is empty; taking a base backup from $PRIMARY_HOST:$PRIMARY_PORT"
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$PGDATA"
        as_postgres=(gosu postgres)
    else
        as_postgres=()
    fi
    # The password in the connection string, so that -R writes it into primary_conninfo too.
    "${as_postgres[@]}" pg_basebackup \
        -d "host=$PRIMARY_HOST port=$PRIMARY_PORT user=$REPLICATION_USER password=$REPLICATION_PASSWORD" \
        -D "$PGDATA" -R -X stream -c fast
    echo "replica: base backup done; starting as a standby"
fi

exec docker-entrypoint.sh postgres
