#!/usr/bin/env bash
# A private PostgreSQL server for tests.
#   scripts/pg.sh start DIR   initdb a cluster in DIR, start it on 127.0.0.1 (a free port),
#                             create role and database hmb
#   scripts/pg.sh url DIR     print the server's URL: postgresql://hmb@127.0.0.1:PORT/hmb
#   scripts/pg.sh stop DIR    stop the server and remove DIR
# Trust authentication on the unix socket (in DIR) and on loopback only; fsync and the other
# durability settings keep their defaults. As root, the cluster belongs to the postgres user.
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PGBIN/initdb" ] || { echo "pg.sh: no PostgreSQL server binaries (set PGBIN)" >&2; exit 1; }

usage() { echo "usage: scripts/pg.sh start|stop|url DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_of() {
  sed -n 's/^port = \([0-9]*\).*/\1/p' "$dir/data/postgresql.conf" | tail -n 1
}

case "$cmd" in
start)
  [ ! -e "$dir/data" ] || { echo "pg.sh: $dir/data exists (stop it first)" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
  fi
  chmod 0700 "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=reject >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # loopback only, trust; everything else refused
  as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
EOF
  as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
EOF
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$PGBIN/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE hmb LOGIN SUPERUSER" -c "CREATE DATABASE hmb OWNER hmb" >/dev/null
  echo "postgresql://hmb@127.0.0.1:$port/hmb"
  ;;
url)
  [ -f "$dir/data/postgresql.conf" ] || { echo "pg.sh: no cluster in $dir" >&2; exit 1; }
  echo "postgresql://hmb@127.0.0.1:$(port_of)/hmb"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
  rm -rf "$dir"
  ;;
*) usage ;;
esac
