#!/usr/bin/env bash
# bench/cluster.sh: a throwaway PostgreSQL cluster around one command, like pg_virtualenv -t, but
# with the binaries of $PALS_PGBIN (default /usr/lib/postgresql/15/bin), so that a bench can run
# against a private copy of PostgreSQL with its own build of the extension installed
# (bench/private-install.sh) instead of the system's, which every checkout on the machine installs.
#
#   bench/cluster.sh [-o guc=value]... [--] command [args...]
#
# The command runs with PGHOST (a private socket directory), PGPORT, PGUSER=postgres and
# PGDATABASE=postgres in its environment, and PATH starting with the binaries; trust
# authentication (PGPASSWORD is set to a dummy for scripts that read it).  The cluster and its
# directory are removed when the command ends.  Runs the server as user postgres when run as root.
set -euo pipefail
gucs=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o) gucs+=("$2"); shift 2 ;;
        -t) shift ;;
        --) shift; break ;;
        *) break ;;
    esac
done
BIN="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}"
D=$(mktemp -d /tmp/pals_cluster.XXXXXX)
chmod 755 "$D"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$D"
as_pg "$BIN/initdb" -D "$D/data" -A trust -U postgres --no-sync >"$D/initdb.log" 2>&1 \
    || { cat "$D/initdb.log" >&2; rm -rf "$D"; exit 1; }
opts="-c listen_addresses='' -c unix_socket_directories=$D"
for g in "${gucs[@]}"; do opts="$opts -c $g"; done
stop() { as_pg "$BIN/pg_ctl" -D "$D/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$D"; }
trap stop EXIT
for try in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 30000))
    as_pg "$BIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 120 -o "-p $PORT $opts" start >/dev/null 2>&1 && break
    [ "$try" = 5 ] && { echo "cluster.sh: the server did not start:" >&2; tail -20 "$D/server.log" >&2; exit 1; }
done
export PGHOST="$D" PGPORT="$PORT" PGUSER=postgres PGDATABASE=postgres PGPASSWORD=trust PATH="$BIN:$PATH"
"$@"
