#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a folder of its own, for the blog's tests.
#
#   pg-cluster.sh start DIR PORT   creates the cluster in DIR on first use, starts it on
#                                  127.0.0.1:PORT (socket in DIR); user `postgres`, no password
#   pg-cluster.sh stop DIR         stops it (fast shutdown); does nothing if it is not running
#
# The server refuses to run as root, so as root the cluster belongs to the `postgres` user (the
# Debian package creates it); as anyone else it belongs to that user.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "pg-cluster.sh: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
  exit 1
fi

# From `/`: the caller's folder may be one that `postgres` cannot enter (a fresh clone's is 700).
as_owner() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

command=${1:?usage: pg-cluster.sh start DIR PORT | stop DIR}
dir=${2:?usage: pg-cluster.sh start DIR PORT | stop DIR}
case "$command" in
  start)
    port=${3:?usage: pg-cluster.sh start DIR PORT}
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 \
        --locale C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # fsync off: the cluster is thrown away, and the tests run faster.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
      start >/dev/null || { cat "$dir/log" >&2; exit 1; }
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
  *)
    echo "pg-cluster.sh: unknown command \`$command\`; expected \`start\` or \`stop\`" >&2
    exit 2
    ;;
esac
