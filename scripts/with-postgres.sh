#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: `scripts/with-postgres.sh swift test -c release`.
#
# Creates a cluster in a temporary folder (initdb, Debian's PostgreSQL 15 or whatever version is
# installed), starts it on a free loopback port, creates the database `fusebox`, exports
#   FUSEBOX_TEST_POSTGRES_URL=postgres://fusebox:fusebox@127.0.0.1:PORT/fusebox
# for the command (the PostgreSQL tests connect there; passwords are checked, with SCRAM, so the
# tests can also prove that a wrong one is refused), then stops the server and removes the folder,
# whatever the command's outcome. PostgreSQL refuses to run as root: as root, the cluster belongs
# to the `postgres` user. Exits with the command's status. Without PostgreSQL's server installed
# (Debian: apt-get install postgresql), it says so and runs the command without one: the
# PostgreSQL tests then report as skipped (and fail under CI=true).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "with-postgres: PostgreSQL's server is not installed (apt-get install postgresql); running without it" >&2
    exec "$@"
fi

folder=$(mktemp -d /tmp/fusebox-postgres.XXXXXX)
chmod 755 "$folder"
as_owner=()
if [[ $(id -u) == 0 ]]; then
    chown postgres "$folder"
    as_owner=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" stop -m fast >/dev/null 2>&1 || true
    rm -rf "$folder"
}
trap stop EXIT

echo fusebox >"$folder/password"
chmod 644 "$folder/password"
"${as_owner[@]}" "$bin/initdb" -D "$folder/data" -U fusebox --pwfile="$folder/password" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-instructions >"$folder/initdb.log" 2>&1 ||
    { cat "$folder/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w start \
    -o "-p $port -k $folder -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" >/dev/null ||
    { cat "$folder/server.log" >&2; exit 1; }
PGPASSWORD=fusebox "$bin/createdb" -h 127.0.0.1 -p "$port" -U fusebox fusebox

export FUSEBOX_TEST_POSTGRES_URL="postgres://fusebox:fusebox@127.0.0.1:$port/fusebox?sslmode=disable"
# The server's control program, for tests that restart it (a connection dropped mid-write).
export FUSEBOX_TEST_POSTGRES_CTL="${as_owner[*]} $bin/pg_ctl -D $folder/data"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (folder $folder)" >&2
status=0
"$@" || status=$?
exit $status
