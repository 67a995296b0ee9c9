#!/usr/bin/env bash
# Starts a private PostgreSQL cluster on 127.0.0.1 for the tests, installing
# PostgreSQL from Debian's packages if it is missing, and prints its URL.
# Usage: eval "$(.ci/postgres.sh start)"   …   .ci/postgres.sh stop
set -euo pipefail
DATA=${CAMPC_PG_DATA:-/tmp/campc-pg}
PORT=${CAMPC_PG_PORT:-55432}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

case "${1:-start}" in
start)
  if [ -z "$(bindir)" ]; then
    echo "installing PostgreSQL from Debian's packages" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  fi
  BIN=$(bindir)
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  case "$DATA" in /*) ;; *) DATA="$PWD/$DATA" ;; esac
  cd / # the postgres user may not be allowed into the caller's directory
  if [ -f "$DATA/postmaster.pid" ]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true
  fi
  rm -rf "$DATA"
  mkdir -p "$DATA"
  chown postgres "$DATA"
  runuser -u postgres -- "$BIN/initdb" -D "$DATA" -U postgres -A trust --no-sync >/dev/null
  runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA" -l "$DATA/log" -w \
    -o "-h 127.0.0.1 -p $PORT -k $DATA -c fsync=off -c max_connections=200" start >&2
  echo "export CAMPC_TEST_POSTGRES='postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable'"
  ;;
stop)
  BIN=$(bindir || true)
  if [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true
  fi
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
